-- feed: errors, privileges, READ ONLY transactions, status (deterministic output)
\set VERBOSITY terse
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
  (tests.uid(9001), tests.uid(91), 'person', 'fb1'), (tests.uid(9002), tests.uid(92), 'person', 'fb2');
INSERT INTO posts (author_entity_id, base_score, created_at)
SELECT tests.uid(9001 + g % 2), g / 40.0, now() - g * interval '1 hour' FROM generate_series(1, 30) g;
INSERT INTO listings (seller_entity_id, title, price_cents, created_at)
SELECT tests.uid(9001 + g % 2), 'l' || g, 100, now() - g * interval '2 hours' FROM generate_series(1, 10) g;

SELECT component, mode, detail ? 'cursor_secret' AS has_secret_key, (detail ->> 'cursor_secret')::bool AS secret
FROM ff_status() WHERE component = 'feed';

-- anon: a feed (discover + listings) in a READ ONLY transaction
SELECT tests.login_as('anon', NULL);
BEGIN READ ONLY;
SELECT pos, item_kind, source FROM feed_fusion_home('for_you', NULL, 6);
SELECT count(*) AS profile_rows FROM feed_fusion_profile(tests.uid(9001));
SELECT count(*) AS nba_rows FROM rocker_next_best_actions();
COMMIT;
-- anon cannot read the secret, nor call home_for
SELECT * FROM _ff_feed_secret;
SELECT * FROM feed_fusion_home_for(tests.uid(91), 'for_you', NULL, 5);
SELECT tests.reset();

-- authenticated: a READ ONLY page, then errors
SELECT tests.login_as('authenticated', tests.uid(91));
BEGIN READ ONLY;
SELECT pos, item_kind, source, cursor IS NULL AS last FROM feed_fusion_home('shop', NULL, 5);
COMMIT;
SELECT * FROM feed_fusion_home('trending');
SELECT * FROM feed_fusion_home('for_you', NULL, 0);
SELECT * FROM feed_fusion_home('for_you', NULL, 101);
SELECT * FROM feed_fusion_home('for_you', NULL, NULL);
SELECT * FROM feed_fusion_home('for_you', 'not a cursor', 10);
SELECT * FROM feed_fusion_home('for_you', '', 10);
SELECT * FROM feed_fusion_home('for_you', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 10);
SELECT * FROM feed_fusion_home('for_you', repeat('A', 300), 10);
SELECT * FROM feed_fusion_home_for(tests.uid(92), 'for_you', NULL, 5);
SELECT * FROM _ff_feed_secret;
SELECT tests.reset();

-- the C check holds even if EXECUTE is granted by mistake
GRANT EXECUTE ON FUNCTION feed_fusion_home_for(uuid, text, text, int) TO authenticated;
SELECT tests.login_as('authenticated', tests.uid(91));
SELECT * FROM feed_fusion_home_for(tests.uid(92), 'for_you', NULL, 5);
SELECT tests.reset();
REVOKE EXECUTE ON FUNCTION feed_fusion_home_for(uuid, text, text, int) FROM authenticated;
-- service_role may
SELECT tests.login_as('service_role', NULL);
SELECT count(*) AS service_rows FROM feed_fusion_home_for(tests.uid(92), 'for_you', NULL, 5);
SELECT tests.reset();

-- privileges as registered
SELECT p.proname, r.rolname, has_function_privilege(r.rolname, p.oid, 'EXECUTE') AS can_execute
FROM pg_proc p CROSS JOIN (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
WHERE p.proname IN ('feed_fusion_home', 'feed_fusion_home_for', 'feed_fusion_profile', 'rocker_next_best_actions', 'ff_feed_rotate_secret')
ORDER BY 1, 2;
-- the secret is kept by pg_dump
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'feed_fusion' AND c.relname = '_ff_feed_secret';

DELETE FROM listings WHERE seller_entity_id IN (tests.uid(9001), tests.uid(9002));
DELETE FROM posts WHERE author_entity_id IN (tests.uid(9001), tests.uid(9002));
DELETE FROM entities WHERE id IN (tests.uid(9001), tests.uid(9002));
