-- bench/gen/generate.sql — deterministic benchmark data set for feed_fusion.
--
-- Usage (psql, as a superuser, in a database with the extension installed):
--   psql -v scale=1 -v seed=42 -v asof='2026-11-26 00:00+00' -f bench/gen/generate.sql
-- or, simpler, bash bench/gen/load.sh <psql connection args...> [scale].
--
-- Every value is a pure function of (seed, scale, as-of, row number): random draws are
-- hashes of the row number (hashint8extended), never random() or now(), so the same
-- seed + scale + as-of give identical rows.  The as-of time defaults to
-- date_trunc('day', now()); all timestamps are placed relative to it (posts in the
-- 180 days before it, denser towards it), so it must lie inside the posts partitions
-- (the last 12 months up to the premade future months).
--
-- Shape at scale S (users = 500·S; S = 50 is the benchmark preset):
--   users          500·S, each with one person entity; one business entity per 10 users
--   follows        ~110 per user on average, targets Zipf-distributed (s = 0.8)
--   posts          20,000·S (20 % reels), authors Zipf (s = 0.5), base_score in (0,1]
--   listings       4,000·S (85 % active, 5 % draft, 7 % sold, 3 % removed), 75 % by shops
--   events         200·S (~25 % already ended)
--   feed_hides     ~6 per user, cart rows for ~30 % of users, ~3.5 usage_events per user
--   heavy viewers  (any scale) 4,500 dormant entities that never post/list/host; users
--                  900001..900010 follow them all + 500 active entities (5,000 follows),
--                  users 900011..900020 follow 700 of them + 110 active (810 follows)
-- Ids are assigned explicitly (post n has id n) and identity sequences moved past them.
-- User n's uuid is '00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0') (= tests.uid(n)).
-- Rows are written through the parent tables as superuser (RLS does not apply).
-- The generator's functions, procedure and bookkeeping live in pg_temp: the target
-- database keeps the rows and nothing else (no schema, function or table of ours).

\set ON_ERROR_STOP 1
\if :{?scale}
\else
  \set scale 1
\endif
\if :{?seed}
\else
  \set seed 42
\endif
\if :{?asof}
\else
  \set asof ''
\endif

SET client_min_messages = notice;
SET synchronous_commit = off;
SET jit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

-- The extension's schema goes first on the search path for the loader below.
SELECT n.nspname AS ff_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'feed_fusion' \gset
SELECT set_config('search_path', format('%I, pg_catalog', :'ff_schema'), false) IS NOT NULL AS ok \gset

-- What was loaded (one row), for the summary printed at the end.
CREATE TEMP TABLE meta (
  seed int, scale numeric, asof timestamptz,
  users int, entities int, businesses int, posts bigint, listings bigint, events bigint,
  load_seconds numeric, loaded_at timestamptz
);

-- Uniform [0,1) draw for row k and stream salt (salt already mixes in the seed).
CREATE OR REPLACE FUNCTION pg_temp.u01(k bigint, salt bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(k, salt) >> 11) & 9007199254740991)::float8 / 9007199254740992.0 $$;

-- Zipf-like rank in 1..n for a uniform draw u (continuous inverse CDF of x^-s, s < 1).
CREATE OR REPLACE FUNCTION pg_temp.zipf(u float8, n bigint, s float8) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT least(n, 1 + floor(power((power(n + 1, 1 - s) - 1) * u + 1, 1 / (1 - s)) - 1))::bigint $$;

