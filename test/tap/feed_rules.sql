-- Feed ranker: known-answer seller rule (also across page boundaries), shares,
-- hides/cart after a cursor was issued, flags, anonymous viewers, home_for, limits.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
SELECT plan(30);

-- A: seller rule with a known answer.  Lane tnet: network only (weights 1/0/0).
-- viewer 3 follows entity A = uid(3001); discover has B = uid(3002).  Scores ~ base_score.
INSERT INTO feed_lanes VALUES ('tnet', 1, 0, 0, 0.5, 20, 0.25);
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
  (tests.uid(3001), tests.uid(301), 'business', 'sa'), (tests.uid(3002), tests.uid(302), 'business', 'sb');
INSERT INTO follows VALUES (tests.uid(3), tests.uid(3001));
-- hide all fixture content from viewer 3 so the known answer is small
INSERT INTO feed_hides (user_id, item_kind, item_id)
SELECT tests.uid(3), 'post', id FROM posts UNION ALL SELECT tests.uid(3), 'event', id FROM events
UNION ALL SELECT tests.uid(3), 'listing', id FROM listings;
INSERT INTO posts (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE VALUES
  (900001, tests.uid(3001), 0.9, now()), (900002, tests.uid(3001), 0.8, now()),
  (900003, tests.uid(3001), 0.7, now()), (900004, tests.uid(3002), 0.5, now()),
  (900005, tests.uid(3001), 0.6, now());
SELECT tests.login_as('authenticated', tests.uid(3));
-- slot1 A.9; slot2 A.8 kept (0.8-0.5 >= 0.25); slot3 A.7 vs B.5: 0.2 < 0.25 -> B;
-- slot4 A.7 (previous is B); slot5 A.6 (no alternative left: stays)
SELECT is(tests.ff_seq('tnet', 20), ARRAY['post:900001:network', 'post:900002:network', 'post:900004:discover',
          'post:900003:network', 'post:900005:network'], 'seller rule: known answer');
SELECT is(tests.ff_seq('tnet', 1), tests.ff_seq('tnet', 20), 'seller rule holds across page boundaries (pages of 1)');
SELECT is(tests.ff_seq('tnet', 2), tests.ff_seq('tnet', 20), 'seller rule holds across page boundaries (pages of 2)');
SELECT tests.reset();
UPDATE feed_lanes SET dedup_delta = 0.05 WHERE lane = 'tnet';
SELECT tests.login_as('authenticated', tests.uid(3));
-- every gap to B (0.3, 0.2, 0.1) is now >= 0.05: A keeps its slots, B comes last
SELECT is(tests.ff_seq('tnet', 3), ARRAY['post:900001:network', 'post:900002:network', 'post:900003:network',
          'post:900005:network', 'post:900004:discover'], 'lane config is read per call (dedup_delta 0.05)');
SELECT tests.reset();

-- B: shares within one item of the weights on plentiful data (distinct entities, cap not binding)
INSERT INTO entities (id, owner_user_id, kind, handle)
SELECT tests.uid(5000 + i), tests.uid(500 + i), 'business', 'pl' || i FROM generate_series(1, 600) i;
INSERT INTO follows SELECT tests.uid(4), tests.uid(5000 + i) FROM generate_series(1, 200) i;
INSERT INTO feed_hides (user_id, item_kind, item_id)
SELECT tests.uid(4), 'post', id FROM posts UNION ALL SELECT tests.uid(4), 'event', id FROM events
UNION ALL SELECT tests.uid(4), 'listing', id FROM listings;
INSERT INTO posts (author_entity_id, base_score, created_at)
SELECT tests.uid(5000 + i), 0.05 + random() * 0.95, now() - random() * interval '10 days' FROM generate_series(1, 400) i;
INSERT INTO listings (seller_entity_id, title, price_cents, base_score, created_at)
SELECT tests.uid(5400 + i), 'pl', 1, 0.05 + random() * 0.95, now() - random() * interval '10 days' FROM generate_series(1, 200) i;
SELECT tests.login_as('authenticated', tests.uid(4));
CREATE TEMP TABLE sh AS SELECT l.lane, x.n, x.source FROM unnest(ARRAY['for_you', 'following']) l(lane)
  CROSS JOIN LATERAL tests.ff_walk(l.lane, 25, 150) x;
SELECT tests.reset();
SELECT cmp_ok((SELECT max(abs(t.cnt - f.w * t.n)) FROM (
                 SELECT lane, n, source, count(*) OVER (PARTITION BY lane, source ORDER BY n) cnt FROM sh) t0
               JOIN LATERAL (SELECT t0.lane, t0.n, s.src AS source,
                               (SELECT count(*) FROM sh x WHERE x.lane = t0.lane AND x.n <= t0.n AND x.source = s.src) cnt
                             FROM unnest(ARRAY['network', 'discover', 'listings']) s(src)) t ON true
               JOIN LATERAL (SELECT CASE t.source WHEN 'network' THEN w_network WHEN 'discover' THEN w_discover
                                    ELSE w_listings END w FROM feed_lanes WHERE lane = t.lane) f ON true
               WHERE t0.lane = l)::float8, '<=', 1.0::float8, l || ': every prefix within one item of the weights')
FROM unnest(ARRAY['for_you', 'following']) l;
SELECT is((SELECT count(*)::int FROM sh WHERE lane = 'for_you' AND n <= 100 AND source = 'network'), 60, 'for_you: 60 % network in 100 items');

-- C: hides and cart changes after the cursor was issued
SELECT tests.login_as('authenticated', tests.uid(1));
CREATE TEMP TABLE full_seq AS SELECT * FROM tests.ff_walk('for_you', 100);
CREATE TEMP TABLE p1 AS SELECT * FROM feed_fusion_home('for_you', NULL, 10);
SELECT tests.reset();
INSERT INTO feed_hides (user_id, item_kind, item_id)
SELECT tests.uid(1), CASE item_kind WHEN 'reel' THEN 'post' ELSE item_kind END, item_id FROM full_seq
WHERE n IN (11, 12, 15) AND item_kind <> 'listing';
INSERT INTO shopping_cart_items (user_id, listing_id)
SELECT tests.uid(1), item_id FROM full_seq WHERE item_kind = 'listing' AND n > 10 ORDER BY n LIMIT 2;
SELECT tests.login_as('authenticated', tests.uid(1));
CREATE TEMP TABLE p2 AS SELECT * FROM feed_fusion_home('for_you', (SELECT cursor FROM p1 WHERE pos = 10), 30);
SELECT ok(NOT EXISTS (SELECT 1 FROM p2 JOIN full_seq f USING (item_kind, item_id) WHERE f.n IN (11, 12, 15) AND f.item_kind <> 'listing'),
          'items hidden after the cursor was issued never appear');
SELECT ok(NOT EXISTS (SELECT 1 FROM p2 JOIN shopping_cart_items c ON c.user_id = tests.uid(1) AND c.listing_id = p2.item_id
                      WHERE p2.item_kind = 'listing'), 'listings carted after the cursor was issued never appear');
SELECT is((SELECT min(pos) FROM p2), 11, 'the next page continues at slot 11');
SELECT ok(NOT EXISTS (SELECT 1 FROM p2 JOIN p1 USING (item_kind, item_id)), 'no repeats after hides');

-- D: flags off for this viewer change the feed
SELECT tests.reset();
UPDATE feature_flags SET deny_users = ARRAY[tests.uid(1)] WHERE key = 'feed_shop_blend';
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT is((SELECT count(*)::int FROM tests.ff_walk('for_you', 50, 300) WHERE item_kind = 'listing'), 0, 'feed_shop_blend off: no listings in for_you');
SELECT is((SELECT count(*)::int FROM tests.ff_walk('following', 50, 300) WHERE item_kind = 'listing'), 0, 'feed_shop_blend off: no listings in following');
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('shop', 50, 300) WHERE item_kind = 'listing'), '>', 0, 'feed_shop_blend off: shop still has listings');
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('for_you', 50, 300) WHERE item_kind = 'listing'), '>', 0, 'other users still get listings');
SELECT tests.reset();
UPDATE feature_flags SET deny_users = ARRAY[tests.uid(1)] WHERE key = 'discover_reels';
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT is((SELECT count(*)::int FROM tests.ff_walk('for_you', 50) WHERE item_kind = 'reel' AND source = 'discover'), 0, 'discover_reels off: no reels from discover');
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('for_you', 50) WHERE item_kind = 'reel' AND source = 'network'), '>', 0, 'discover_reels off: followed reels stay');
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_walk('for_you', 50) WHERE item_kind = 'reel' AND source = 'discover'), '>', 0, 'others still get discover reels');
SELECT tests.reset();
UPDATE feature_flags SET deny_users = '{}' WHERE key IN ('discover_reels', 'feed_shop_blend');

