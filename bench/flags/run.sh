#!/usr/bin/env bash
# bench/flags — feature-flag cache vs SELECT 1 and plain-SQL baselines.
# pgbench -M prepared, 2 clients, random users over 100,000; variants run
# interleaved, ROUNDS times each for SECS seconds; prints median tps and ratios.
# Host: $FF_BENCH_HOST_SHM (socket dir; port 5432, user postgres, db ff_bench) when
# bench/run.sh provides it, else a private preloaded cluster of our own.
# Table mode (no preload: tracking batches per backend, issue 10 item 8): the same
# select1 / flag_enabled / flags_for on $FF_BENCH_HOST_TBL when bench/run.sh provides
# it, else on a private cluster without preload; FF_BENCH_FLAGS_TBL=0 skips them,
# FF_BENCH_FLAGS_ONLY=tbl runs only them (and the table-mode per-call figures).
# FF_BENCH_SMOKE=1: a few seconds in total.
source "$(dirname "$0")/../../scripts/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
SECS="${FF_BENCH_SECS:-10}"; ROUNDS="${FF_BENCH_ROUNDS:-3}"
if [ "${FF_BENCH_SMOKE:-0}" = 1 ]; then SECS=1; ROUNDS=1; fi

OWN=0
if [ -n "${FF_BENCH_HOST_SHM:-}" ]; then
  HOST="$FF_BENCH_HOST_SHM"
else
  ff_deps; ff_build; ff_private_install
  ff_cluster_start bench_flags 1 || { echo "cannot start cluster"; exit 1; }
  HOST="$FF_STAGE/bench_flags"; OWN=1
  trap 'ff_cluster_stop bench_flags' EXIT
  ff_psql bench_flags -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null
  ff_psql bench_flags -d postgres -c "CREATE DATABASE ff_bench" >/dev/null
  ff_psql bench_flags -d ff_bench -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null 2>&1
fi
TBL="${FF_BENCH_FLAGS_TBL:-1}"; HOST_TBL=""; OWN_TBL=0
if [ "$TBL" = 1 ]; then
  if [ -n "${FF_BENCH_HOST_TBL:-}" ]; then
    HOST_TBL="$FF_BENCH_HOST_TBL"
  else
    [ "$OWN" = 1 ] || { ff_deps; ff_build; ff_private_install; }
    ff_cluster_start bench_flags_tbl 0 || { echo "cannot start table-mode cluster"; exit 1; }
    HOST_TBL="$FF_STAGE/bench_flags_tbl"; OWN_TBL=1
    ff_psql bench_flags_tbl -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null
    ff_psql bench_flags_tbl -d postgres -c "CREATE DATABASE ff_bench" >/dev/null
    ff_psql bench_flags_tbl -d ff_bench -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null 2>&1
  fi
fi
PSQL=(ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p 5432 -U postgres -d ff_bench)
PSQL_TBL=(ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST_TBL" -p 5432 -U postgres -d ff_bench)
SCHEMA="$("${PSQL[@]}" -At -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'feed_fusion'")"
[ -n "$SCHEMA" ] || { echo "feed_fusion is not installed in ff_bench"; exit 1; }

WORK="$(mktemp -d)"; chmod 755 "$WORK"
cleanup() {
  sed "s/public\./$SCHEMA./g" "$HERE/cleanup.sql" | "${PSQL[@]}" >/dev/null || true
  [ -n "$HOST_TBL" ] && { sed "s/public\./$SCHEMA./g" "$HERE/cleanup.sql" | "${PSQL_TBL[@]}" >/dev/null || true; }
  rm -rf "$WORK"
  if [ "$OWN" = 1 ]; then ff_cluster_stop bench_flags; fi
  if [ "$OWN_TBL" = 1 ]; then ff_cluster_stop bench_flags_tbl; fi
}
trap cleanup EXIT
sed "s/public\./$SCHEMA./g" "$HERE/baseline.sql" | "${PSQL[@]}" >/dev/null
if [ -n "$HOST_TBL" ]; then
  [ "$("${PSQL_TBL[@]}" -At -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'feed_fusion'")" = "$SCHEMA" ] \
    || { echo "feed_fusion is not installed in schema $SCHEMA of ff_bench on the table-mode host"; exit 1; }
  sed "s/public\./$SCHEMA./g" "$HERE/baseline.sql" | "${PSQL_TBL[@]}" >/dev/null
