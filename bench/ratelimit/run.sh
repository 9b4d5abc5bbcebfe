#!/usr/bin/env bash
# Rate-limiter benchmark (issues 3 and 10): pgbench -M prepared, 2 clients, every variant
# side by side (interleaved rounds, bench/lib.sh ff_bench_compare), medians and ratios:
#   floor         SELECT 1                              (as postgres)
#   now           SELECT now(): a trivial built-in call, for reference
#   take          rate_limit_take('bench:<1..100000>', ...) — a key per call, as a
#                 login role whose session runs as service_role (rl_bench_svc)
#   check         check_rate_limit('bench') as authenticated, the subject from
#                 request.jwt.claims set for the session (rl_bench_auth)
#   claims        setting request.jwt.claims for one of 100,000 users (the part the
#                 next two share)
#   check_claims  that, then check_rate_limit('bench') in the same statement
#   baseline      that, then bench_rl_check('bench'): PL/pgSQL, advisory lock, read,
#                 refill, upsert (baseline.sql; as postgres, which owns its table)
# in shared-memory mode (shm: preloaded) and table mode (tbl), then the in-process cost
# per call and bytes per key.  Profile 'bench' = 1e9 per hour (never denies).
# Prints the issue's ratios: take and check / SELECT 1 (target >= 0.85, shm).
# Uses the clusters of bench/run.sh (FF_BENCH_HOST_SHM / FF_BENCH_HOST_TBL: socket dirs,
# port 5432, user postgres, db ff_bench) or starts its own (fsync = on; set
# FF_RL_BENCH_FSYNC=off to match the test clusters: with fsync off a commit costs nothing
# and the baseline's WAL flush per call, the thing this design removes, vanishes).
# FF_BENCH_SMOKE=1: a few seconds in total; FF_BENCH_SECONDS / FF_BENCH_ROUNDS (10 / 5).
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/common.sh"
source "$HERE/../lib.sh"
set -euo pipefail
SMOKE="${FF_BENCH_SMOKE:-0}"
if [ "$SMOKE" = 1 ]; then N_SHM=100000; N_TBL=10000; else N_SHM=1000000; N_TBL=100000; fi
DB="$FF_BENCH_DB"

if [ -z "${FF_BENCH_HOST_SHM:-}" ] || [ -z "${FF_BENCH_HOST_TBL:-}" ]; then
  ff_deps && ff_build && ff_private_install
  for c in rlbench_shm rlbench_tbl; do
    ff_cluster_start "$c" "$([ $c = rlbench_shm ] && echo 1 || echo 0)" "fsync = ${FF_RL_BENCH_FSYNC:-on}"
    ff_psql "$c" -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null
    ff_psql "$c" -d postgres -c "CREATE DATABASE $DB" >/dev/null
    ff_psql "$c" -d "$DB" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null 2>&1
  done
  trap 'ff_cluster_stop rlbench_shm; ff_cluster_stop rlbench_tbl' EXIT
  FF_BENCH_HOST_SHM="$FF_STAGE/rlbench_shm"; FF_BENCH_HOST_TBL="$FF_STAGE/rlbench_tbl"
