#!/usr/bin/env bash
# bench_gen: the benchmark data generator is deterministic and has the promised shape.
# Loads scale 1 twice (same seed and as-of) into two databases and compares per-table
# checksums, loads a third with another seed (must differ), then checks the shape, and
# that the generator left nothing but rows behind (no bench schema, function or table).
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1
C=bench_gen
ff_cluster_start "$C" 0
trap 'ff_cluster_stop $C' EXIT
H="$FF_STAGE/$C"
ASOF="$(date -u +%Y-%m-%d) 00:00:00+00"

for db in g1 g2 g3; do
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  ff_psql "$C" -d "$db" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null 2>&1
done
# Every schema, relation and function in g1 before the load (the load must add none).
OBJECTS="SELECT x FROM (
  SELECT 'schema ' || nspname AS x FROM pg_namespace WHERE nspname !~ '^pg_(temp|toast_temp)_'
  UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace::regnamespace::text !~ '^pg_temp_'
  UNION ALL SELECT 'relation ' || oid::regclass FROM pg_class
            WHERE relnamespace::regnamespace::text !~ '^pg_(temp_|toast)') o ORDER BY 1"
T="$(mktemp -d)"; trap 'ff_cluster_stop $C; rm -rf "$T"' EXIT
ff_psql "$C" -d g1 -At -c "$OBJECTS" > "$T/before"
# g1: scale as the last argument; g2: scale from FF_SCALE, port last (must stay the port).
FF_ASOF="$ASOF" bash "$FF_SRC/bench/gen/load.sh" -h "$H" -U postgres -d g1 -p 5432 1
FF_ASOF="$ASOF" FF_SCALE=1 bash "$FF_SRC/bench/gen/load.sh" -h "$H" -U postgres -d g2 -p 5432
FF_ASOF="$ASOF" FF_SEED=7 FF_SCALE=smoke bash "$FF_SRC/bench/gen/load.sh" -h "$H" -p 5432 -U postgres -d g3 >/dev/null

# One md5 per table over all rows in primary-key order (every column, including rank_key).
SUMS="
SELECT 'entities', md5(string_agg(t::text, '|' ORDER BY id)) FROM entities t
UNION ALL SELECT 'follows', md5(string_agg(t::text, '|' ORDER BY follower_user_id, entity_id)) FROM follows t
UNION ALL SELECT 'posts', md5(string_agg(t::text, '|' ORDER BY id)) FROM posts t
UNION ALL SELECT 'listings', md5(string_agg(t::text, '|' ORDER BY id)) FROM listings t
UNION ALL SELECT 'events', md5(string_agg(t::text, '|' ORDER BY id)) FROM events t
UNION ALL SELECT 'feed_hides', md5(string_agg(t::text, '|' ORDER BY user_id, item_kind, item_id)) FROM feed_hides t
UNION ALL SELECT 'cart', md5(string_agg(t::text, '|' ORDER BY user_id, listing_id)) FROM shopping_cart_items t
UNION ALL SELECT 'usage_events', md5(string_agg(t::text, '|' ORDER BY id)) FROM usage_events t
ORDER BY 1"
check "the generator leaves no bench schema behind" 0 \
  "$(ff_psql "$C" -d g1 -At -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'bench'")"
ff_psql "$C" -d g1 -At -c "$OBJECTS" > "$T/after"
check_same "the generator leaves no schema, function or table behind (only rows)" "$T/before" "$T/after"
s1="$(ff_psql "$C" -d g1 -At -c "$SUMS")"
s2="$(ff_psql "$C" -d g2 -At -c "$SUMS")"
s3="$(ff_psql "$C" -d g3 -At -c "$SUMS")"
echo "$s1"
check_cmp "8 non-empty checksums" "$(echo "$s1" | grep -c '|[0-9a-f]\{32\}$')" -eq 8
[ "$s1" = "$s2" ] || diff <(echo "$s1") <(echo "$s2") || true
check "deterministic: same seed+scale+as-of gives the same rows" "$s1" "$s2"
check_cmp "another seed changes every table" "$(comm -12 <(echo "$s1" | sort) <(echo "$s3" | sort) | wc -l)" -eq 0

# Shape checks: each query returns one boolean, t when the shape is right.
shape() { check "shape $1" t "$(ff_psql "$C" -d g1 -At -c "$2")"; }
shape users_have_person "SELECT count(DISTINCT owner_user_id) = 500 AND count(*) FILTER (WHERE kind = 'person') = 500
                          FROM entities WHERE handle NOT LIKE 'dormant%'"
# user n's uuid; its person entity is entity number n + (n - 1) / 10 (generate.sql)
U_UUID="('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid"
P_UUID="('e0000000-0000-4000-8000-' || lpad(to_hex(u + (u - 1) / 10), 12, '0'))::uuid"
shape one_person_each   "SELECT NOT EXISTS (SELECT FROM generate_series(1, 500) u
                          WHERE NOT EXISTS (SELECT FROM entities e WHERE e.owner_user_id = $U_UUID
                                            AND e.kind = 'person' AND e.id = $P_UUID))"
