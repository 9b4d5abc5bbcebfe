-- Lane behaviour as data: a maintainer adds a lane with one row of feed_lanes, and its
-- aliases, anonymous policy and feed_shop_blend policy come from that row's columns.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
SELECT plan(16);

-- The seeded lanes carry the behaviour that used to be hard-coded.
SELECT results_eq(
  $$SELECT lane, aliases, honors_shop_blend, serves_anonymous FROM feed_lanes
    WHERE lane IN ('for_you', 'following', 'shop') ORDER BY lane$$,
  $$VALUES ('following'::text, '{personal}'::text[], true, false),
           ('for_you', '{combined}', true, true),
           ('shop', '{}', false, true)$$,
  'seeded lanes: aliases, honors_shop_blend, serves_anonymous');

-- One row adds a lane: listings-heavy, reachable under a legacy name, members only,
-- obeying feed_shop_blend.
INSERT INTO feed_lanes (lane, w_network, w_discover, w_listings, listing_cap, window_size, dedup_delta,
                        aliases, honors_shop_blend, serves_anonymous)
VALUES ('deals', 0.2, 0.2, 0.6, 0.5, 10, 0.25, '{bargains}', true, false);

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT cmp_ok(cardinality(tests.ff_seq('deals', 10)), '>', 0, 'a new lane serves items right away');
SELECT is(tests.ff_seq('bargains', 7), tests.ff_seq('deals', 10), 'an alias serves the same sequence as the lane');
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('deals', 20, 200) WHERE item_kind = 'listing'), '>', 0,
              'the new lane blends listings');
-- a cursor issued under the alias is bound to the canonical lane
SELECT lives_ok(
  $$SELECT * FROM feed_fusion_home('deals', (SELECT cursor FROM feed_fusion_home('bargains', NULL, 3) WHERE pos = 3), 3)$$,
  'a cursor from the alias resumes under the lane name');
SELECT throws_ok(
  $$SELECT * FROM feed_fusion_home('for_you', (SELECT cursor FROM feed_fusion_home('bargains', NULL, 3) WHERE pos = 3), 3)$$,
  '22023', 'invalid feed cursor', 'a cursor from the alias is not valid on another lane');

-- honors_shop_blend: the flag turns listings off only where the lane says so
SELECT tests.reset();
UPDATE feature_flags SET deny_users = ARRAY[tests.uid(1)] WHERE key = 'feed_shop_blend';
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT is((SELECT count(*)::int FROM tests.ff_walk('deals', 20, 200) WHERE item_kind = 'listing'), 0,
          'honors_shop_blend true: flag off removes listings');
SELECT tests.reset();
UPDATE feed_lanes SET honors_shop_blend = false WHERE lane = 'deals';
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('deals', 20, 200) WHERE item_kind = 'listing'), '>', 0,
              'honors_shop_blend false: listings stay with the flag off');
SELECT tests.reset();
UPDATE feature_flags SET deny_users = '{}' WHERE key = 'feed_shop_blend';

-- serves_anonymous: read per call, like the weights
SELECT tests.login_as('anon', NULL);
SELECT is((SELECT count(*)::int FROM feed_fusion_home('deals')), 0, 'serves_anonymous false: anonymous gets no rows');
SELECT is((SELECT count(*)::int FROM feed_fusion_home('bargains')), 0, '... also through the alias');
SELECT tests.reset();
UPDATE feed_lanes SET serves_anonymous = true WHERE lane = 'deals';
SELECT tests.login_as('anon', NULL);
SELECT cmp_ok((SELECT count(*)::int FROM feed_fusion_home('deals')), '>', 0, 'serves_anonymous true: anonymous gets rows');
SELECT is((SELECT count(*)::int FROM tests.ff_walk('deals', 20) WHERE source = 'network'), 0, '... and no network items');
SELECT tests.reset();

-- The unknown-lane error lists the lanes and legacy names from the table.
CREATE FUNCTION pg_temp.lane_error(p_lane text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
  PERFORM * FROM feed_fusion_home(p_lane);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN st || ' | ' || msg || ' | ' || hint;
END $$;
SELECT is(pg_temp.lane_error('nope'),
  '22023 | unknown feed lane "nope" | Lanes: deals, following, for_you, shop; legacy names: bargains (deals), combined (for_you), personal (following).',
  'unknown lane: 22023 with the lanes and legacy names in the hint');
-- a lane name always wins over another lane's alias
INSERT INTO feed_lanes (lane, w_network, w_discover, w_listings, listing_cap, window_size, dedup_delta, aliases)
VALUES ('shop2', 0.1, 0.05, 0.85, 0.5, 20, 0.25, '{deals}');
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT is(tests.ff_seq('deals', 10), tests.ff_seq('bargains', 10), 'a lane name wins over an alias of another lane');
SELECT tests.reset();
-- aliases must look like lane names
SELECT throws_ok($$UPDATE feed_lanes SET aliases = '{"Bad Name"}' WHERE lane = 'deals'$$, '23514',
                 NULL, 'aliases follow the lane-name syntax');
DELETE FROM feed_lanes WHERE lane = 'shop2';
SELECT is((SELECT count(*)::int FROM feed_lanes WHERE lane = 'deals'), 1, 'the lane is one row');

SELECT * FROM finish();
ROLLBACK;
