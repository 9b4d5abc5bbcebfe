#!/usr/bin/env bash
# bench/flags — feature-flag cache vs SELECT 1 and plain-SQL baselines.
# pgbench -M prepared, 2 clients, random users over 100,000; variants run
# interleaved, ROUNDS times each for SECS seconds; prints median tps and ratios.
# Host: $FF_BENCH_HOST_SHM (socket dir; port 5432, user postgres, db ff_bench) when
# bench/run.sh provides it, else a private preloaded cluster of our own.
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
PSQL=(ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p 5432 -U postgres -d ff_bench)
SCHEMA="$("${PSQL[@]}" -At -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'feed_fusion'")"
[ -n "$SCHEMA" ] || { echo "feed_fusion is not installed in ff_bench"; exit 1; }

WORK="$(mktemp -d)"; chmod 755 "$WORK"
cleanup() {
  sed "s/public\./$SCHEMA./g" "$HERE/cleanup.sql" | "${PSQL[@]}" >/dev/null || true
  rm -rf "$WORK"
  if [ "$OWN" = 1 ]; then ff_cluster_stop bench_flags; fi
}
trap cleanup EXIT
sed "s/public\./$SCHEMA./g" "$HERE/baseline.sql" | "${PSQL[@]}" >/dev/null

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

# Sanity: ours and the baseline agree on 1,000 users.
"${PSQL[@]}" -At -c "SELECT count(*) FROM generate_series(1, 1000) u
  WHERE $SCHEMA.flags_for(lpad(u::text, 32, '0')::uuid) <> flags_bench.flags_for_sql(lpad(u::text, 32, '0')::uuid)" \
  | grep -qx 0 || { echo "baseline and flags_for disagree"; exit 1; }
chown -R postgres: "$WORK" 2>/dev/null || true

declare -A TPS
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    opts=""; [ "$v" = flag_fixed ] && opts="-c request.jwt.claim.sub=00000000-0000-4000-8000-000000012345"
    t=$(ff_as_pg env PGOPTIONS="$opts" "$FF_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -T "$SECS" -h "$HOST" -p 5432 -U postgres \
          -f "$WORK/$v.sql" ff_bench 2>&1 | sed -nE 's/^tps = ([0-9.]+) \(without.*/\1/p')
    [ -n "$t" ] || { echo "pgbench failed for $v"; exit 1; }
    TPS[$v]="${TPS[$v]:-} $t"
    printf 'round %d %-14s %10.0f tps\n' "$r" "$v" "$t"
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A MED
for v in "${VARIANTS[@]}"; do MED[$v]=$(echo "${TPS[$v]}" | median); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
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