shape businesses_10pct  "SELECT count(*) FILTER (WHERE kind = 'business')::float8 / count(*) BETWEEN 0.08 AND 0.12
                          FROM entities WHERE handle NOT LIKE 'dormant%'"
shape follows_avg       "SELECT count(*)::float8 / 500 >= 50 FROM follows WHERE follower_user_id IN
                          (SELECT owner_user_id FROM entities WHERE kind = 'person')"
# heavy viewers: users 900001..900010 follow 5,000 entities (4,500 dormant), 900011..900020
# follow 810 (700 dormant); dormant entities never post, list or host
H_UUID="('00000000-0000-4000-8000-' || lpad(to_hex(900000 + h), 12, '0'))::uuid"
shape heavy_viewers     "SELECT bool_and(n = CASE WHEN h <= 10 THEN 5000 ELSE 810 END
                                  AND d = CASE WHEN h <= 10 THEN 4500 ELSE 700 END)
                          FROM (SELECT h, count(*) AS n, count(*) FILTER (WHERE e.handle LIKE 'dormant%') AS d
                                FROM generate_series(1, 20) h JOIN follows f ON f.follower_user_id = $H_UUID
                                JOIN entities e ON e.id = f.entity_id GROUP BY h) x HAVING count(*) = 20"
shape dormant_inactive  "SELECT count(*) = 4500 AND bool_and(NOT EXISTS (SELECT FROM posts p WHERE p.author_entity_id = e.id)
                          AND NOT EXISTS (SELECT FROM listings l WHERE l.seller_entity_id = e.id)
                          AND NOT EXISTS (SELECT FROM events v WHERE v.host_entity_id = e.id))
                          FROM entities e WHERE e.handle LIKE 'dormant%'"
shape heavy_active_post "SELECT bool_and(EXISTS (SELECT FROM posts p WHERE p.author_entity_id = f.entity_id))
                          FROM follows f JOIN entities e ON e.id = f.entity_id
                          WHERE f.follower_user_id = ('00000000-0000-4000-8000-' || lpad(to_hex(900001), 12, '0'))::uuid
                            AND e.handle NOT LIKE 'dormant%'"
shape follows_skewed    "SELECT max(c) > 10 * percentile_cont(0.5) WITHIN GROUP (ORDER BY c)
                          FROM (SELECT count(*) AS c FROM follows WHERE follower_user_id IN
                                (SELECT owner_user_id FROM entities WHERE kind = 'person') GROUP BY entity_id) x"
shape no_self_follow    "SELECT NOT EXISTS (SELECT FROM follows f JOIN entities e ON e.id = f.entity_id
                          WHERE e.owner_user_id = f.follower_user_id AND e.kind = 'person')"
shape foreign_keys_hold "SELECT NOT EXISTS (SELECT FROM follows f WHERE NOT EXISTS (SELECT FROM entities e WHERE e.id = f.entity_id))
                          AND NOT EXISTS (SELECT FROM listings l WHERE NOT EXISTS (SELECT FROM entities e WHERE e.id = l.seller_entity_id))
                          AND NOT EXISTS (SELECT FROM events v WHERE NOT EXISTS (SELECT FROM entities e WHERE e.id = v.host_entity_id))
                          AND NOT EXISTS (SELECT FROM posts p WHERE NOT EXISTS (SELECT FROM entities e WHERE e.id = p.author_entity_id))
                          AND NOT EXISTS (SELECT FROM shopping_cart_items c WHERE NOT EXISTS (SELECT FROM listings l WHERE l.id = c.listing_id))"
shape posts_count       "SELECT count(*) = 20000 AND count(*) FILTER (WHERE kind = 'reel') BETWEEN 3000 AND 5000 FROM posts"
shape posts_default_empty "SELECT count(*) = 0 FROM ONLY posts_default"
shape posts_partitions  "SELECT count(DISTINCT tableoid) >= 6 FROM posts"
shape posts_in_window   "SELECT min(created_at) >= '$ASOF'::timestamptz - interval '181 days'
                          AND max(created_at) <= '$ASOF'::timestamptz FROM posts"
shape posts_recent_denser "SELECT count(*) FILTER (WHERE created_at > '$ASOF'::timestamptz - interval '30 days')
                           > 2 * count(*) FILTER (WHERE created_at <= '$ASOF'::timestamptz - interval '150 days')
                          FROM posts"
shape base_score_range  "SELECT bool_and(base_score > 0 AND base_score <= 1) FROM posts"
shape listings_status   "SELECT count(*) FILTER (WHERE status = 'active')::float8 / count(*) BETWEEN 0.8 AND 0.9
                          AND count(DISTINCT status) = 4 FROM listings"
shape events_some_ended "SELECT count(*) FILTER (WHERE ends_at < '$ASOF'::timestamptz) BETWEEN 1 AND count(*) - 1 FROM events"
shape hides_and_carts   "SELECT (SELECT count(*) FROM feed_hides) > 1000 AND (SELECT count(*) FROM shopping_cart_items) > 100
                          AND (SELECT count(*) FROM usage_events) > 100"
shape ids_and_sequences "SELECT nextval(pg_get_serial_sequence('posts', 'id')) = 20001
                          AND nextval(pg_get_serial_sequence('listings', 'id')) = 4001"
check_done
