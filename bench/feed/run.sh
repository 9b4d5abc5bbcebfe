#!/usr/bin/env bash
# bench/feed/run.sh — the feed ranker against the targets of issue 10 item 10, side by side
# in one run, single client, on the bench/gen data set that bench/run.sh loads:
#  * 20-item pages, first page and pages 2-5 (cursors), every lane, server-side timing
#    (median, p99) for: ours on ff_bench (full) and ff_bench_small (a tenth), ours for the
#    heavy viewers (5,000 follows, 90 % dormant), the strong baseline
#    (bench/feed/baseline_keyset.sql) on ff_bench — interleaved in rounds, same viewers
#    for ours and the baseline in each round;
#  * a 100-item `following` page for viewers following 700 dormant entities vs normal ones;
#  * the seed-style baseline (bench/feed/baseline.sql, issue 5) for one viewer, for scale;
#  * pgbench -M prepared pages/s (1 client), ours vs the strong baseline;
#  * every target as a line marked met / NOT met.
# Env (from bench/run.sh): FF_BENCH_HOST_SHM, FF_BENCH_DB, FF_BENCH_DB_SMALL, FF_BENCH_USERS,
# FF_BENCH_SMOKE (1: a few viewers, 1-second pgbench runs, only proves it runs).
# Knobs: FF_FEED_VIEWERS (per round, default 60), FF_FEED_ROUNDS (4), FF_FEED_PGB_SECONDS (5),
# FF_FEED_WARM (untimed warm-up viewers at the start of each timing session, 3),
# FF_FEED_PREWARM (1: pg_prewarm the relations the feed reads first; 0: cold start),
# FF_BENCH_ROUNDS (pgbench rounds, 5).  Alone: `FF_BENCH_ONLY=feed make bench`.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${FF_BENCH_HOST_SHM:-}" ]; then
  echo "bench/feed/run.sh runs under bench/run.sh: FF_BENCH_ONLY=feed make bench" >&2
  exec env FF_BENCH_ONLY=feed bash "$HERE/../run.sh"
fi
# shellcheck source=bench/lib.sh
source "${FF_BENCH_LIB:-$HERE/../lib.sh}"
HOST="$FF_BENCH_HOST_SHM"
FULL="${FF_BENCH_DB:-ff_bench}"; SMALL="${FF_BENCH_DB_SMALL:-ff_bench_small}"
if [ "$FF_BENCH_SMOKE" = 1 ]; then
  VIEWERS=3; ROUNDS=1; PGB_SECS=1; PGB_ROUNDS=1; SEED_PAGES=1
else
  VIEWERS="${FF_FEED_VIEWERS:-60}"; ROUNDS="${FF_FEED_ROUNDS:-4}"
  PGB_SECS="${FF_FEED_PGB_SECONDS:-5}"; PGB_ROUNDS="$(ff_bench_rounds)"; SEED_PAGES=2
fi
WARM="${FF_FEED_WARM:-3}"   # untimed warm-up viewers per timing session (a new backend)
LANES="for_you following shop"
log() { printf '\n==> %s\n' "$*"; }
q() { local db="$1"; shift; "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$FF_BENCH_PORT" -U postgres -d "$db" "$@"; }

# The helpers live in schema ff_bench for the run only: dropped on exit, whatever happens.
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  for db in "$FULL" "$SMALL"; do
    q "$db" -c "DROP SCHEMA IF EXISTS ff_bench CASCADE" -c "DROP EXTENSION IF EXISTS pg_prewarm" >/dev/null 2>&1
  done
  rm -rf "${TMP:-}"
}
trap cleanup EXIT
TMP="$(mktemp -d)"; chmod 755 "$TMP"
for db in "$FULL" "$SMALL"; do
  q "$db" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS ff_bench CASCADE" \
    -f "$HERE/baseline.sql" -f "$HERE/baseline_keyset.sql" -f "$HERE/timing.sql" >/dev/null || exit 1
done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for db in "$FULL" "$SMALL"; do
  q "$db" -At -c "SELECT format('%s: %s posts, %s listings, %s events, %s entities, %s follows',
                   current_database(), (SELECT count(*) FROM posts), (SELECT count(*) FROM listings),
                   (SELECT count(*) FROM events), (SELECT count(*) FROM entities), (SELECT count(*) FROM follows))"
done

