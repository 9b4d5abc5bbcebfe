-- bench/feed/gen.sql — quick benchmark data for the feed (used when the database has
-- no data yet).  psql -v scale=1.0: 20k users (25k entities), 1M posts over 12 months,
-- 200k listings, 20k events, ~100 follows per user (2M rows), a few hides and cart
-- rows per user.  scale=0.1 gives the 10x smaller set (follows per user unchanged).
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SELECT setseed(0.1234);
CREATE SCHEMA IF NOT EXISTS ff_bench;
CREATE OR REPLACE FUNCTION ff_bench.uid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;
CREATE TABLE IF NOT EXISTS ff_bench.params AS SELECT (:scale)::float8 AS scale,
  (20000 * (:scale)::float8)::int AS users;

-- entities: one person per user, businesses for a quarter of them (ids 1..users, users+1..)
INSERT INTO entities (id, owner_user_id, kind, handle, created_at, avatar_url, bio)
SELECT ff_bench.uid(i), ff_bench.uid(i), 'person', 'u' || i, now() - random() * interval '400 days',
       CASE WHEN random() < 0.7 THEN 'https://img/' || i END, CASE WHEN random() < 0.5 THEN 'bio' END
FROM generate_series(1, (SELECT users FROM ff_bench.params)) i;
INSERT INTO entities (id, owner_user_id, kind, handle, created_at)
SELECT ff_bench.uid(1000000 + i), ff_bench.uid(i * 4), 'business', 'b' || i, now() - random() * interval '400 days'
FROM generate_series(1, (SELECT users / 4 FROM ff_bench.params)) i;
CREATE TABLE ff_bench.ents AS
SELECT row_number() OVER (ORDER BY id)::int AS n, id FROM entities;
CREATE UNIQUE INDEX ON ff_bench.ents (n);
ANALYZE ff_bench.ents;

-- entities are picked with a skew (power of a uniform): popular creators post and are
-- followed more
INSERT INTO posts (author_entity_id, kind, body, base_score, created_at, deleted_at)
SELECT e.id, CASE WHEN random() < 0.2 THEN 'reel' ELSE 'post' END, 'post ' || s.g,
       0.02 + random() * 0.98, now() - random() * interval '360 days',
       CASE WHEN random() < 0.02 THEN now() END
FROM (SELECT g, 1 + floor(power(random(), 2.0) * (SELECT count(*) FROM ff_bench.ents))::int AS n
      FROM generate_series(1, (1000000 * (SELECT scale FROM ff_bench.params))::int) g) s
JOIN ff_bench.ents e ON e.n = s.n;

INSERT INTO listings (seller_entity_id, title, price_cents, status, base_score, created_at)
SELECT e.id, 'listing ' || s.g, (random() * 100000)::bigint,
       CASE WHEN random() < 0.85 THEN 'active' WHEN random() < 0.5 THEN 'sold' ELSE 'removed' END,
       0.02 + random() * 0.98, now() - random() * interval '360 days'
FROM (SELECT g, 1 + floor(random() * (SELECT count(*) FROM ff_bench.ents))::int AS n
      FROM generate_series(1, (200000 * (SELECT scale FROM ff_bench.params))::int) g) s
JOIN ff_bench.ents e ON e.n = s.n;

INSERT INTO events (host_entity_id, title, starts_at, ends_at, base_score, created_at)
SELECT e.id, 'event ' || g, c + interval '1 day', c + interval '1 day' + random() * interval '60 days',
       0.02 + random() * 0.98, c
FROM (SELECT g, now() - random() * interval '360 days' AS c,
             1 + floor(random() * (SELECT count(*) FROM ff_bench.ents))::int AS n
      FROM generate_series(1, (20000 * (SELECT scale FROM ff_bench.params))::int) g) s
JOIN ff_bench.ents e ON e.n = s.n;

-- ~100 follows per user (50..150), skewed towards popular entities
INSERT INTO follows (follower_user_id, entity_id)
SELECT ff_bench.uid(s.u), e.id
FROM (SELECT u, 1 + floor(power(random(), 1.5) * (SELECT count(*) FROM ff_bench.ents))::int AS n
      FROM generate_series(1, (SELECT users FROM ff_bench.params)) u
      CROSS JOIN LATERAL generate_series(1, 50 + (random() * 100)::int + 0 * u) k) s
JOIN ff_bench.ents e ON e.n = s.n
ON CONFLICT DO NOTHING;

-- a few hides and cart rows per user
INSERT INTO feed_hides (user_id, item_kind, item_id)
SELECT ff_bench.uid(1 + (random() * ((SELECT users FROM ff_bench.params) - 1))::int), 'post',
       (SELECT max(id) FROM posts) - (random() * 50000)::bigint
FROM generate_series(1, 5 * (SELECT users FROM ff_bench.params)) ON CONFLICT DO NOTHING;
INSERT INTO shopping_cart_items (user_id, listing_id)
SELECT ff_bench.uid(1 + (random() * ((SELECT users FROM ff_bench.params) - 1))::int), l.id
FROM (SELECT id FROM listings WHERE status = 'active' ORDER BY random() LIMIT 2 * (SELECT users FROM ff_bench.params)) l
ON CONFLICT DO NOTHING;

VACUUM ANALYZE;
