-- Activity bounds (_ff_entity_activity) and what they buy: the triggers keep an upper
-- bound of every entity's best post and event; the network source skips entities that
-- cannot reach the page, so a viewer following hundreds of quiet entities costs what a
-- viewer following only the active ones costs, with the very same sequence.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
SELECT plan(21);

-- page buffers (shared hits) of one first page, as EXPLAIN (ANALYZE, BUFFERS) counts them
CREATE FUNCTION pg_temp.page_buffers(p_viewer uuid, p_lane text) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM feed_fusion_home_for(%L, %L, NULL, 20)',
                 p_viewer, p_lane) INTO j;
  RETURN (j -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (j -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END $$;
CREATE FUNCTION pg_temp.seq(p_viewer uuid, p_lane text) RETURNS text[]
  LANGUAGE sql AS $$
  SELECT array_agg(f.item_kind || ':' || f.item_id || ':' || f.source ORDER BY f.pos)
  FROM feed_fusion_home_for(p_viewer, p_lane, NULL, 40) f
$$;

-- 1. the triggers keep the bounds
SELECT is((SELECT count(*) FROM _ff_entity_activity a JOIN fx_ents e ON e.id = a.entity_id), 30::bigint,
          'every entity has an activity row');
SELECT is((SELECT count(*) FROM fx_ents e JOIN _ff_entity_activity a ON a.entity_id = e.id
           WHERE a.post_key IS DISTINCT FROM coalesce((SELECT max(p.rank_key) FROM posts p
                 WHERE p.author_entity_id = e.id AND p.deleted_at IS NULL), '-Infinity')), 0::bigint,
          'post_key is the best live post''s rank_key');
SELECT is((SELECT count(*) FROM fx_ents e JOIN _ff_entity_activity a ON a.entity_id = e.id
           WHERE a.event_key IS DISTINCT FROM coalesce((SELECT max(v.rank_key) FROM events v
                 WHERE v.host_entity_id = e.id), '-Infinity')), 0::bigint,
          'event_key is the best event''s rank_key');
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES (tests.uid(7001), tests.uid(701), 'business', 'quiet');
SELECT is((SELECT ARRAY[post_key, event_key] FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)),
          ARRAY['-Infinity', '-Infinity']::float8[], 'a new entity starts with no activity');
INSERT INTO posts (id, author_entity_id, base_score, created_at, deleted_at) OVERRIDING SYSTEM VALUE
VALUES (970001, tests.uid(7001), 0.5, now() - interval '2 days', now());
SELECT is((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)), '-Infinity'::float8,
          'a deleted post raises nothing');
