#!/usr/bin/env bash
# bench_lib: the helpers component benchmarks rely on (bench/lib.sh) compute what they say.
source "$FF_SRC/scripts/common.sh"
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
FF_BENCH_SMOKE=1
source "$FF_SRC/bench/lib.sh"

# Pure helpers.
[ "$(ff_median 5 1 3)" = 3 ] || fail "median of 5 1 3"
[ "$(ff_median 4 1 3 2)" = 2.50 ] || fail "median of 4 1 3 2"
[ "$(printf '10\n2\n30\n' | median)" = 10 ] || fail "median on stdin"
[ "$(ff_median 1e3 999.5 20)" = 999.5 ] || fail "median sorts numerically"
[ "$(ff_ratio 10 4)" = 2.50 ] || fail "ratio 10/4"
[ "$(ff_ratio 1 0)" = n/a ] || fail "ratio by zero"
[ "$(ff_ratio 250 3)" = 83.3 ] && [ "$(ff_ratio 46 16665)" = 0.0028 ] || fail "ratio precision"
[ "$(ff_bench_uid 255)" = 00000000-0000-4000-8000-0000000000ff ] || fail "uid"
[ "$(ff_bench_secs)" = 1 ] && [ "$(ff_bench_rounds)" = 1 ] || fail "smoke secs/rounds"
[ "$(FF_BENCH_SMOKE=0 FF_BENCH_SECONDS=7 ff_bench_secs)" = 7 ] || fail "FF_BENCH_SECONDS"
echo "pure helpers: ok"

# pgbench helpers against a real cluster.
C=bench_lib
ff_cluster_start "$C" 0
trap 'ff_cluster_stop $C' EXIT
H="$FF_STAGE/$C"
ff_psql "$C" -d postgres -c "CREATE DATABASE ff_bench" >/dev/null
d="$(mktemp -d)"; chmod 755 "$d"
echo "SELECT 1;" > "$d/one.sql"
echo "SELECT pg_sleep(0.02);" > "$d/sleep.sql"
echo "SELECT 1/0;" > "$d/bad.sql"

tps="$(ff_pgbench_tps "$H" "$d/one.sql" 1 2)"
awk -v t="$tps" 'BEGIN { exit !(t > 100) }' || fail "SELECT 1 tps '$tps'"
echo "ff_pgbench_tps: $tps"

# 20 ms per transaction, one client: tps near 50, p50 and p99 at or above 20 ms.
read -r tps p50 p99 <<< "$(ff_pgbench_latency "$H" "$d/sleep.sql" 2 1)"
awk -v t="$tps" -v a="$p50" -v b="$p99" 'BEGIN { exit !(t > 20 && t < 51 && a >= 20 && a < 60 && b >= a) }' \
  || fail "latency: tps=$tps p50=$p50 p99=$p99"
echo "ff_pgbench_latency: $tps $p50 $p99"

if ff_pgbench_tps "$H" "$d/bad.sql" 1 1 >/dev/null 2>&1; then fail "a failing script must fail"; fi
echo "failing script detected: ok"

out="$(ff_bench_compare "self" 1 "fast|$H|$d/one.sql" "slow|$H|$d/sleep.sql")"
echo "$out"
echo "$out" | grep -qE '^  fast +median +[0-9.]+ tps +x1\.00 ' || fail "compare: first variant line"
echo "$out" | grep -qE '^  slow +median +[0-9.]+ tps +x0\.[0-9]+ ' || fail "compare: ratio below 1 for the slow variant"
rm -rf "$d"
echo "bench_lib: all checks passed"
