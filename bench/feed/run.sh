#!/usr/bin/env bash
# bench/feed/run.sh — feed ranker vs the plain PL/pgSQL baseline (bench/feed/baseline.sql),
# side by side on the same data: 20-item pages for random viewers, first pages and
# pages 2-5 (ours via cursors, baseline via offsets), each lane, single client
# (server-side timing: median and p99), plus pgbench -M prepared pages/s with 1 and 2
# clients, plus the same for a 10x smaller data set (cost follows the page, not the table).
# Env: FF_BENCH_HOST_SHM (socket dir of a running preloaded cluster, db ff_bench) or,
# when unset, a private cluster is started; FF_BENCH_SMOKE=1: tiny data, a few seconds.
source "$(dirname "$0")/../../scripts/common.sh"
set +e
HERE="$FF_ROOT/bench/feed"
SMOKE="${FF_BENCH_SMOKE:-0}"
if [ "$SMOKE" = 1 ]; then
  SCALE_FULL=0.01; SCALE_SMALL=0.001; VIEWERS=10; BASE_VIEWERS=1; BASE_PAGES=2; PGB_T=1
  DB_FULL=ff_bench_feed_smoke; DB_SMALL=ff_bench_feed_smoke_small
else
  SCALE_FULL=1.0; SCALE_SMALL=0.1; VIEWERS=${FF_FEED_VIEWERS:-300}; BASE_VIEWERS=${FF_FEED_BASE_VIEWERS:-4}; BASE_PAGES=5; PGB_T=${FF_FEED_PGB_T:-10}
  DB_FULL=ff_bench; DB_SMALL=ff_bench_feed_small
fi

if [ -n "${FF_BENCH_HOST_SHM:-}" ]; then
  HOST="$FF_BENCH_HOST_SHM"; OWN=0
else
  ff_build >/dev/null && ff_private_install >/dev/null || exit 1
  ff_cluster_start feedbench 1 "max_wal_size = 4GB" "maintenance_work_mem = 512MB" || exit 1
  HOST="$FF_STAGE/feedbench"; OWN=1
  trap 'ff_cluster_stop feedbench' EXIT
  ff_as_pg "$FF_PGBIN/psql" -X -q -h "$HOST" -p 5432 -U postgres -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null
fi
q() { local db="$1"; shift; ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p 5432 -U postgres -d "$db" "$@"; }

# Make sure database $1 exists with the extension and at least some data at scale $2.
prepare_db() {
  local db="$1" scale="$2" n
  if ! q postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    q postgres -c "CREATE DATABASE $db" >/dev/null || return 1
  fi
  q "$db" -c "CREATE EXTENSION IF NOT EXISTS feed_fusion CASCADE" >/dev/null 2>&1
  n=$(q "$db" -Atc "SELECT count(*) FROM posts")
  if [ "${n:-0}" -eq 0 ]; then
    ff_log "generating feed data in $db (scale $scale)"
    q "$db" -v scale="$scale" -f "$HERE/gen.sql" >/dev/null 2>&1 || { echo "data generation failed"; return 1; }
  fi
  q "$db" -f "$HERE/baseline.sql" -f "$HERE/timing.sql" >/dev/null 2>&1
  q "$db" -Atc "SELECT format('%s: %s posts, %s listings, %s events, %s users following, %s follows',
                 current_database(), (SELECT count(*) FROM posts), (SELECT count(*) FROM listings),
                 (SELECT count(*) FROM events), (SELECT count(DISTINCT follower_user_id) FROM follows),
                 (SELECT count(*) FROM follows))"
}
prepare_db "$DB_FULL" "$SCALE_FULL" || exit 1
prepare_db "$DB_SMALL" "$SCALE_SMALL" || exit 1

RES=$(mktemp)
summ() {  # db impl lane viewers pages
  q "$1" -AtF' ' -c "SELECT impl, lane, pages, n, median_ms, p99_ms FROM ff_bench.summary('$2', '$3', $4, $5)" \
    | sed "s/^/$1 /" >> "$RES"
}
ff_log "single-client page latency (server side), ours vs baseline"
for lane in for_you following shop; do
  q "$DB_FULL" -c "SELECT count(*) FROM ff_bench.time_pages('ours', '$lane', 20, 5)" >/dev/null   # warm-up
  summ "$DB_FULL" ours "$lane" "$VIEWERS" 5
  summ "$DB_FULL" baseline "$lane" "$BASE_VIEWERS" "$BASE_PAGES"
  q "$DB_SMALL" -c "SELECT count(*) FROM ff_bench.time_pages('ours', '$lane', 20, 5)" >/dev/null
  summ "$DB_SMALL" ours "$lane" "$VIEWERS" 5
done
printf '\n%-22s %-8s %-10s %-6s %5s %10s %10s\n' db impl lane pages n median_ms p99_ms
while read -r db impl lane pages n med p99; do
  printf '%-22s %-8s %-10s %-6s %5s %10s %10s\n' "$db" "$impl" "$lane" "$pages" "$n" "$med" "$p99"
done < "$RES"
echo
echo "ratios (median): baseline/ours on $DB_FULL, $DB_FULL/$DB_SMALL for ours"
for lane in for_you following shop; do
  for pages in first 2-5; do
    o=$(awk -v d="$DB_FULL" -v l="$lane" -v p="$pages" '$1==d && $2=="ours" && $3==l && $4==p {print $6}' "$RES")
    b=$(awk -v d="$DB_FULL" -v l="$lane" -v p="$pages" '$1==d && $2=="baseline" && $3==l && $4==p {print $6}' "$RES")
    s=$(awk -v d="$DB_SMALL" -v l="$lane" -v p="$pages" '$1==d && $2=="ours" && $3==l && $4==p {print $6}' "$RES")
    printf '  %-10s %-6s baseline/ours = %8s   full/small = %6s\n' "$lane" "$pages" \
      "$(awk -v a="$b" -v b="$o" 'BEGIN { if (a == "" || b == 0) print "n/a"; else printf "%.1f", a / b }')" \
      "$(awk -v a="$o" -v b="$s" 'BEGIN { if (b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }')"
  done
done
rm -f "$RES"

ff_log "pgbench -M prepared: first pages per second (for_you, random viewers)"
PG=$(mktemp -d); chmod 755 "$PG"
cat > "$PG/ours.sql" <<'SQL'
\set i random(1, 5000)
SELECT count(*) FROM ff_bench.viewers v CROSS JOIN LATERAL feed_fusion_home_for(v.uid, 'for_you', NULL, 20) f WHERE v.i = :i;
SQL
cat > "$PG/base.sql" <<'SQL'
\set i random(1, 5000)
SELECT count(*) FROM ff_bench.viewers v CROSS JOIN LATERAL ff_bench.baseline_home(v.uid, 'for_you', 0, 20) f WHERE v.i = :i;
SQL
chmod 644 "$PG"/*.sql
for c in 1 2; do
  for impl in ours base; do
    tps=$(ff_as_pg "$FF_PGBIN/pgbench" -n -M prepared -T "$PGB_T" -c "$c" -j "$c" -h "$HOST" -p 5432 -U postgres \
          -f "$PG/$impl.sql" "$DB_FULL" 2>/dev/null | awk '/^tps/ {print $3}')
    printf '  clients=%s %-9s pages/s = %s\n' "$c" "$impl" "$tps"
  done
done
rm -rf "$PG"
exit 0
