-- bench/feed/explain.sql — EXPLAIN (ANALYZE, BUFFERS) of the ranker's source queries as
-- generic plans (what the saved SPI plans run), for a typical viewer's first batch.
-- psql -v viewer="'<uuid>'" -f explain.sql
SET plan_cache_mode = force_generic_plan;
SELECT array(SELECT fo.entity_id FROM follows fo JOIN entities en ON en.id = fo.entity_id
             WHERE fo.follower_user_id = :viewer AND en.owner_user_id <> :viewer ORDER BY 1) AS fol,
       array(SELECT en.id FROM entities en WHERE en.owner_user_id = :viewer) AS own \gset
PREPARE net_merge(float8, int8, timestamptz, timestamptz, uuid[], uuid, int, bool) AS
SELECT x.id, x.kc, x.author_entity_id, x.rank_key, x.created_at
FROM unnest($5::uuid[]) AS f(eid) CROSS JOIN LATERAL (
  SELECT p.id, CASE p.kind WHEN 'reel' THEN 1 ELSE 0 END AS kc, p.author_entity_id, p.rank_key, p.created_at
  FROM posts p WHERE p.author_entity_id = f.eid AND p.deleted_at IS NULL
  AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4
  AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = $6 AND h.item_kind = 'post' AND h.item_id = p.id)
  ORDER BY p.rank_key DESC, p.id DESC LIMIT $7) x
ORDER BY x.rank_key DESC, x.id DESC LIMIT $7;
PREPARE net_filter(float8, int8, timestamptz, timestamptz, uuid[], uuid, int, bool) AS
SELECT p.id, CASE p.kind WHEN 'reel' THEN 1 ELSE 0 END, p.author_entity_id, p.rank_key, p.created_at
FROM posts p WHERE p.deleted_at IS NULL
  AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4
  AND (p.author_entity_id = ANY (SELECT unnest($5::uuid[]))) IS TRUE
  AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = $6 AND h.item_kind = 'post' AND h.item_id = p.id)
ORDER BY p.rank_key DESC, p.id DESC LIMIT $7;
PREPARE disc(float8, int8, timestamptz, timestamptz, uuid[], uuid, int, bool) AS
SELECT p.id, CASE p.kind WHEN 'reel' THEN 1 ELSE 0 END, p.author_entity_id, p.rank_key, p.created_at
FROM posts p WHERE p.deleted_at IS NULL
  AND (p.rank_key, p.id) < ($1, $2) AND p.created_at >= $3 AND p.created_at <= $4
  AND ($8 OR p.kind <> 'reel')
  AND (p.author_entity_id = ANY (SELECT unnest($5::uuid[]))) IS NOT TRUE
  AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = $6 AND h.item_kind = 'post' AND h.item_id = p.id)
ORDER BY p.rank_key DESC, p.id DESC LIMIT $7;
PREPARE list(float8, int8, timestamptz, timestamptz, uuid[], uuid, int, bool) AS
SELECT l.id, 2, l.seller_entity_id, l.rank_key, l.created_at
FROM listings l WHERE l.status = 'active' AND (l.rank_key, l.id) < ($1, $2) AND l.created_at <= $4
  AND (l.seller_entity_id = ANY (SELECT unnest($5::uuid[]))) IS NOT TRUE
  AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = $6 AND h.item_kind = 'listing' AND h.item_id = l.id)
  AND NOT EXISTS (SELECT 1 FROM shopping_cart_items c WHERE c.user_id = $6 AND c.listing_id = l.id)
ORDER BY l.rank_key DESC, l.id DESC LIMIT $7;
PREPARE net_events(float8, int8, timestamptz, timestamptz, uuid[], uuid, int, bool) AS
SELECT x.id, 3, x.host_entity_id, x.rank_key, x.created_at
FROM unnest($5::uuid[]) AS f(eid) CROSS JOIN LATERAL (
  SELECT e.id, e.host_entity_id, e.rank_key, e.created_at FROM events e WHERE e.host_entity_id = f.eid
  AND (e.rank_key, e.id) < ($1, $2) AND e.created_at <= $4 AND e.ends_at > $4
  AND NOT EXISTS (SELECT 1 FROM feed_hides h WHERE h.user_id = $6 AND h.item_kind = 'event' AND h.item_id = e.id)
  ORDER BY e.rank_key DESC, e.id DESC LIMIT $7) x
ORDER BY x.rank_key DESC, x.id DESC LIMIT $7;
\set lo '''now''::timestamptz - interval ''14 days'''
\echo '--- network posts, per-entity merge (first batch of 16)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE net_merge('Infinity', 9223372036854775807, now() - interval '14 days', now(), :'fol', :viewer, 16, true);
\echo '--- network posts, global order filtered by the followed set'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE net_filter('Infinity', 9223372036854775807, now() - interval '14 days', now(), :'fol', :viewer, 16, true);
\echo '--- network events, per-entity merge'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE net_events('Infinity', 9223372036854775807, '-infinity', now(), :'fol', :viewer, 8, true);
\echo '--- discover posts'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE disc('Infinity', 9223372036854775807, now() - interval '14 days', now(), (:'fol'::uuid[] || :'own'::uuid[]), :viewer, 9, true);
\echo '--- listings'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE list('Infinity', 9223372036854775807, '-infinity', now(), :'own', :viewer, 7, true);