fi

# pgbench scripts: a random user out of 100,000 as a 32-hex-digit uuid.
U='\set u random(1, 100000)'
UUID="lpad(:u, 32, '0')"
write() { printf '%s\n%s\n' "$U" "$2" > "$WORK/$1.sql"; }
printf 'SELECT 1;\n' > "$WORK/select1.sql"
write claims_only   "SELECT set_config('request.jwt.claim.sub', $UUID, false);"
write flag_enabled  "SELECT set_config('request.jwt.claim.sub', $UUID, false), $SCHEMA.flag_enabled('bench_r30');"
printf "SELECT $SCHEMA.flag_enabled('bench_r30');\n" > "$WORK/flag_fixed.sql"   # user fixed per connection
write flag_sql      "SELECT set_config('request.jwt.claim.sub', $UUID, false), flags_bench.flag_enabled_sql('bench_r30');"
write flags_for     "SELECT $SCHEMA.flags_for($UUID::uuid);"
write flags_for_sql "SELECT flags_bench.flags_for_sql($UUID::uuid);"
VARIANTS=(select1 claims_only flag_enabled flag_fixed flag_sql flags_for flags_for_sql)
# table-mode variants: same scripts, "_tbl" runs them on the table-mode host
TBL_VARIANTS=(); [ -n "$HOST_TBL" ] && TBL_VARIANTS=(select1_tbl flag_enabled_tbl flags_for_tbl)
ONLY_TBL=0; [ "${FF_BENCH_FLAGS_ONLY:-}" = tbl ] && [ -n "$HOST_TBL" ] && { ONLY_TBL=1; VARIANTS=(); }

# Sanity: ours and the baseline agree on 1,000 users.
"${PSQL[@]}" -At -c "SELECT count(*) FROM generate_series(1, 1000) u
  WHERE $SCHEMA.flags_for(lpad(u::text, 32, '0')::uuid) <> flags_bench.flags_for_sql(lpad(u::text, 32, '0')::uuid)" \
  | grep -qx 0 || { echo "baseline and flags_for disagree"; exit 1; }
chown -R postgres: "$WORK" 2>/dev/null || true