# Raw page times: "variant lane page ms" lines in $RAW.
RAW="$TMP/raw"; : > "$RAW"
timeit() {  # variant db impl who lane pages limit seed viewers
  q "$2" -At -F' ' -c "SELECT '$1', '$5', page, round(ms::numeric, 4) FROM ff_bench.time_pages('$3', '$5', '$4', $9, $6, $7, $8, $WARM)" >> "$RAW"
}
# Shared buffers: a server in production has the feed's working set cached; a benchmark
# cluster starts empty, so every first touch is a read from the OS page cache.
# FF_FEED_PREWARM=1 (default) loads what the ranker and the baselines read (the rank_key
# indexes of posts, events and listings with their visibility maps, follows, entities,
# hides, cart, activity bounds) with pg_prewarm first (dropped again at the end);
# FF_FEED_PREWARM=0 measures the cold start.
if [ "${FF_FEED_PREWARM:-1}" = 1 ]; then
  log "pg_prewarm: the relations the feed reads"
  for db in "$FULL" "$SMALL"; do
    q "$db" -At -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" -c "
      WITH ns AS (SELECT e.extnamespace AS oid FROM pg_extension e WHERE e.extname = 'feed_fusion'),
      rels AS (
        SELECT i.indexrelid AS oid, 'main' AS fork FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relnamespace = (SELECT oid FROM ns) AND t.relkind = 'r'
          AND ((t.relname ~ '^(posts|events|listings)' AND pg_get_indexdef(i.indexrelid) ~ 'rank_key')
               OR t.relname IN ('follows', 'feed_hides', 'shopping_cart_items', 'entities', '_ff_entity_activity'))
        UNION ALL
        SELECT c.oid, 'visibilitymap' FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind = 'r'
          AND c.relname ~ '^(posts|events|listings|follows|feed_hides|shopping_cart_items)'
          AND pg_relation_size(c.oid, 'vm') > 0
        UNION ALL
        SELECT c.oid, 'main' FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind = 'r'
          AND c.relname IN ('_ff_entity_activity', 'entities', 'feed_lanes', '_ff_feed_secret', 'feature_flags'))
      SELECT format('%s: %s buffers prewarmed', current_database(), sum(pg_prewarm(oid, 'buffer', fork)))
      FROM rels" || exit 1
  done
fi
log "warm-up (one walk per variant and lane)"
for lane in $LANES; do
  for v in "$FULL ours normal" "$FULL ours heavy" "$FULL keyset normal" "$SMALL ours normal"; do
    read -r vdb vimpl vwho <<< "$v"
    q "$vdb" -c "SELECT count(*) FROM ff_bench.time_pages('$vimpl', '$lane', '$vwho', 5, 5, 20, 0.9)" >/dev/null || exit 1
  done
done
log "page latency: $ROUNDS rounds x $VIEWERS viewers x 5 pages per variant and lane (interleaved)"
for ((r = 1; r <= ROUNDS; r++)); do
  seed="0.$((r * 17 % 97))"
  for lane in $LANES; do
    timeit full   "$FULL"  ours   normal "$lane" 5 20 "$seed" "$VIEWERS" || exit 1
    timeit strong "$FULL"  keyset normal "$lane" 5 20 "$seed" "$VIEWERS" || exit 1
    timeit heavy  "$FULL"  ours   heavy  "$lane" 5 20 "$seed" "$VIEWERS" || exit 1
    timeit small  "$SMALL" ours   normal "$lane" 5 20 "$seed" "$VIEWERS" || exit 1
  done
  # 100-item following pages: viewers following 700 dormant entities vs normal viewers
  timeit f100_700    "$FULL" ours   heavy700 following 1 100 "$seed" "$VIEWERS" || exit 1
  timeit f100_normal "$FULL" ours   normal   following 1 100 "$seed" "$VIEWERS" || exit 1
  timeit f100_strong "$FULL" keyset heavy700 following 1 100 "$seed" "$VIEWERS" || exit 1
done
log "seed-style baseline (issue 5 reference): 1 viewer, $SEED_PAGES page(s), for_you"
timeit seed "$FULL" seed normal for_you "$SEED_PAGES" 20 0.5 1 || exit 1

# stats VARIANT LANE first|later -> "n median p99" (nearest-rank p99)
stats() {
  awk -v v="$1" -v l="$2" -v w="$3" '$1 == v && $2 == l && ((w == "first" && $3 == 1) || (w == "later" && $3 > 1)) {print $4}' "$RAW" \
    | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "0 - -"; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        i = int(0.99 * NR + 0.999999); if (i < 1) i = 1
        printf "%d %.3f %.3f\n", NR, m, a[i] }'
}
declare -A MED P99
echo
printf '%-10s %-6s | %-17s | %-17s | %-17s | %-17s | %-10s | %s\n' lane pages "ours full" "ours small" \
  "ours heavy 5k" "strong baseline" full/small "strong/ours"
printf '%-10s %-6s | %-17s | %-17s | %-17s | %-17s | %-10s | %s\n' "" "" "median / p99 ms" "median / p99 ms" \
  "median / p99 ms" "median / p99 ms" "(median)" "(median)"
for lane in $LANES; do
  for w in first later; do
    line=""
    for v in full small heavy strong; do
      read -r n m p <<< "$(stats "$v" "$lane" "$w")"
      MED[$v.$lane.$w]="$m"; P99[$v.$lane.$w]="$p"
      line+="$(printf '| %7s / %7s ' "$m" "$p")"
    done
    printf '%-10s %-6s %s| %-10s | %s\n' "$lane" "$([ $w = first ] && echo first || echo 2-5)" "$line" \
      "$(ff_ratio "${MED[full.$lane.$w]}" "${MED[small.$lane.$w]}")" "$(ff_ratio "${MED[strong.$lane.$w]}" "${MED[full.$lane.$w]}")"
  done
