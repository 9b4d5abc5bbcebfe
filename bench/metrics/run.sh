#!/usr/bin/env bash
# RPC metrics benchmark (issue 6).  pgbench -M prepared, 2 clients, side by side:
#   select1   SELECT 1                                   (ceiling)
#   baseline  bench_metrics.log_rpc(): INSERT a row per call (the seed's _log_rpc)
#   ours      _log_rpc() in shared-memory mode           (target >= 0.8x select1, >= 10x baseline)
#   ours_tbl  _log_rpc() in table mode                   (for reference)
#   tracked   a tracked RPC with feed_fusion.track_rpcs on vs off (feed_fusion_home when it
#             exists and has data, else the tracked test RPC _ff_metrics_selftest())
#   tracked_tbl_on/off, select1_tbl  table mode: _ff_metrics_selftest() with tracking on
#             (batched per backend, issue 10 item 8) / off, and SELECT 1, on the table-mode server
# and the rpc_metrics_hourly view over 30 days x 20 RPCs of per-minute rows (target <= 50 ms).
# Env: FF_BENCH_HOST_SHM / FF_BENCH_HOST_TBL (socket dirs; port 5432, user postgres, db
# ff_bench with the extension) — when unset, this script starts its own clusters.
# FF_BENCH_SMOKE=1: a few seconds in total.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/common.sh"

SMOKE="${FF_BENCH_SMOKE:-0}"
if [ "$SMOKE" = 1 ]; then DUR=1; ROUNDS=1; DAYS=1; QREPS=2; else DUR="${FF_BENCH_DURATION:-8}"; ROUNDS="${FF_BENCH_ROUNDS:-3}"; DAYS=30; QREPS=7; fi
DB=ff_bench
OWN=0
if [ -z "${FF_BENCH_HOST_SHM:-}" ]; then
  OWN=1
  ff_deps; ff_build; ff_private_install
  # FF_BENCH_METRICS_FSYNC=on: durable commits (the test clusters run fsync = off,
  # which flatters the INSERT-per-call baseline)
  FS="fsync = ${FF_BENCH_METRICS_FSYNC:-off}"
  ff_cluster_start bench_metrics_shm 1 "$FS"
  ff_cluster_start bench_metrics_tbl 0 "$FS"
  trap 'ff_cluster_stop bench_metrics_shm; ff_cluster_stop bench_metrics_tbl' EXIT
  FF_BENCH_HOST_SHM="$FF_STAGE/bench_metrics_shm"; FF_BENCH_HOST_TBL="$FF_STAGE/bench_metrics_tbl"
  for h in "$FF_BENCH_HOST_SHM" "$FF_BENCH_HOST_TBL"; do
    ff_as_pg "$FF_PGBIN/psql" -X -q -h "$h" -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null
    ff_as_pg "$FF_PGBIN/psql" -X -q -h "$h" -U postgres -d $DB -c "SET client_min_messages = warning" \
      -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
  done