declare -A TPS
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}" "${TBL_VARIANTS[@]}"; do
    opts=""; [ "$v" = flag_fixed ] && opts="-c request.jwt.claim.sub=00000000-0000-4000-8000-000000012345"
    h="$HOST"; f="$v"; [[ "$v" == *_tbl ]] && { h="$HOST_TBL"; f="${v%_tbl}"; }
    t=$(ff_as_pg env PGOPTIONS="$opts" "$FF_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -T "$SECS" -h "$h" -p 5432 -U postgres \
          -f "$WORK/$f.sql" ff_bench 2>&1 | sed -nE 's/^tps = ([0-9.]+) \(without.*/\1/p')
    [ -n "$t" ] || { echo "pgbench failed for $v"; exit 1; }
    TPS[$v]="${TPS[$v]:-} $t"
    printf 'round %d %-14s %10.0f tps\n' "$r" "$v" "$t"
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A MED
for v in "${VARIANTS[@]}" "${TBL_VARIANTS[@]}"; do MED[$v]=$(echo "${TPS[$v]}" | median); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
if [ "$ONLY_TBL" = 0 ]; then
echo
echo "flags benchmark: pgbench -M prepared -c 2 -j 2 -T $SECS, $ROUNDS rounds, median tps"
printf '%-14s %10s %10s %12s\n' variant tps "vs SELECT1" "vs baseline"
printf '%-14s %10.0f %10s %12s\n' select1 "${MED[select1]}" 1.00 -
printf '%-14s %10.0f %10s %12s\n' claims_only "${MED[claims_only]}" "$(ratio "${MED[claims_only]}" "${MED[select1]}")" -
printf '%-14s %10.0f %10s %12s\n' flag_enabled "${MED[flag_enabled]}" "$(ratio "${MED[flag_enabled]}" "${MED[select1]}")" \
  "$(ratio "${MED[flag_enabled]}" "${MED[flags_for_sql]}")"
printf '%-14s %10.0f %10s %12s\n' flag_fixed "${MED[flag_fixed]}" "$(ratio "${MED[flag_fixed]}" "${MED[select1]}")" \
  "$(ratio "${MED[flag_fixed]}" "${MED[flags_for_sql]}")"
printf '%-14s %10.0f %10s %12s\n' flag_sql "${MED[flag_sql]}" "$(ratio "${MED[flag_sql]}" "${MED[select1]}")" -
printf '%-14s %10.0f %10s %12s\n' flags_for "${MED[flags_for]}" "$(ratio "${MED[flags_for]}" "${MED[select1]}")" \
  "$(ratio "${MED[flags_for]}" "${MED[flags_for_sql]}")"
printf '%-14s %10.0f %10s %12s\n' flags_for_sql "${MED[flags_for_sql]}" "$(ratio "${MED[flags_for_sql]}" "${MED[select1]}")" 1.00
fi
if [ -n "$HOST_TBL" ]; then
  echo
  echo "table mode (no preload): median tps, ratio to SELECT 1 on the same table-mode server"
  for v in "${TBL_VARIANTS[@]}"; do
    printf '%-17s %10.0f %10s\n' "$v" "${MED[$v]}" "$(ratio "${MED[$v]}" "${MED[select1_tbl]}")"
  done
  echo "table-mode batch after the run: $("${PSQL_TBL[@]}" -At -c "SELECT coalesce(sum(calls), 0) || ' calls in rpc_metrics for flag_enabled/flags_for' FROM $SCHEMA.rpc_metrics WHERE rpc IN ('flag_enabled', 'flags_for')")"
  # Server time per call in table mode, tracking on vs off: what tracking adds per call.
  N=200000; [ "${FF_BENCH_SMOKE:-0}" = 1 ] && N=20000
  echo "table mode, server time per call (µs, $N calls in one backend, median of 3), track_rpcs on / off:"
  for e in "$SCHEMA.flag_enabled('bench_r30')" "$SCHEMA.flags_for(lpad(i::text, 32, '0')::uuid)"; do
    for t in on off; do
      m=$("${PSQL_TBL[@]}" -At -c "SET request.jwt.claim.sub = '00000000-0000-4000-8000-000000012345'" \
            -c "SET feed_fusion.track_rpcs = $t" \
            -c "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY flags_bench.us_per_call(\$q\$$e\$q\$, $N)) FROM generate_series(1, 3)")
      printf '  %-48s %-3s %8s\n' "$e" "$t" "$m"
    done
  done
fi
[ "$ONLY_TBL" = 1 ] && exit 0

# Server CPU per call in one backend (less sensitive to machine load than tps).
N=200000; [ "${FF_BENCH_SMOKE:-0}" = 1 ] && N=20000
echo
echo "server time per call (µs, $N calls in one backend, median of 3; flags_for: a new user each call, flag_enabled: one user):"
USERX="lpad(i::text, 32, '0')::uuid"
for e in "$SCHEMA.flag_enabled('feed_shop_blend')" "$SCHEMA.flag_enabled('bench_r30')" \
         "flags_bench.flag_enabled_sql('bench_r30')" "$SCHEMA.flags_for($USERX)" "flags_bench.flags_for_sql($USERX)"; do
  m=$("${PSQL[@]}" -At -c "SET request.jwt.claim.sub = '00000000-0000-4000-8000-000000012345'" \
        -c "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY flags_bench.us_per_call(\$q\$$e\$q\$, $N)) FROM generate_series(1, 3)")
  printf '  %-48s %8s\n' "$e" "$m"
done
echo "flag_enabled vs its own SQL baseline (pk lookup): $(ratio "${MED[flag_enabled]}" "${MED[flag_sql]}")x;" \
     "flag_enabled vs claims_only floor: $(ratio "${MED[flag_enabled]}" "${MED[claims_only]}")"