fi
host() { [ "$1" = shm ] && echo "$FF_BENCH_HOST_SHM" || echo "$FF_BENCH_HOST_TBL"; }
sql() { local m="$1"; shift; ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(host "$m")" -p 5432 -U postgres -d "$DB" "$@"; }

# pgbench scripts where the postgres user can read them.
WORK="$(mktemp -d /tmp/ff_rlbench.XXXXXX)"; cp "$HERE"/*.pgb "$HERE"/*.sql "$WORK/"; chmod -R a+rX "$WORK"
cleanup() {
  for m in shm tbl; do
    sql "$m" -c "DELETE FROM rate_limit_profiles WHERE name = 'bench'" -c "DROP FUNCTION IF EXISTS bench_rl_check(text, int)" \
      -c "DROP TABLE IF EXISTS bench_rl_counters" -c "DROP ROLE IF EXISTS rl_bench_svc" -c "DROP ROLE IF EXISTS rl_bench_auth" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"; ff_cluster_stop rlbench_shm 2>/dev/null || true; ff_cluster_stop rlbench_tbl 2>/dev/null || true
}
trap cleanup EXIT
# Login roles whose sessions run as service_role / as authenticated with claims (what
# PostgREST's authenticator does per request), so the limiter's role check and the
# subject are the real ones, not a superuser's shortcut.
ROLES_SQL="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rl_bench_svc') THEN CREATE ROLE rl_bench_svc LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rl_bench_auth') THEN CREATE ROLE rl_bench_auth LOGIN; END IF;
END \$\$;
GRANT service_role TO rl_bench_svc;
GRANT authenticated TO rl_bench_auth;
ALTER ROLE rl_bench_svc SET role = 'service_role';
ALTER ROLE rl_bench_auth SET role = 'authenticated';
ALTER ROLE rl_bench_auth SET request.jwt.claims = '{\"sub\":\"00000000-0000-4000-8000-000000000001\",\"role\":\"authenticated\"}';"
for m in shm tbl; do
  sql "$m" -f "$WORK/baseline.sql"
  sql "$m" -c "$ROLES_SQL" >/dev/null
  sql "$m" -c "INSERT INTO rate_limit_profiles (name, capacity, period) VALUES ('bench', 1000000000, interval '1 hour') ON CONFLICT (name) DO NOTHING" >/dev/null
  sql "$m" -c "TRUNCATE bench_rl_counters, rate_limit_counters" >/dev/null
  echo "$m: $(sql "$m" -Atc "SELECT mode FROM ff_status() WHERE component = 'rate_limiter'"), fsync $(sql "$m" -Atc "SHOW fsync"), synchronous_commit $(sql "$m" -Atc "SHOW synchronous_commit")"
done

S="$FF_BENCH_HOST_SHM"; T="$FF_BENCH_HOST_TBL"; W="$WORK"
ff_bench_compare "rate limiter: shm = shared-memory mode, tbl = table mode; x = ratio to shm floor" 2 \
  "shm floor|$S|$W/floor.pgb" \
  "shm now|$S|$W/now.pgb" \
  "shm take|$S|$W/take.pgb|-U rl_bench_svc" \
  "shm check|$S|$W/check.pgb|-U rl_bench_auth" \
  "shm claims|$S|$W/claims.pgb|-U rl_bench_auth" \
  "shm check_claims|$S|$W/check_claims.pgb|-U rl_bench_auth" \
  "shm baseline|$S|$W/baseline.pgb" \
  "tbl floor|$T|$W/floor.pgb" \
  "tbl take|$T|$W/take.pgb|-U rl_bench_svc" \
  "tbl check_claims|$T|$W/check_claims.pgb|-U rl_bench_auth" \
  "tbl baseline|$T|$W/baseline.pgb"
M() { echo "${FF_BENCH_MEDIANS[$1]}"; }
echo "ratios (medians of the same interleaved run):"
echo "  shm take / SELECT 1                  = $(ff_ratio "$(M 'shm take')" "$(M 'shm floor')")   (target >= 0.85)"
echo "  shm check / SELECT 1                 = $(ff_ratio "$(M 'shm check')" "$(M 'shm floor')")   (target >= 0.85)"
echo "  shm now() / SELECT 1                 = $(ff_ratio "$(M 'shm now')" "$(M 'shm floor')")   (reference)"
echo "  shm check_claims / claims-only       = $(ff_ratio "$(M 'shm check_claims')" "$(M 'shm claims')")"
echo "  shm check_claims / SELECT 1          = $(ff_ratio "$(M 'shm check_claims')" "$(M 'shm floor')")"
echo "  shm check_claims / baseline          = $(ff_ratio "$(M 'shm check_claims')" "$(M 'shm baseline')")   (target >= 10, fsync on)"
echo "  tbl take / tbl SELECT 1              = $(ff_ratio "$(M 'tbl take')" "$(M 'tbl floor')")"
echo "  tbl check_claims / tbl SELECT 1      = $(ff_ratio "$(M 'tbl check_claims')" "$(M 'tbl floor')")"
echo "  tbl check_claims / baseline          = $(ff_ratio "$(M 'tbl check_claims')" "$(M 'tbl baseline')")   (target >= 2, fsync on)"

echo
echo "bytes per key:"
echo "  shm: $(sql shm -Atc "SELECT detail ->> 'bytes_per_key' || ' (' || (detail ->> 'shmem_bytes') || ' bytes of shared memory for ' || (detail ->> 'capacity') || ' keys)' FROM ff_status() WHERE component = 'rate_limiter'")"
sql tbl -c "TRUNCATE rate_limit_counters" >/dev/null
sql tbl -Atc "SELECT count(*) FROM generate_series(1, 100000) g, LATERAL rate_limit_take('bytes/' || g, 10, interval '1 hour') t" >/dev/null
echo "  tbl: $(sql tbl -Atc "SELECT round(pg_total_relation_size('rate_limit_counters')::numeric / count(*)) || ' (heap at fillfactor 50 + primary key, ' || count(*) || ' keys)' FROM rate_limit_counters")"
sql tbl -c "TRUNCATE rate_limit_counters" >/dev/null

echo
echo "in-process cost per call (loop minus the same loop over textlen), ns, median of 3"
echo "(rate_limit_take: 100,000 keys in rotation; _1key: one key; check_rate_limit: one subject):"
for m in shm tbl; do
  n=$([ "$m" = shm ] && echo "$N_SHM" || echo "$N_TBL")
  declare -A P=()
  for r in 1 2 3; do
    while IFS='|' read -r what ns; do P[$what]="${P[$what]:-} $ns"; done \
      < <(sql "$m" -At -v n="$n" -f "$WORK/inprocess.sql")
  done
  for what in rate_limit_take rate_limit_take_1key check_rate_limit; do
    # Table mode, one key, one transaction: every call adds a row version the next one
    # must step over (MVCC), so that loop measures PostgreSQL, not the limiter: skipped.
    [ "$m" = tbl ] && [ "$what" = rate_limit_take_1key ] && continue
    # shellcheck disable=SC2086
    echo "  $m $what (n=$n): $(ff_median ${P[$what]}) ns   [runs:${P[$what]}]"
  done
  sql "$m" -Atc "SELECT count(rate_limit_reset('bench/' || g)) FROM generate_series(0, 99999) g" >/dev/null
done
