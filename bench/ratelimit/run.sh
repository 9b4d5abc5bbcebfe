#!/usr/bin/env bash
# Rate-limiter benchmark (issue 3): pgbench -M prepared, 2 clients, keys spread over
# 100,000 users, side by side in one run, each variant ROUNDS times, medians printed:
#   floor     SELECT 1
#   subject   setting the caller's JWT sub (the part every variant below shares)
#   ours      check_rate_limit('standard') — shared-memory mode (shm) / table mode (tbl)
#   baseline  bench_rl_check('standard'): PL/pgSQL, advisory lock, read, refill, upsert
# then the in-process cost per call and bytes per key.  Results: README.md here.
# Uses the clusters of bench/run.sh (FF_BENCH_HOST_SHM / FF_BENCH_HOST_TBL: socket
# dirs, port 5432, user postgres, db ff_bench) or starts its own.
# FF_BENCH_SMOKE=1: a few seconds in total.  Own clusters run with fsync = on (set
# FF_RL_BENCH_FSYNC=off to match the test clusters): with fsync off a commit costs
# nothing and the baseline's WAL flush per call, the thing this design removes, vanishes.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/common.sh"
set -euo pipefail
SMOKE="${FF_BENCH_SMOKE:-0}"
if [ "$SMOKE" = 1 ]; then T=1; ROUNDS=1; N_SHM=100000; N_TBL=10000
else T="${FF_BENCH_SECONDS:-10}"; ROUNDS="${FF_BENCH_ROUNDS:-3}"; N_SHM=1000000; N_TBL=100000; fi
DB=ff_bench

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
trap 'rm -rf "$WORK"; ff_cluster_stop rlbench_shm 2>/dev/null || true; ff_cluster_stop rlbench_tbl 2>/dev/null || true' EXIT
for m in shm tbl; do
  sql "$m" -f "$WORK/baseline.sql"
  sql "$m" -c "TRUNCATE bench_rl_counters, rate_limit_counters" >/dev/null
  echo "$m: $(sql "$m" -Atc "SELECT mode FROM ff_status() WHERE component = 'rate_limiter'"), fsync $(sql "$m" -Atc "SHOW fsync"), synchronous_commit $(sql "$m" -Atc "SHOW synchronous_commit")"
done

tps() {   # tps MODE SCRIPT
  ff_as_pg "$FF_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -T "$T" -h "$(host "$1")" -p 5432 -U postgres \
    -f "$WORK/$2.pgb" "$DB" 2>&1 | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

VARIANTS="shm:floor shm:subject shm:ours shm:baseline tbl:floor tbl:subject tbl:ours tbl:baseline"
declare -A R
for r in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do
    x=$(tps "${v%%:*}" "${v#*:}"); R[$v]="${R[$v]:-} $x"
    printf '  round %d %-14s %10.0f tps\n' "$r" "$v" "$x"
  done
done
declare -A M
for v in $VARIANTS; do M[$v]=$(echo "${R[$v]}" | median); done

echo
echo "pgbench -M prepared -c 2 -j 2 -T $T, $ROUNDS rounds, median tps (100,000 users):"
printf '  %-14s %10s\n' variant tps
for v in $VARIANTS; do printf '  %-14s %10.0f\n' "$v" "${M[$v]}"; done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "ratios:"
echo "  shm ours / SELECT 1         = $(ratio "${M[shm:ours]}" "${M[shm:floor]}")   (target >= 0.85)"
echo "  shm ours / subject-only     = $(ratio "${M[shm:ours]}" "${M[shm:subject]}")"
echo "  shm ours / baseline         = $(ratio "${M[shm:ours]}" "${M[shm:baseline]}")   (target >= 10)"
echo "  tbl ours / baseline         = $(ratio "${M[tbl:ours]}" "${M[tbl:baseline]}")   (target >= 2)"

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
    echo "  $m $what (n=$n): $(echo "${P[$what]}" | median) ns   [runs:${P[$what]}]"
  done
  sql "$m" -Atc "SELECT count(rate_limit_reset('bench/' || g)) FROM generate_series(0, 99999) g" >/dev/null
done
for m in shm tbl; do sql "$m" -c "DROP FUNCTION bench_rl_check(text, int); DROP TABLE bench_rl_counters" >/dev/null; done
