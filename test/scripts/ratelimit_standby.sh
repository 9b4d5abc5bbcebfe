#!/usr/bin/env bash
# Shared-memory rate limiter on a hot standby: check_rate_limit and rate_limit_take work
# there (read-only, no table writes), and a profile change committed on the primary
# reaches the standby's per-backend profile cache through WAL replay.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -u
P=rl_prim; S=rl_stby

ff_cluster_start "$P" 1 || { tail -20 "$FF_STAGE/$P/server.log"; exit 1; }
trap 'ff_cluster_stop "$S"; ff_cluster_stop "$P"' EXIT
ff_psql "$P" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null
ff_psql "$P" -d postgres -c "CREATE DATABASE rl" >/dev/null
ff_psql "$P" -d rl -f "$FF_SRC/test/setup_db.sql" >/dev/null 2>&1
ff_psql "$P" -d rl -c "INSERT INTO rate_limit_profiles VALUES ('rl_stby', 5, '1 hour')" >/dev/null

ff_cluster_stop "$S" || true
rm -rf "$FF_STAGE/$S"; mkdir -p "$FF_STAGE/$S"; [ "$(id -u)" -eq 0 ] && chown postgres: "$FF_STAGE/$S"
ff_as_pg "$FF_PGBIN/pg_basebackup" -h "$FF_STAGE/$P" -p 5432 -U postgres -D "$FF_STAGE/$S/data" -R -X stream -c fast
echo "unix_socket_directories = '$FF_STAGE/$S'" | ff_as_pg tee -a "$FF_STAGE/$S/data/postgresql.conf" >/dev/null
ff_as_pg "$FF_PGBIN/pg_ctl" -D "$FF_STAGE/$S/data" -l "$FF_STAGE/$S/server.log" -w -t 60 start >/dev/null
check "standby in recovery" t "$(ff_psql "$S" -d rl -Atc "SELECT pg_is_in_recovery()")"
check "standby mode" shared_memory "$(ff_psql "$S" -d rl -Atc "SELECT mode FROM ff_status() WHERE component = 'rate_limiter'")"
check "check_rate_limit on the standby: 5 of 6" \
  "true,true,true,true,true,false" "$(ff_psql "$S" -d rl -Atc "SELECT string_agg(check_rate_limit('rl_stby')::text, ',') FROM generate_series(1, 6)")"
check "rate_limit_take on the standby" \
  "true/1" "$(ff_psql "$S" -d rl -Atc "SELECT allowed || '/' || remaining FROM rate_limit_take('stby', 3, '1 hour', 2)")"
# One standby session: cache the profile, change it on the primary, see the change.
out=$(ff_psql "$S" -d rl -At -v ON_ERROR_STOP=0 -v prim="$FF_STAGE/$P" 2>&1 <<SQL
SELECT check_rate_limit('rl_stby', 0);
\! $FF_PGBIN/psql -X -q -h $FF_STAGE/$P -U postgres -d rl -c "UPDATE rate_limit_profiles SET capacity = 2 WHERE name = 'rl_stby'"
SELECT pg_sleep(2);
SELECT check_rate_limit('rl_stby', 3);
SQL
)
check "profile change replayed into the standby's cache" 1 "$(echo "$out" | grep -c 'capacity (2)')"
check "primary keeps its own buckets" t "$(ff_psql "$P" -d rl -Atc "SELECT check_rate_limit('rl_stby')")"
if grep -E "PANIC|TRAP|terminated by signal" "$FF_STAGE/$S/server.log" "$FF_STAGE/$P/server.log"
then fail "server logs: no PANIC, TRAP or crash"; else pass "server logs: no PANIC, TRAP or crash"; fi
check_done
