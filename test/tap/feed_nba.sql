-- rocker_next_best_actions: each suggestion appears and disappears with its condition.
BEGIN;
\set QUIET 1
SELECT plan(16);
CREATE FUNCTION tests.nba(p_user uuid, p_limit int DEFAULT 10) RETURNS text[]
  LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE r text[];
BEGIN
  PERFORM tests.login_as('authenticated', p_user);
  SELECT array_agg(action ORDER BY weight DESC) INTO r FROM rocker_next_best_actions(p_limit);
  PERFORM tests.reset();
  RETURN coalesce(r, '{}');
END $$;

-- brand-new user without a person entity
SELECT is(tests.nba(tests.uid(50)), ARRAY['complete_profile', 'list_first_item', 'follow_creators'],
          'new user: complete profile, list first item, follow creators (no engage yet)');
-- person entity 30 days old, no avatar/bio, no activity
INSERT INTO entities (id, owner_user_id, kind, handle, created_at)
VALUES (tests.uid(5050), tests.uid(50), 'person', 'nba50', now() - interval '30 days');
SELECT is(tests.nba(tests.uid(50)), ARRAY['complete_profile', 'list_first_item', 'engage', 'follow_creators'],
          'account older than 8 days without activity: engage');
SELECT tests.login_as('authenticated', tests.uid(50));
SELECT is((SELECT reason FROM rocker_next_best_actions(4) WHERE action = 'complete_profile'),
          'Your profile has no avatar and no bio.', 'reason says what is missing');
SELECT is((SELECT array_agg(weight ORDER BY weight DESC) FROM rocker_next_best_actions(4)),
          ARRAY[0.9, 0.8, 0.7, 0.6]::float8[], 'documented weights, highest first');
SELECT is((SELECT count(*)::int FROM rocker_next_best_actions()), 3, 'default p_limit 3');
SELECT throws_ok($$SELECT * FROM rocker_next_best_actions(0)$$, '22023', NULL, 'p_limit 0: 22023');
SELECT tests.reset();
UPDATE entities SET avatar_url = 'https://x/a.png' WHERE id = tests.uid(5050);
SELECT ok('complete_profile' = ANY (tests.nba(tests.uid(50))), 'bio still missing: complete_profile stays');
UPDATE entities SET bio = 'hi' WHERE id = tests.uid(5050);
SELECT ok(NOT 'complete_profile' = ANY (tests.nba(tests.uid(50))), 'avatar and bio set: complete_profile disappears');
-- first listing (any status) removes list_first_item
INSERT INTO listings (seller_entity_id, title, price_cents, status) VALUES (tests.uid(5050), 'first', 100, 'draft');
SELECT ok(NOT 'list_first_item' = ANY (tests.nba(tests.uid(50))), 'after the first listing: list_first_item disappears');
-- activity
INSERT INTO usage_events (user_id, event, occurred_at) VALUES (tests.uid(50), 'open', now() - interval '9 days');
SELECT ok('engage' = ANY (tests.nba(tests.uid(50))), 'last activity 9 days ago: engage');
INSERT INTO usage_events (user_id, event, occurred_at) VALUES (tests.uid(50), 'open', now() - interval '1 day');
SELECT ok(NOT 'engage' = ANY (tests.nba(tests.uid(50))), 'active yesterday: engage disappears');
-- a young account without activity is not nagged
INSERT INTO entities (id, owner_user_id, kind, handle, created_at)
VALUES (tests.uid(5051), tests.uid(51), 'person', 'nba51', now() - interval '2 days');
SELECT ok(NOT 'engage' = ANY (tests.nba(tests.uid(51))), 'account 2 days old, no activity: no engage');
-- follows
INSERT INTO entities (id, owner_user_id, kind, handle) SELECT tests.uid(5100 + i), tests.uid(100 + i), 'business', 'f' || i
FROM generate_series(1, 3) i;
INSERT INTO follows SELECT tests.uid(50), tests.uid(5100 + i) FROM generate_series(1, 2) i;
SELECT ok('follow_creators' = ANY (tests.nba(tests.uid(50))), '2 follows: follow_creators');
INSERT INTO follows VALUES (tests.uid(50), tests.uid(5103));
SELECT is(tests.nba(tests.uid(50)), '{}'::text[], '3 follows, complete profile, a listing, active: nothing to suggest');
-- anonymous: nothing
SELECT tests.login_as('anon', NULL);
SELECT is((SELECT count(*)::int FROM rocker_next_best_actions()), 0, 'anonymous: no suggestions');
SELECT tests.reset();
-- another user's data never counts
SELECT is(tests.nba(tests.uid(52)), ARRAY['complete_profile', 'list_first_item', 'follow_creators'],
          'suggestions are per user');
SELECT * FROM finish();
ROLLBACK;
