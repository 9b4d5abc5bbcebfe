#!/usr/bin/env bash
# bench_lib: the helpers component benchmarks rely on (bench/lib.sh) compute what they say.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1
FF_BENCH_SMOKE=1
source "$FF_SRC/bench/lib.sh"

# Pure helpers.
check "median of 5 1 3" 3 "$(ff_median 5 1 3)"
check "median of 4 1 3 2" 2.50 "$(ff_median 4 1 3 2)"
check "median on stdin" 10 "$(printf '10\n2\n30\n' | median)"
check "median sorts numerically" 999.5 "$(ff_median 1e3 999.5 20)"
check "ratio 10/4" 2.50 "$(ff_ratio 10 4)"
check "ratio by zero" n/a "$(ff_ratio 1 0)"
check "ratio precision above 10" 83.3 "$(ff_ratio 250 3)"
check "ratio precision below 0.1" 0.0028 "$(ff_ratio 46 16665)"
check "uid" 00000000-0000-4000-8000-0000000000ff "$(ff_bench_uid 255)"
check "smoke secs" 1 "$(ff_bench_secs)"
check "smoke rounds" 1 "$(ff_bench_rounds)"
check "FF_BENCH_SECONDS" 7 "$(FF_BENCH_SMOKE=0 FF_BENCH_SECONDS=7 ff_bench_secs)"

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
check_cmp "ff_pgbench_tps: SELECT 1 above 100 tps" "$tps" -gt 100

# 20 ms per transaction, one client: tps near 50, p50 and p99 at or above 20 ms.
read -r tps p50 p99 <<< "$(ff_pgbench_latency "$H" "$d/sleep.sql" 2 1)"
check_true "ff_pgbench_latency: tps=$tps p50=$p50 p99=$p99 (tps in 20..51, p50 in 20..60 ms, p99 >= p50)" \
  awk -v t="$tps" -v a="$p50" -v b="$p99" 'BEGIN { exit !(t > 20 && t < 51 && a >= 20 && a < 60 && b >= a) }'

if ff_pgbench_tps "$H" "$d/bad.sql" 1 1 >/dev/null 2>&1; then fail "a failing pgbench script fails"
else pass "a failing pgbench script fails"; fi

out="$(ff_bench_compare "self" 1 "fast|$H|$d/one.sql" "slow|$H|$d/sleep.sql")"
echo "$out"
check_true "compare: first variant line" grep -qE '^  fast +median +[0-9.]+ tps +x1\.00 ' <<< "$out"
check_true "compare: ratio below 1 for the slow variant" grep -qE '^  slow +median +[0-9.]+ tps +x0\.[0-9]+ ' <<< "$out"
rm -rf "$d"
check_done