-- uuid of user n (same as tests.uid(n)).
CREATE OR REPLACE FUNCTION pg_temp.uid(n bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;

-- uuid of entity number n: entity 11·b is business b, the others are persons in user order.
CREATE OR REPLACE FUNCTION pg_temp.eid(n bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('e0000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;

-- uuid of dormant entity d (never posts, lists or hosts; followed by the heavy viewers).
CREATE OR REPLACE FUNCTION pg_temp.dormant(d bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('d0000000-0000-4000-8000-' || lpad(to_hex(d), 12, '0'))::uuid $$;

-- Entity number of user n's person entity, and its uuid.
CREATE OR REPLACE FUNCTION pg_temp.person_no(n bigint) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT n + (n - 1) / 10 $$;
CREATE OR REPLACE FUNCTION pg_temp.person(n bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT pg_temp.eid(n + (n - 1) / 10) $$;

-- Foreign keys of generated rows hold by construction, so the loader skips their
-- checks (session_replication_role = replica) on tables that have no user triggers;
-- a table some component gave a trigger is loaded with triggers on.
CREATE OR REPLACE FUNCTION pg_temp.fast_mode(p_table regclass) RETURNS void
  LANGUAGE sql AS $$
  SELECT set_config('session_replication_role',
    CASE WHEN EXISTS (SELECT FROM pg_trigger WHERE tgrelid = p_table AND NOT tgisinternal)
         THEN 'origin' ELSE 'replica' END, false)
$$;

-- The loader: one transaction per batch, progress as NOTICEs with elapsed seconds.
-- Needs the search path set above (procedures with COMMIT cannot pin it themselves).
CREATE OR REPLACE PROCEDURE pg_temp.load(p_scale numeric, p_seed int, p_asof timestamptz)
  LANGUAGE plpgsql AS $proc$
DECLARE
  t0    timestamptz := clock_timestamp();
  nu    int    := greatest(10, round(500 * p_scale / 10) * 10)::int;   -- users
  nb    int    := nu / 10;                                            -- businesses
  ne    int    := nu + nu / 10;                                       -- entities
  np    bigint := greatest(100, round(20000 * p_scale))::bigint;        -- posts
  nl    bigint := greatest(20, round(4000 * p_scale))::bigint;          -- listings
  nv    bigint := greatest(5, round(200 * p_scale))::bigint;            -- events
  s     bigint := p_seed::bigint * 1000;                                -- salt base
  asof  timestamptz := p_asof;
  batch bigint;
  lo    bigint;
  n     bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM posts) OR EXISTS (SELECT 1 FROM entities) THEN
    RAISE EXCEPTION 'bench/gen: the database already holds data (load into a fresh database)'
      USING ERRCODE = '55000';
  END IF;
  RAISE NOTICE 'generating scale % (seed %, as-of %): % users, % posts, % listings, % events',
    p_scale, p_seed, asof, nu, np, nl, nv;

  -- Entities: person n of user u; business b (entity 11·b) owned by one of users 10(b-1)+1..10b.
  PERFORM pg_temp.fast_mode('entities');
  INSERT INTO entities (id, owner_user_id, kind, handle, display_name, avatar_url, bio, created_at)
  SELECT pg_temp.eid(e.n),
         CASE WHEN e.n % 11 = 0
              THEN pg_temp.uid(least(nu, (e.n / 11 - 1) * 10 + 1 + floor(pg_temp.u01(e.n, s + 1) * 10)::bigint))
              ELSE pg_temp.uid(e.n - e.n / 11) END,
         CASE WHEN e.n % 11 = 0 THEN 'business' ELSE 'person' END,
         CASE WHEN e.n % 11 = 0 THEN 'shop' || (e.n / 11) ELSE 'user' || (e.n - e.n / 11) END,
         CASE WHEN e.n % 11 = 0 THEN 'Shop ' || (e.n / 11) ELSE 'User ' || (e.n - e.n / 11) END,
         CASE WHEN pg_temp.u01(e.n, s + 2) < 0.8 THEN 'https://cdn.example.com/a/' || e.n || '.jpg' END,
         CASE WHEN pg_temp.u01(e.n, s + 3) < 0.6 THEN 'Bio of entity ' || e.n END,
         asof - (1 + pg_temp.u01(e.n, s + 4) * 720) * interval '1 day'
  FROM generate_series(1, ne) AS e(n);
  COMMIT;
  RAISE NOTICE 'entities: % rows (% s)', ne, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  -- Follows: user u draws 20 + 250·v^1.5 targets (mean ~120) from a Zipf over entity
  -- numbers (entity 1 is the most followed); duplicates and self-follows are dropped.
  batch := 5000;
  lo := 1;
  PERFORM pg_temp.fast_mode('follows');
  WHILE lo <= nu LOOP
    INSERT INTO follows (follower_user_id, entity_id, created_at)
    SELECT pg_temp.uid(f.u), pg_temp.eid(f.e), min(f.t)
    FROM (SELECT u.u,
                 pg_temp.zipf(pg_temp.u01(u.u * 1000 + j.j, s + 11), ne, 0.8) AS e,
                 asof - pg_temp.u01(u.u * 1000 + j.j, s + 12) * interval '300 days' AS t
          FROM generate_series(lo, least(nu, lo + batch - 1)) AS u(u)
          CROSS JOIN LATERAL generate_series(1, 20 + floor(250 * power(pg_temp.u01(u.u, s + 10), 1.5))::int) AS j(j)
         ) f
    WHERE f.e <> pg_temp.person_no(f.u)
    GROUP BY f.u, f.e
    ORDER BY f.u, f.e;
    COMMIT;
    lo := lo + batch;
    RAISE NOTICE 'follows: users %/% (% s)', least(nu, lo - 1), nu,
      round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);
  END LOOP;

  -- Heavy viewers (issue 10): entities that never post, list or host ("dormant"
  -- businesses 'd0000000-0000-4000-8000-' || lpad(to_hex(d), 12, '0'), d = 1..4500,
  -- handle dormant<d>, each owned by a user 800000 + d who owns nothing else), and
  -- follow-only users who own no entity:
  --   users 900001..900010  follow all 4,500 dormant entities + 500 active ones (5,000)
  --   users 900011..900020  follow 700 dormant entities + 110 active ones (810)
  -- The active ones are drawn uniformly (hash order) from the entities above, which
  -- all post (Zipf s = 0.5 gives even the last entity ~18 posts).  Independent of scale.
  PERFORM pg_temp.fast_mode('entities');
  INSERT INTO entities (id, owner_user_id, kind, handle, display_name, created_at)
  SELECT pg_temp.dormant(d.d), pg_temp.uid(800000 + d.d), 'business', 'dormant' || d.d,
         'Dormant ' || d.d, asof - (1 + pg_temp.u01(d.d, s + 81) * 720) * interval '1 day'
  FROM generate_series(1, 4500) AS d(d);
  PERFORM pg_temp.fast_mode('follows');
  INSERT INTO follows (follower_user_id, entity_id, created_at)
  SELECT pg_temp.uid(900000 + h.h), x.e, asof - pg_temp.u01(h.h * 100000 + x.j, s + 84) * interval '300 days'
  FROM generate_series(1, 20) AS h(h)
  CROSS JOIN LATERAL (
    (SELECT pg_temp.dormant(d.d) AS e, d.d AS j FROM generate_series(1, 4500) AS d(d)
     ORDER BY pg_temp.u01(d.d * 100 + h.h, s + 82), d.d LIMIT CASE WHEN h.h <= 10 THEN 4500 ELSE 700 END)
    UNION ALL
    (SELECT pg_temp.eid(a.n), 10000 + a.n FROM generate_series(1, ne) AS a(n)
     ORDER BY pg_temp.u01(a.n * 100 + h.h, s + 83), a.n LIMIT CASE WHEN h.h <= 10 THEN 500 ELSE 110 END)) x;
  COMMIT;
  RAISE NOTICE 'heavy viewers: 4500 dormant entities, 20 viewers (% s)',
    round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  -- Posts: post n is created at asof - 180 d·(1 - n/np)^1.5 (denser towards as-of, ids in
  -- time order), minus up to a minute of jitter; 20 % reels, 1 % deleted.
  batch := 100000;
  lo := 1;
  WHILE lo <= np LOOP
    PERFORM pg_temp.fast_mode('posts');
    INSERT INTO posts (id, author_entity_id, kind, body, media_url, base_score, created_at, deleted_at)
    SELECT p.n, pg_temp.eid(pg_temp.zipf(pg_temp.u01(p.n, s + 21), ne, 0.5)),
           CASE WHEN pg_temp.u01(p.n, s + 22) < 0.2 THEN 'reel' ELSE 'post' END,
           'Post ' || p.n,
           CASE WHEN pg_temp.u01(p.n, s + 22) < 0.2 THEN 'https://cdn.example.com/r/' || p.n || '.mp4' END,
           0.01 + 0.99 * power(pg_temp.u01(p.n, s + 23), 2),
           p.t,
           CASE WHEN pg_temp.u01(p.n, s + 24) < 0.01 THEN p.t + interval '1 hour' END
    FROM (SELECT g.n, asof - (180 * power(1 - (g.n - 0.5) / np, 1.5)) * interval '1 day'
                           - pg_temp.u01(g.n, s + 25) * interval '1 minute' AS t
          FROM generate_series(lo, least(np, lo + batch - 1)) AS g(n)) p;
    COMMIT;
    lo := lo + batch;
    RAISE NOTICE 'posts: %/% (% s)', least(np, lo - 1), np,
      round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);
  END LOOP;
  PERFORM setval(pg_get_serial_sequence('posts', 'id'), np);

  -- Listings: same time spread; 75 % sold by shops (Zipf over businesses), 25 % by persons.
  batch := 100000;
  lo := 1;
  WHILE lo <= nl LOOP
    PERFORM pg_temp.fast_mode('listings');
    INSERT INTO listings (id, seller_entity_id, title, price_cents, currency, status, base_score, created_at)
    SELECT g.n,
           CASE WHEN pg_temp.u01(g.n, s + 31) < 0.75
                THEN pg_temp.eid(11 * pg_temp.zipf(pg_temp.u01(g.n, s + 32), nb, 0.7))
                ELSE pg_temp.person(pg_temp.zipf(pg_temp.u01(g.n, s + 32), nu, 0.7)) END,
           'Item ' || g.n,
           floor(exp(4.6 + pg_temp.u01(g.n, s + 33) * 6.9))::bigint,
           CASE WHEN pg_temp.u01(g.n, s + 34) < 0.1 THEN 'EUR' ELSE 'USD' END,
           CASE WHEN pg_temp.u01(g.n, s + 35) < 0.05 THEN 'draft'
                WHEN pg_temp.u01(g.n, s + 35) < 0.12 THEN 'sold'
                WHEN pg_temp.u01(g.n, s + 35) < 0.15 THEN 'removed' ELSE 'active' END,
           0.01 + 0.99 * power(pg_temp.u01(g.n, s + 36), 2),
           asof - (180 * power(1 - (g.n - 0.5) / nl, 1.5)) * interval '1 day'
                - pg_temp.u01(g.n, s + 37) * interval '1 minute'
    FROM generate_series(lo, least(nl, lo + batch - 1)) AS g(n);
    COMMIT;
    lo := lo + batch;
    RAISE NOTICE 'listings: %/% (% s)', least(nl, lo - 1), nl,
      round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);
  END LOOP;
  PERFORM setval(pg_get_serial_sequence('listings', 'id'), nl);

  -- Events: start between 30 days before and 90 days after as-of, last 1..72 h.
  PERFORM pg_temp.fast_mode('events');
  INSERT INTO events (id, host_entity_id, title, starts_at, ends_at, base_score, created_at)
  SELECT v.n, pg_temp.eid(pg_temp.zipf(pg_temp.u01(v.n, s + 41), ne, 0.7)), 'Event ' || v.n,
         v.st, v.st + (1 + floor(pg_temp.u01(v.n, s + 43) * 72)) * interval '1 hour',
         0.01 + 0.99 * power(pg_temp.u01(v.n, s + 44), 2),
         least(v.st - (1 + pg_temp.u01(v.n, s + 45) * 29) * interval '1 day',
               asof - pg_temp.u01(v.n, s + 46) * interval '7 days')
  FROM (SELECT g.n, asof + (-30 + 120 * pg_temp.u01(g.n, s + 42)) * interval '1 day' AS st
        FROM generate_series(1, nv) AS g(n)) v;
  PERFORM setval(pg_get_serial_sequence('events', 'id'), nv);
  COMMIT;
  RAISE NOTICE 'events: % rows (% s)', nv, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  -- Hides: 20·v^2 per user (mean ~6.7), 80 % recent-skewed posts, 15 % listings, 5 % events.
  PERFORM pg_temp.fast_mode('feed_hides');
  INSERT INTO feed_hides (user_id, item_kind, item_id, hidden_at)
  SELECT pg_temp.uid(h.u), h.kind, h.item, min(h.t)
  FROM (SELECT u.u,
               CASE WHEN x.k < 0.80 THEN 'post' WHEN x.k < 0.95 THEN 'listing' ELSE 'event' END AS kind,
               CASE WHEN x.k < 0.80 THEN np - floor(power(x.i, 2) * np)::bigint
                    WHEN x.k < 0.95 THEN 1 + floor(x.i * nl)::bigint
                    ELSE 1 + floor(x.i * nv)::bigint END AS item,
               asof - x.t * interval '30 days' AS t
        FROM generate_series(1, nu) AS u(u)
        CROSS JOIN LATERAL generate_series(1, floor(20 * power(pg_temp.u01(u.u, s + 50), 2))::int) AS j(j)
        CROSS JOIN LATERAL (SELECT pg_temp.u01(u.u * 1000 + j.j, s + 51) AS k,
                                   pg_temp.u01(u.u * 1000 + j.j, s + 52) AS i,
                                   pg_temp.u01(u.u * 1000 + j.j, s + 53) AS t) x) h
  GROUP BY h.u, h.kind, h.item;
  COMMIT;
  RAISE NOTICE 'feed_hides done (% s)', round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  -- Carts: 30 % of users hold 1..4 listings, quantity 1..3.
  PERFORM pg_temp.fast_mode('shopping_cart_items');
  INSERT INTO shopping_cart_items (user_id, listing_id, quantity, added_at)
  SELECT pg_temp.uid(c.u), c.l, max(c.q), min(c.t)
  FROM (SELECT u.u, 1 + floor(pg_temp.u01(u.u * 1000 + j.j, s + 62) * nl)::bigint AS l,
               1 + floor(power(pg_temp.u01(u.u * 1000 + j.j, s + 63), 3) * 3)::int AS q,
               asof - pg_temp.u01(u.u * 1000 + j.j, s + 64) * interval '14 days' AS t
        FROM generate_series(1, nu) AS u(u)
        CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.u01(u.u, s + 60) < 0.3
                                                   THEN 1 + floor(pg_temp.u01(u.u, s + 61) * 4)::int
                                                   ELSE 0 END) AS j(j)) c
  GROUP BY c.u, c.l;
  COMMIT;
  RAISE NOTICE 'shopping_cart_items done (% s)', round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  -- A few usage events: 0..7 per user over the 20 days before as-of.
  PERFORM pg_temp.fast_mode('usage_events');
  INSERT INTO usage_events (id, user_id, event, props, occurred_at)
  SELECT row_number() OVER (ORDER BY x.u, x.j), pg_temp.uid(x.u),
         (ARRAY['app_open', 'view_post', 'view_listing', 'add_to_cart', 'follow'])
           [1 + floor(pg_temp.u01(x.u * 1000 + x.j, s + 71) * 5)::int],
         jsonb_build_object('src', 'bench_gen', 'n', x.j),
         asof - pg_temp.u01(x.u * 1000 + x.j, s + 72) * interval '20 days'
  FROM (SELECT u.u, j.j FROM generate_series(1, nu) AS u(u)
        CROSS JOIN LATERAL generate_series(1, floor(pg_temp.u01(u.u, s + 70) * 8)::int) AS j(j)) x;
  SELECT count(*) INTO n FROM usage_events;
  PERFORM setval(pg_get_serial_sequence('usage_events', 'id'), greatest(n, 1));
  COMMIT;
  RAISE NOTICE 'usage_events: % rows (% s)', n, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);

  IF EXISTS (SELECT 1 FROM ONLY posts_default) THEN
    RAISE EXCEPTION 'bench/gen: % rows fell into posts_default: as-of % is outside the posts partitions',
      (SELECT count(*) FROM ONLY posts_default), asof USING ERRCODE = '22023';
  END IF;

  PERFORM set_config('session_replication_role', 'origin', false);
  DELETE FROM pg_temp.meta;
  INSERT INTO pg_temp.meta VALUES (p_seed, p_scale, asof, nu, ne, nb, np, nl, nv,
    round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1), clock_timestamp());
  COMMIT;
END $proc$;

SELECT coalesce(nullif(:'asof', '')::timestamptz, date_trunc('day', now())) AS ff_asof \gset
CALL pg_temp.load(:'scale', :'seed', :'ff_asof');
\echo analyzing
ANALYZE;
UPDATE pg_temp.meta SET load_seconds = round(extract(epoch FROM clock_timestamp() - loaded_at)::numeric, 1) + load_seconds;
SELECT 'loaded in ' || load_seconds || ' s (incl. ANALYZE): ' || users || ' users, ' || (SELECT count(*) FROM entities) || ' entities, '
       || (SELECT count(*) FROM follows) || ' follows, ' || posts || ' posts, ' || listings || ' listings, '
       || events || ' events' AS summary FROM pg_temp.meta \gset
\echo :summary
