-- The strong baseline (bench/feed/baseline_keyset.sql: keyset per source, PL/pgSQL blend,
-- its own continuation state) yields exactly feed_fusion_home_for's sequences: 5 pages,
-- several viewers (with network, without, >500 follows = the filter plan, one who owns a
-- business, one whose followed entity's best post is older than the 14-day look-back,
-- anonymous), every lane, pages of 20 and 7.  Otherwise bench/feed/run.sh
-- compares ours with something that does less work.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
\ir ../../bench/feed/baseline_keyset.sql

-- viewer 3 follows 12 entities (incl. a business); viewer 4 follows 600 entities that never
-- post plus 8 that do (more than 500 follows: both implementations switch to the filter plan);
-- viewer 12 owns a business and follows viewer 1.
INSERT INTO follows (follower_user_id, entity_id)
SELECT tests.uid(3), tests.uid(1000 + i) FROM generate_series(4, 14) i
UNION ALL SELECT tests.uid(3), tests.uid(2015);
INSERT INTO entities (id, owner_user_id, kind, handle)
SELECT tests.uid(5000 + i), tests.uid(6000 + i), 'business', 'dormant' || i FROM generate_series(1, 600) i;
INSERT INTO follows (follower_user_id, entity_id)
SELECT tests.uid(4), tests.uid(5000 + i) FROM generate_series(1, 600) i
UNION ALL SELECT tests.uid(4), tests.uid(1000 + i) FROM generate_series(5, 12) i;
INSERT INTO follows (follower_user_id, entity_id) VALUES (tests.uid(12), tests.uid(1001));
-- viewer 5 follows one entity whose 15-day-old post (base score 1) outranks ten 13-day-old
-- ones (base score 0.01): a read bounded to the last 14 days of created_at must stop at
-- the bound's key, not serve the newer, lower-ranked posts first.
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES (tests.uid(7001), tests.uid(7002), 'business', 'oldstar');
INSERT INTO follows (follower_user_id, entity_id) VALUES (tests.uid(5), tests.uid(7001));
INSERT INTO posts (author_entity_id, kind, base_score, created_at)
SELECT tests.uid(7001), 'post', 0.01, now() - interval '13 days' - g * interval '1 minute' FROM generate_series(1, 10) g
UNION ALL SELECT tests.uid(7001), 'post', 1.0, now() - interval '15 days'
UNION ALL SELECT tests.uid(7001), 'post', 0.5, now() - interval '1 day';

-- ours: p_pages pages of p_size through feed_fusion_home_for's cursors
CREATE FUNCTION pg_temp.ours(p_viewer uuid, p_lane text, p_size int, p_pages int) RETURNS text[]
  LANGUAGE plpgsql AS $$
DECLARE c text; r record; out text[] := '{}'; got int;
BEGIN
  FOR pg IN 1..p_pages LOOP
    got := 0;
    FOR r IN SELECT * FROM feed_fusion_home_for(p_viewer, p_lane, c, p_size) LOOP
      out := out || format('%s:%s:%s:%s', r.pos, r.item_kind, r.item_id, r.source);
      c := r.cursor; got := got + 1;
    END LOOP;
    EXIT WHEN got < p_size OR c IS NULL;
  END LOOP;
  RETURN out;
END $$;

-- the baseline: the same pages through its own state
CREATE FUNCTION pg_temp.base(p_viewer uuid, p_lane text, p_size int, p_pages int) RETURNS text[]
  LANGUAGE plpgsql AS $$
DECLARE st jsonb; r record; out text[] := '{}'; got int;
BEGIN
  FOR pg IN 1..p_pages LOOP
    got := 0; st := CASE WHEN pg = 1 THEN NULL ELSE st END;
    FOR r IN SELECT * FROM ff_bench.keyset_home(p_viewer, p_lane,
                                                CASE WHEN pg = 1 THEN NULL ELSE st END, p_size) LOOP
      out := out || format('%s:%s:%s:%s', r.pos, r.item_kind, r.item_id, r.source);
      got := got + 1;
      IF got = p_size THEN st := r.state; END IF;
    END LOOP;
    EXIT WHEN got < p_size OR st IS NULL;
  END LOOP;
  RETURN out;
END $$;

CREATE TEMP TABLE cases AS
SELECT v.label, v.viewer, l.lane, s.size
FROM (VALUES ('viewer 1 (6 follows)', tests.uid(1)), ('viewer 3 (12 follows)', tests.uid(3)),
             ('viewer 4 (608 follows)', tests.uid(4)), ('viewer 12 (business owner)', tests.uid(12)),
             ('viewer 5 (an old post outranks newer ones)', tests.uid(5)),
             ('viewer 7 (no follows)', tests.uid(7)), ('anonymous', NULL::uuid)) v(label, viewer)
CROSS JOIN (SELECT lane FROM feed_lanes) l
CROSS JOIN (VALUES (20), (7)) s(size);

SELECT plan((SELECT count(*)::int FROM cases) + 5);

SELECT is(pg_temp.base(viewer, lane, size, 5), pg_temp.ours(viewer, lane, size, 5),
          format('%s, %s, 5 pages of %s: same sequence', label, lane, size))
FROM cases ORDER BY label, lane, size;

-- the comparison is not vacuous: long sequences, every source present somewhere
SELECT is(cardinality(pg_temp.ours(tests.uid(1), 'for_you', 20, 5)), 100, 'viewer 1 for_you: 5 full pages');
SELECT ok((SELECT count(DISTINCT split_part(x, ':', 4)) = 3 FROM unnest(pg_temp.base(tests.uid(4), 'for_you', 20, 5)) x),
          'viewer 4 for_you: network, discover and listings all served');
-- the state continues (no replay): page 2 starts at slot 21 and shares no item with page 1
SELECT is((SELECT min(pos) FROM ff_bench.keyset_home(tests.uid(1), 'for_you',
             (SELECT b.state FROM ff_bench.keyset_home(tests.uid(1), 'for_you', NULL, 20) b WHERE b.state IS NOT NULL), 20)),
          21, 'the state resumes at slot 21');
-- to the feed's end (pages of 100): the same sequence, and the last row carries no state
SELECT is(pg_temp.base(tests.uid(1), 'for_you', 100, 20), pg_temp.ours(tests.uid(1), 'for_you', 100, 20),
          'viewer 1, for_you, to the end of the feed in pages of 100: same sequence');
SELECT cmp_ok(cardinality(pg_temp.base(tests.uid(1), 'for_you', 100, 20)), '<', 2000,
              'the feed ended before 20 pages (its last row has no state)');
SELECT * FROM finish();
ROLLBACK;