-- E: anonymous viewers
SELECT tests.login_as('anon', NULL);
SELECT is((SELECT count(*)::int FROM feed_fusion_home('following')), 0, 'anonymous: following is empty');
SELECT is((SELECT count(*)::int FROM tests.ff_walk('for_you', 20) WHERE source = 'network'), 0, 'anonymous: no network');
SELECT cmp_ok((SELECT count(DISTINCT source)::int FROM tests.ff_walk('for_you', 20)), '=', 2, 'anonymous for_you: discover + listings');
SELECT tests.reset();

-- F: feed_fusion_home_for
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok($$SELECT * FROM feed_fusion_home_for(tests.uid(2), 'for_you', NULL, 10)$$, '42501', NULL,
                 'home_for: authenticated gets 42501');
SELECT array_agg(item_kind || item_id ORDER BY n)::text AS mine_seq FROM tests.ff_walk('shop', 20) \gset
SELECT tests.login_as('service_role', NULL);
SELECT is((SELECT array_agg(item_kind || item_id ORDER BY n) FROM tests.ff_walk_for(tests.uid(1), 'shop', 20)),
          :'mine_seq'::text[], 'home_for(viewer) = that viewer''s home feed');
SELECT is((SELECT count(*)::int FROM feed_fusion_home_for(NULL, 'following', NULL, 10)), 0, 'home_for(NULL) is anonymous');
SELECT tests.reset();