done
echo
for v in f100_normal f100_700 f100_strong; do
  read -r n m p <<< "$(stats "$v" following first)"; MED[$v]="$m"; P99[$v]="$p"
done
printf '100-item following page: normal viewers %s / %s ms, 700 dormant follows %s / %s ms (ratio %s), strong baseline %s / %s ms (median / p99)\n' \
  "${MED[f100_normal]}" "${P99[f100_normal]}" "${MED[f100_700]}" "${P99[f100_700]}" \
  "$(ff_ratio "${MED[f100_700]}" "${MED[f100_normal]}")" "${MED[f100_strong]}" "${P99[f100_strong]}"
read -r n m p <<< "$(stats seed for_you first)"
printf 'seed-style baseline (issue 5 reference, scores every row): for_you first page %s ms (%s page)\n' "$m" "$n"

log "pgbench -M prepared, 1 client: pages per second, ours vs the strong baseline"
U="${FF_BENCH_USERS:-$(q "$FULL" -At -c "SELECT count(*) FROM entities WHERE kind = 'person'")}"
for impl in ours keyset; do
  for lane in $LANES; do
    printf '\\set u random(1, %s)\nSELECT ff_bench.walk('"'"'%s'"'"', :u, '"'"'%s'"'"', 1);\n' "$U" "$impl" "$lane" > "$TMP/$impl.$lane.first.sql"
  done
  printf '\\set u random(1, %s)\nSELECT ff_bench.walk('"'"'%s'"'"', :u, '"'"'for_you'"'"', 5);\n' "$U" "$impl" > "$TMP/$impl.for_you.walk.sql"
done
chmod 644 "$TMP"/*.sql
variants=()
for x in for_you.first following.first shop.first for_you.walk; do
  variants+=("ours.$x|$HOST|$TMP/ours.$x.sql" "keyset.$x|$HOST|$TMP/keyset.$x.sql")
done
FF_BENCH_SECONDS="$PGB_SECS" FF_BENCH_ROUNDS="$PGB_ROUNDS" FF_BENCH_DB="$FULL" \
  ff_bench_compare "first pages of each lane, and for_you pages 1-5 walked in one statement (pages/s = 5 x tps)" 1 "${variants[@]}" || exit 1
declare -A PPS
for x in for_you.first following.first shop.first for_you.walk; do
  mult=1; [ "$x" = for_you.walk ] && mult=5
  for impl in ours keyset; do PPS[$impl.$x]="$(awk -v t="${FF_BENCH_MEDIANS[$impl.$x]}" -v m=$mult 'BEGIN { printf "%.1f", t * m }')"; done
done

# Targets (issue 10 item 10), each marked.
mark() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { if (a !~ /^[0-9.]+$/) exit 1; exit !((op == "<=") ? a + 0 <= b + 0 : a + 0 >= b + 0) }'; then echo met; else echo "NOT met"; fi; }
echo
echo "targets (issue 10 item 10; single client, server-side page time):"
for lane in $LANES; do
  for w in first later; do
    lbl="$lane $([ $w = first ] && echo first || echo 2-5)"
    r="$(ff_ratio "${MED[full.$lane.$w]}" "${MED[small.$lane.$w]}")"
    printf '  %-17s full/small median %-6s <= 1.5   %s\n' "$lbl" "$r" "$(mark "$r" '<=' 1.5)"
    for v in full heavy; do
      printf '  %-17s %-5s median %7s ms <= 2   %s;  p99 %7s ms <= 5   %s\n' "$lbl" "$v" \
        "${MED[$v.$lane.$w]}" "$(mark "${MED[$v.$lane.$w]}" '<=' 2)" "${P99[$v.$lane.$w]}" "$(mark "${P99[$v.$lane.$w]}" '<=' 5)"
    done
  done
done
for x in for_you.first following.first shop.first for_you.walk; do
  r="$(ff_ratio "${PPS[ours.$x]}" "${PPS[keyset.$x]}")"
  printf '  pages/s %-16s ours %8s vs strong baseline %8s = %6sx >= 5   %s\n' "$x" "${PPS[ours.$x]}" "${PPS[keyset.$x]}" "$r" "$(mark "$r" '>=' 5)"
done
r="$(ff_ratio "${MED[f100_700]}" "${MED[f100_normal]}")"
printf '  100-item following page, 700 dormant follows: median %s ms, %sx a normal viewer'"'"'s (cost follows the page: <= 1.5)   %s\n' \
  "${MED[f100_700]}" "$r" "$(mark "$r" '<=' 1.5)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$FF_BENCH_SMOKE" = 1 ] && echo "  [smoke: figures meaningless]"
exit 0