fi
PGB="$FF_PGBIN/pgbench"; PSQL="$FF_PGBIN/psql"
sql() { local h="$1"; shift; ff_as_pg "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h "$h" -U postgres -d $DB "$@"; }
for h in "$FF_BENCH_HOST_SHM" "$FF_BENCH_HOST_TBL"; do sql "$h" -f "$HERE/baseline.sql" >/dev/null; done

W="$(mktemp -d)"; chmod 755 "$W"
echo 'SELECT 1;' > "$W/select1.sql"
printf '%s\n' '\set d random(1, 200000)' "SELECT bench_metrics.log_rpc('bench_rpc', :d / 1000.0);" > "$W/baseline.sql"
printf '%s\n' '\set d random(1, 200000)' "SELECT _log_rpc('bench_rpc', :d / 1000.0);" > "$W/ours.sql"
chmod 644 "$W"/*.sql

# tps HOST SCRIPT [PGOPTIONS]: one pgbench run, prints tps
tps() {
  local out
  out="$(cd "$W" && ff_as_pg env PGOPTIONS="${3:-}" "$PGB" -n -M prepared -c 2 -j 2 -T "$DUR" -h "$1" -U postgres -f "$W/$2" $DB 2>&1)" \
    || { echo "$out" >&2; return 1; }
  echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

# Tracked RPC: feed_fusion_home when it is there and returns rows, else the test RPC.
TRACKED="SELECT _ff_metrics_selftest();"; TRACKED_NAME="_ff_metrics_selftest() (no-op RPC)"
if [ "$(sql "$FF_BENCH_HOST_SHM" -c "SELECT to_regprocedure('feed_fusion_home(text,text,integer)') IS NOT NULL")" = t ]; then
  if sql "$FF_BENCH_HOST_SHM" -c "SELECT count(*) FROM feed_fusion_home('for_you')" >/dev/null 2>&1; then
    TRACKED="SELECT count(*) FROM feed_fusion_home('for_you');"; TRACKED_NAME="feed_fusion_home('for_you')"
  fi
fi
echo "$TRACKED" > "$W/tracked.sql"; chmod 644 "$W/tracked.sql"
echo "SELECT _ff_metrics_selftest();" > "$W/tracked_tbl.sql"; chmod 644 "$W/tracked_tbl.sql"

declare -A R
echo "== pgbench -M prepared -c 2 -j 2 -T $DUR, $ROUNDS interleaved rounds"
for i in $(seq 1 "$ROUNDS"); do
  R[select1]+="$(tps "$FF_BENCH_HOST_SHM" select1.sql) "
  R[baseline]+="$(tps "$FF_BENCH_HOST_SHM" baseline.sql) "
  R[ours]+="$(tps "$FF_BENCH_HOST_SHM" ours.sql) "
  R[ours_tbl]+="$(tps "$FF_BENCH_HOST_TBL" ours.sql) "
  R[tracked_on]+="$(tps "$FF_BENCH_HOST_SHM" tracked.sql "-c feed_fusion.track_rpcs=on") "
  R[tracked_off]+="$(tps "$FF_BENCH_HOST_SHM" tracked.sql "-c feed_fusion.track_rpcs=off") "
  R[select1_tbl]+="$(tps "$FF_BENCH_HOST_TBL" select1.sql) "
  R[tracked_tbl_on]+="$(tps "$FF_BENCH_HOST_TBL" tracked_tbl.sql "-c feed_fusion.track_rpcs=on") "
  R[tracked_tbl_off]+="$(tps "$FF_BENCH_HOST_TBL" tracked_tbl.sql "-c feed_fusion.track_rpcs=off") "
done
declare -A M
for k in select1 baseline ours ours_tbl tracked_on tracked_off select1_tbl tracked_tbl_on tracked_tbl_off; do
  M[$k]="$(echo ${R[$k]} | tr ' ' '\n' | median)"
  printf '%-12s median tps %10s   (runs: %s)\n' "$k" "${M[$k]}" "${R[$k]}"
done
echo "ours / select1          = $(ratio "${M[ours]}" "${M[select1]}")   (target >= 0.8)"
echo "ours / baseline         = $(ratio "${M[ours]}" "${M[baseline]}")   (target >= 10)"
echo "ours_tbl / baseline     = $(ratio "${M[ours_tbl]}" "${M[baseline]}")   (table mode, reference)"
echo "tracking on / off       = $(ratio "${M[tracked_on]}" "${M[tracked_off]}")   ($TRACKED_NAME; target >= 0.97)"
echo "table mode: tracked on / SELECT 1 = $(ratio "${M[tracked_tbl_on]}" "${M[select1_tbl]}"), on / off = $(ratio "${M[tracked_tbl_on]}" "${M[tracked_tbl_off]}")   (_ff_metrics_selftest(), batched per backend)"

# Per-call cost inside one statement (no client round trip, robust on a busy machine).
echo "== per-call cost, $((${MICRO_N:=1000000} / 1000))k calls in one statement (best of 5)"
stime() {  # stime SQL [GUC-setting]: best ms of 5 runs in one session (min: least disturbed)
  { echo '\timing on'; echo "${2:-SELECT 1};"; for i in 1 2 3 4 5; do echo "$1"; done; } \
    | ff_as_pg "$PSQL" -X -q -h "${STIME_HOST:-$FF_BENCH_HOST_SHM}" -U postgres -d $DB -o /dev/null 2>&1 \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 5 | sort -g | head -1
}
t_empty="$(stime "SELECT count(x) FROM generate_series(1, $MICRO_N) x;")"
t_log="$(stime "SELECT count(_log_rpc('bench_micro', 1.5)) FROM generate_series(1, $MICRO_N) x;")"
t_on="$(stime "SELECT count(_ff_metrics_selftest()) FROM generate_series(1, $MICRO_N) x;" "SET feed_fusion.track_rpcs = on")"
t_off="$(stime "SELECT count(_ff_metrics_selftest()) FROM generate_series(1, $MICRO_N) x;" "SET feed_fusion.track_rpcs = off")"
awk -v e="$t_empty" -v l="$t_log" -v on="$t_on" -v off="$t_off" -v n="$MICRO_N" 'BEGIN {
  printf "_log_rpc (shared memory), per call incl. function call: %.0f ns\n", (l - e) * 1e6 / n;
  printf "ff_tracked_call overhead (track_rpcs on - off), per call:  %.0f ns\n", (on - off) * 1e6 / n }'
# the same in table mode: the call joins this backend's batch (no write per call)
t_on="$(STIME_HOST="$FF_BENCH_HOST_TBL" stime "SELECT count(_ff_metrics_selftest()) FROM generate_series(1, $MICRO_N) x;" "SET feed_fusion.track_rpcs = on")"
t_off="$(STIME_HOST="$FF_BENCH_HOST_TBL" stime "SELECT count(_ff_metrics_selftest()) FROM generate_series(1, $MICRO_N) x;" "SET feed_fusion.track_rpcs = off")"
awk -v on="$t_on" -v off="$t_off" -v n="$MICRO_N" 'BEGIN {
  printf "table mode: ff_tracked_call overhead (on - off), per call: %.0f ns\n", (on - off) * 1e6 / n }'

# View over 30 days x 20 RPCs of per-minute rows (shared-memory cluster).
echo "== rpc_metrics_hourly over $DAYS days x 20 RPCs of per-minute rows"
rows="$(sql "$FF_BENCH_HOST_SHM" -c "SET client_min_messages = warning" -c "SELECT bench_metrics.fill_rpc_metrics($DAYS, 20)" | tail -1)"
sql "$FF_BENCH_HOST_SHM" -c "SELECT _log_rpc('rpc_07', 5)" >/dev/null   # plus one pending (unflushed) call
echo "rows in rpc_metrics: $rows"
# qtime SQL: median time in ms (psql \timing, results discarded) of QREPS runs in one
# session after one warm-up run (an app's pooled connection has warm caches).
qtime() {
  local i
  { echo '\timing on'; for i in $(seq 0 "$QREPS"); do echo "$1"; done; } \
    | ff_as_pg "$PSQL" -X -q -h "$FF_BENCH_HOST_SHM" -U postgres -d $DB -o /dev/null 2>&1 \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | median
}
declare -a QS=(
  "SELECT * FROM rpc_metrics_hourly WHERE rpc = 'rpc_07' AND hour >= now() - interval '24 hours'"
  "SELECT * FROM rpc_metrics_hourly WHERE hour >= now() - interval '24 hours'"
  "SELECT * FROM rpc_metrics_hourly WHERE rpc = 'rpc_07'"
  "SELECT * FROM rpc_metrics_hourly"
)
# xtime SQL: median server execution time (EXPLAIN ANALYZE, no row transfer) in one session
xtime() {
  local i
  { for i in $(seq 0 "$QREPS"); do echo "EXPLAIN (ANALYZE, TIMING OFF) $1"; done; } \
    | ff_as_pg "$PSQL" -X -q -At -h "$FF_BENCH_HOST_SHM" -U postgres -d $DB 2>&1 \
    | sed -n 's/^Execution Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | median
}
echo "    server ms   client ms  query (server: EXPLAIN ANALYZE execution; client: psql round trip incl. rows)"
for q in "${QS[@]}"; do printf '%12s %11s  %s\n' "$(xtime "$q;")" "$(qtime "$q;")" "$q"; done
sql "$FF_BENCH_HOST_SHM" -c "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) || ' for rpc_metrics, avg sketch ' || (SELECT round(avg(octet_length(sketch))) FROM rpc_metrics) || ' bytes' FROM pg_inherits WHERE inhparent = 'rpc_metrics'::regclass"
rm -rf "$W"
