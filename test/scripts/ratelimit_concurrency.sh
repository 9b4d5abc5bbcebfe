#!/usr/bin/env bash
# Rate limiter exactness under concurrency, in both modes, with real sessions:
# pgbench, 8 clients x 500 calls each, on the suite's shm (preloaded) and tbl clusters.
#  1. one key, capacity 100 per hour          -> exactly 100 allowed
#  2. 10 keys at once, capacity 100 per hour  -> exactly 100 allowed on each key
#  3. check_rate_limit for 4 users (one profile of 50 per hour) -> exactly 50 each
# Every allowed call inserts a row into a log table, so the count is exact.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -u
DB=rl_concurrency

for C in shm tbl; do
  echo "== $C"
  ff_psql "$C" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
  ff_psql "$C" -d "$DB" -f "$FF_SRC/test/setup_db.sql" >/dev/null 2>&1
  ff_psql "$C" -d "$DB" >/dev/null <<'SQL'
CREATE TABLE rl_hits (k text NOT NULL, who text);
GRANT INSERT, SELECT ON rl_hits TO PUBLIC;
INSERT INTO rate_limit_profiles VALUES ('rl_conc', 50, '1 hour');
SQL
  mode=$(ff_psql "$C" -d "$DB" -Atc "SELECT mode FROM ff_status() WHERE component = 'rate_limiter'")
  [ "$C" = shm ] && want=shared_memory || want=table
  check "$C mode" "$want" "$mode"

  cat > "$FF_OUT/rl_one.sql" <<'SQL'
INSERT INTO rl_hits SELECT 'one' FROM rate_limit_take('conc/one', 100, interval '1 hour') t WHERE t.allowed;
SQL
  cat > "$FF_OUT/rl_many.sql" <<'SQL'
\set k random(1, 10)
INSERT INTO rl_hits SELECT 'many/' || :k::int FROM rate_limit_take('conc/many/' || :k::int, 100, interval '1 hour') t WHERE t.allowed;
SQL
  cat > "$FF_OUT/rl_check.sql" <<'SQL'
INSERT INTO rl_hits SELECT 'check', current_setting('request.jwt.claim.sub') WHERE check_rate_limit('rl_conc');
SQL
  [ "$(id -u)" -eq 0 ] && chown postgres: "$FF_OUT"/rl_*.sql
  bench() { ff_as_pg env PGOPTIONS="${PGOPT:-}" "$FF_PGBIN/pgbench" -n -M prepared -c 8 -j 8 -t 500 \
              -h "$FF_STAGE/$C" -p 5432 -U postgres -f "$1" "$DB" > "$FF_OUT/rl_pgbench_${C}_$(basename $1).log" 2>&1 \
              || { fail "$C pgbench -f $(basename $1)" "pgbench failed"; tail -5 "$FF_OUT/rl_pgbench_${C}_$(basename $1).log"; }; }
  bench "$FF_OUT/rl_one.sql"
  check "$C one key (4000 calls)" 100 "$(ff_psql "$C" -d "$DB" -Atc "SELECT count(*) FROM rl_hits WHERE k = 'one'")"
  bench "$FF_OUT/rl_many.sql"
  check "$C 10 keys (4000 calls): keys at exactly 100" \
    10 "$(ff_psql "$C" -d "$DB" -Atc "SELECT count(*) FROM (SELECT k FROM rl_hits WHERE k LIKE 'many/%' GROUP BY k HAVING count(*) = 100) s")"
  check "$C 10 keys: total allowed" 1000 "$(ff_psql "$C" -d "$DB" -Atc "SELECT count(*) FROM rl_hits WHERE k LIKE 'many/%'")"
  # check_rate_limit: 4 users, 2 clients each (the subject comes from the connection's claim).
  for u in 1 2 3 4; do
    PGOPT="-c request.jwt.claim.sub=00000000-0000-4000-8000-00000000000$u" \
      ff_as_pg env PGOPTIONS="-c request.jwt.claim.sub=00000000-0000-4000-8000-00000000000$u" \
      "$FF_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -t 200 -h "$FF_STAGE/$C" -p 5432 -U postgres \
      -f "$FF_OUT/rl_check.sql" "$DB" > "$FF_OUT/rl_pgbench_check_${C}_$u.log" 2>&1 &
  done
  wait
  check "$C check_rate_limit: users at exactly 50 (of 400 calls each)" \
    4 "$(ff_psql "$C" -d "$DB" -Atc "SELECT count(*) FROM (SELECT who FROM rl_hits WHERE k = 'check' GROUP BY who HAVING count(*) = 50) s")"
  # The bucket really is empty now, and a reset refills it.
  check "$C one key empty" f "$(ff_psql "$C" -d "$DB" -Atc "SELECT allowed FROM rate_limit_take('conc/one', 100, interval '1 hour')")"
  ff_psql "$C" -d "$DB" -Atc "SELECT rate_limit_reset('conc/one')" >/dev/null
  check "$C one key after reset" 100 "$(ff_psql "$C" -d "$DB" -Atc "SELECT remaining FROM rate_limit_take('conc/one', 100, interval '1 hour', 0)")"
  if [ "$C" = tbl ]; then
    check "tbl one row per key" 14 "$(ff_psql "$C" -d "$DB" -Atc "SELECT count(*) FROM rate_limit_counters WHERE key LIKE 'conc/%' OR key LIKE 'rl_conc:%'")"
  fi
  # Clean up shm state of this database's keys, then the database.
  ff_psql "$C" -d "$DB" -Atc "SELECT count(rate_limit_reset(k)) FROM (SELECT 'conc/many/' || g AS k FROM generate_series(1, 10) g UNION ALL SELECT 'rl_conc:u:00000000-0000-4000-8000-00000000000' || g FROM generate_series(1, 4) g) s" >/dev/null
  ff_psql "$C" -d postgres -c "DROP DATABASE $DB" >/dev/null
done
check_done
