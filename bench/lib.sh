#!/usr/bin/env bash
# bench/lib.sh — helpers for component benchmarks (bench/<component>/run.sh).
#   source "$(dirname "$0")/../lib.sh"
# bench/run.sh exports what these need: FF_PGBIN, FF_BENCH_HOST_SHM / FF_BENCH_HOST_TBL
# (socket directories of the preloaded / non-preloaded cluster; port 5432, user postgres,
# database $FF_BENCH_DB = ff_bench), FF_BENCH_SMOKE (1 = only check that it runs).
# A component bench runs its variants interleaved, round after round, and reports the
# median of each plus ratios — e.g. with ff_bench_compare below.

FF_BENCH_DB="${FF_BENCH_DB:-ff_bench}"
FF_BENCH_PORT="${FF_BENCH_PORT:-5432}"
FF_BENCH_SMOKE="${FF_BENCH_SMOKE:-0}"
if [ -z "${FF_PGBIN:-}" ]; then FF_PGBIN=/usr/lib/postgresql/15/bin; fi

# Seconds per measured run: 1 in smoke mode, else $FF_BENCH_SECONDS (default 10).
ff_bench_secs() {
  if [ "$FF_BENCH_SMOKE" = 1 ]; then echo 1; else echo "${FF_BENCH_SECONDS:-10}"; fi
}

# Rounds of interleaved A/B runs: 1 in smoke mode, else $FF_BENCH_ROUNDS (default 5).
ff_bench_rounds() {
  if [ "$FF_BENCH_SMOKE" = 1 ]; then echo 1; else echo "${FF_BENCH_ROUNDS:-5}"; fi
}

# ff_bench_psql HOST [psql args...]: psql as postgres to the bench database on HOST.
ff_bench_psql() {
  local host="$1"; shift
  "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$FF_BENCH_PORT" -U postgres -d "$FF_BENCH_DB" "$@"
}

# ff_pgbench HOST FILE SECONDS [CLIENTS [extra pgbench args...]]: full pgbench output
# (-n -M prepared, one thread per client, CLIENTS default 2).
ff_pgbench() {
  local host="$1" file="$2" secs="$3" clients="${4:-2}"
  shift 3; [ $# -gt 0 ] && shift
  "$FF_PGBIN/pgbench" -n -M prepared -h "$host" -p "$FF_BENCH_PORT" -U postgres \
    -c "$clients" -j "$clients" -T "$secs" -f "$file" "$@" "$FF_BENCH_DB"
}

# ff_pgbench_tps HOST FILE SECONDS [CLIENTS [extra args...]]: prints the tps (excluding
# connection time); fails (and shows pgbench's output) if the run had errors.
ff_pgbench_tps() {
  local out tps
  if ! out="$(ff_pgbench "$@" 2>&1)"; then echo "pgbench failed:" >&2; echo "$out" | tail -20 >&2; return 1; fi
  if echo "$out" | grep -qE '^number of failed transactions: [1-9]'; then
    echo "pgbench reported failed transactions:" >&2; echo "$out" | tail -20 >&2; return 1
  fi
  tps="$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')"
  [ -n "$tps" ] || { echo "no tps in pgbench output:" >&2; echo "$out" | tail -20 >&2; return 1; }
  echo "$tps"
}

# ff_pgbench_latency HOST FILE SECONDS [CLIENTS [extra args...]]: prints
# "tps p50_ms p99_ms" from pgbench's per-transaction log.
ff_pgbench_latency() {
  local dir out tps rc=0
  dir="$(mktemp -d)"
  if ! out="$(cd "$dir" && ff_pgbench "$@" -l --log-prefix="$dir/lat" 2>&1)"; then
    echo "pgbench failed:" >&2; echo "$out" | tail -20 >&2; rm -rf "$dir"; return 1
  fi
  tps="$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')"
  # column 3 of the log is the transaction's latency in microseconds
  cat "$dir"/lat* | awk '{print $3}' | sort -n | awk -v tps="$tps" '
    { v[NR] = $1 }
    END { if (NR == 0) { exit 1 }
          p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1];
          printf "%s %.3f %.3f\n", tps, p50 / 1000, p99 / 1000 }' || rc=1
  rm -rf "$dir"
  return $rc
}

# ff_median [numbers...] (or on stdin, one per line): prints the median.
ff_median() {
  { if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat; fi; } | sort -g | awk '
    { v[NR] = $1 }
    END { if (NR == 0) exit 1;
          if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
median() { ff_median "$@"; }

# ff_ratio A B: A / B — two decimals, one above 10, two significant digits below 0.1
# ("n/a" when B is zero).
ff_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) { print "n/a"; exit }
    r = a / b; if (r >= 10) printf "%.1f\n", r; else if (r >= 0.1) printf "%.2f\n", r; else printf "%.2g\n", r }'
}

# ff_bench_compare TITLE CLIENTS "label|host|file[|extra pgbench args]" ...
# Runs every variant for $(ff_bench_secs) s, interleaved, for $(ff_bench_rounds) rounds,
# then prints one line per variant: median tps, each round's tps, and the ratio to the
# first variant.  Sets FF_BENCH_MEDIANS (associative: label → median tps).
declare -gA FF_BENCH_MEDIANS 2>/dev/null || true
ff_bench_compare() {
  local title="$1" clients="$2"; shift 2
  local secs rounds r v label host file extra tps first="" m
  secs="$(ff_bench_secs)"; rounds="$(ff_bench_rounds)"
  local -A runs=()
  local labels=()
  for v in "$@"; do labels+=("${v%%|*}"); done
  echo "## $title  ($rounds rounds x ${secs}s, $clients clients, -M prepared)"
  for ((r = 1; r <= rounds; r++)); do
    for v in "$@"; do
      IFS='|' read -r label host file extra <<< "$v"
      # shellcheck disable=SC2086
      tps="$(ff_pgbench_tps "$host" "$file" "$secs" "$clients" $extra)" || return 1
      runs[$label]="${runs[$label]:-} $(printf '%.1f' "$tps")"
    done
  done
  for label in "${labels[@]}"; do
    # shellcheck disable=SC2086
    m="$(ff_median ${runs[$label]})"
    # shellcheck disable=SC2034  # read by the calling benchmark
    FF_BENCH_MEDIANS[$label]="$m"
    [ -z "$first" ] && first="$m"
    printf '  %-28s median %10.1f tps   x%-6s  runs:%s\n' "$label" "$m" "$(ff_ratio "$m" "$first")" "${runs[$label]}"
  done
}

# ff_bench_uid N: uuid of generated user N (same as tests.uid(N)).
ff_bench_uid() { printf '00000000-0000-4000-8000-%012x\n' "$1"; }