-- H: old partitions are reached when recent ones run dry (look-back widening)
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES (tests.uid(6001), tests.uid(601), 'business', 'old');
INSERT INTO follows VALUES (tests.uid(6), tests.uid(6001));
INSERT INTO posts (id, author_entity_id, base_score, created_at) OVERRIDING SYSTEM VALUE VALUES
  (700001, tests.uid(6001), 0.5, now() - interval '1 day'), (700002, tests.uid(6001), 1.0, now() - interval '40 days'),
  (700003, tests.uid(6001), 1.0, now() - interval '200 days'), (700004, tests.uid(6001), 0.01, now() - interval '2 hours');
SELECT tests.login_as('authenticated', tests.uid(6));
SELECT is((SELECT array_agg(item_id ORDER BY n) FROM tests.ff_walk('following', 2) WHERE source = 'network'),
          ARRAY[700001, 700004, 700002, 700003]::bigint[], 'network reaches posts 40 and 200 days old, in score order');
-- I: both network strategies give the same sequence
SELECT tests.login_as('authenticated', tests.uid(1));
SET LOCAL feed_fusion.feed_network_strategy = 'filter';
SELECT ff_seq AS seq_filter FROM tests.ff_seq('for_you', 20) \gset
SET LOCAL feed_fusion.feed_network_strategy = 'merge';
SELECT is(tests.ff_seq('for_you', 20), :'seq_filter'::text[], 'network strategies merge and filter agree');
SELECT is(current_setting('feed_fusion.feed_network_strategy'), 'merge', 'strategy GUC is settable');
SELECT tests.reset();

-- G: p_limit validation
SELECT throws_ok($$SELECT * FROM feed_fusion_home('for_you', NULL, 0)$$, '22023', NULL, 'p_limit 0: 22023');
SELECT throws_ok($$SELECT * FROM feed_fusion_home('for_you', NULL, 101)$$, '22023', NULL, 'p_limit 101: 22023');
SELECT lives_ok($$SELECT * FROM feed_fusion_home('for_you', NULL, 100)$$, 'p_limit 100 is fine');
SELECT * FROM finish();
ROLLBACK;