-- a row written straight into a partition fires the partition's clone of the trigger
SELECT format('%I.%I', n.nspname, c.relname) AS part
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = 'posts'::regclass
  AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (''' || to_char(date_trunc('month', now()), 'YYYY-MM-DD') || '%'
\gset
INSERT INTO :part (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE
VALUES (970002, tests.uid(7001), 0.5, now());
SELECT is((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)),
          (SELECT rank_key FROM posts WHERE id = 970002), 'an insert into a partition raises the bound');
UPDATE posts SET base_score = 1.0 WHERE id = 970002;
SELECT is((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)),
          (SELECT rank_key FROM posts WHERE id = 970002), 'an update raising the score raises the bound');
UPDATE posts SET deleted_at = now() WHERE id = 970002;
SELECT ok((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)) > '-Infinity',
          'a bound never falls (a deleted post leaves an overestimate)');
INSERT INTO events (host_entity_id, title, starts_at, ends_at, base_score, created_at)
VALUES (tests.uid(7001), 'e', now(), now() + interval '1 day', 0.3, now());
SELECT is((SELECT event_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)),
          (SELECT max(rank_key) FROM events WHERE host_entity_id = tests.uid(7001)), 'an event raises event_key');
-- many rows of one entity in one statement: the bound is the best of them
INSERT INTO posts (author_entity_id, base_score, created_at)
SELECT tests.uid(7001), g / 100.0, now() - g * interval '1 minute' FROM generate_series(1, 100) g;
SELECT is((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)),
          (SELECT max(rank_key) FROM posts WHERE author_entity_id = tests.uid(7001) AND id <> 970001),
          'a bulk insert leaves the best rank_key any live row ever had');
-- a raise undone by ROLLBACK TO SAVEPOINT is made again by the next equal post
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES (tests.uid(7002), tests.uid(702), 'business', 'sp');
SAVEPOINT sp;
INSERT INTO posts (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE
VALUES (970011, tests.uid(7002), 0.9, now());
ROLLBACK TO SAVEPOINT sp;
INSERT INTO posts (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE
VALUES (970012, tests.uid(7002), 0.9, now());
SELECT is((SELECT post_key FROM _ff_entity_activity WHERE entity_id = tests.uid(7002)),
          (SELECT rank_key FROM posts WHERE id = 970012), 'a raise rolled back to a savepoint is redone');
DELETE FROM entities WHERE id = tests.uid(7001);
SELECT is((SELECT count(*) FROM _ff_entity_activity WHERE entity_id = tests.uid(7001)), 0::bigint,
          'deleting the entity deletes its row');

-- 2. app roles have no access; foreign triggers on the table are refused
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok('SELECT count(*) FROM _ff_entity_activity', '42501', NULL, 'authenticated cannot read the bounds');
SELECT throws_ok($$UPDATE _ff_entity_activity SET post_key = '-Infinity'$$, '42501', NULL,
                 'authenticated cannot lower a bound');
SELECT tests.reset();
CREATE FUNCTION public.ff_test_foreign_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER foreign_trg BEFORE UPDATE ON _ff_entity_activity FOR EACH ROW EXECUTE FUNCTION public.ff_test_foreign_trg();
SAVEPOINT s;
SELECT throws_ok($$INSERT INTO posts (author_entity_id, base_score, created_at) VALUES (tests.uid(1002), 1, now())$$,
                 '55000', NULL, 'a foreign trigger on the bounds table is refused, not run as the owner');
ROLLBACK TO SAVEPOINT s;
DROP TRIGGER foreign_trg ON _ff_entity_activity;

-- 3. an entity without a row is unknown and still visited
SELECT pg_temp.seq(tests.uid(1), 'following') AS before_seq \gset
DELETE FROM _ff_entity_activity WHERE entity_id IN (tests.uid(1002), tests.uid(1003));
SELECT is(pg_temp.seq(tests.uid(1), 'following'), :'before_seq'::text[],
          'entities without an activity row are visited: same page');
SELECT ok(cardinality(:'before_seq'::text[]) > 0 AND
          EXISTS (SELECT 1 FROM unnest(:'before_seq'::text[]) x WHERE x LIKE '%:network'),
          'that page has network items');

-- 4. cost follows the page: 600 quiet follows add (almost) nothing
INSERT INTO entities (id, owner_user_id, kind, handle)
SELECT tests.uid(800000 + g), tests.uid(80000 + g), 'business', 'q' || g FROM generate_series(1, 600) g;
INSERT INTO follows (follower_user_id, entity_id)
SELECT tests.uid(51), e FROM unnest(ARRAY[tests.uid(1002), tests.uid(1003), tests.uid(1004), tests.uid(2011)]) e;
INSERT INTO follows (follower_user_id, entity_id)
SELECT tests.uid(52), e FROM unnest(ARRAY[tests.uid(1002), tests.uid(1003), tests.uid(1004), tests.uid(2011)]) e;
INSERT INTO follows (follower_user_id, entity_id)
SELECT tests.uid(52), tests.uid(800000 + g) FROM generate_series(1, 600) g;
SELECT is(pg_temp.seq(tests.uid(52), 'following'), pg_temp.seq(tests.uid(51), 'following'),
          'quiet follows change nothing in the page');
SELECT pg_temp.page_buffers(tests.uid(51), 'following') AS light, pg_temp.page_buffers(tests.uid(52), 'following') AS heavy \gset
SELECT cmp_ok(:heavy::bigint, '<=', :light::bigint + 40,
              format('600 quiet follows cost a page at most 40 buffers more (light %s, heavy %s)', :light, :heavy));
SET LOCAL feed_fusion.feed_network_strategy = 'filter';
SELECT is(pg_temp.seq(tests.uid(52), 'following'), pg_temp.seq(tests.uid(51), 'following'),
          'the filter strategy gives the same page');
RESET feed_fusion.feed_network_strategy;
-- a quiet entity that posts is seen at once (the bounds cache follows the change)
INSERT INTO posts (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE
VALUES (970003, tests.uid(800007), 1.0, now());
SELECT ok('post:970003:network' = ANY (pg_temp.seq(tests.uid(52), 'following')),
          'a post by a formerly quiet followed entity shows up on the next page');

SELECT * FROM finish();
ROLLBACK;
