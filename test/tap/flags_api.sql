-- Feature flags: SQLSTATEs, privileges, catalog shape of the cache machinery.
BEGIN;
SELECT plan(28);

-- Bad input: 22023.
SELECT throws_ok($$SELECT flag_enabled(NULL)$$, '22023', NULL, 'NULL key → 22023');
SELECT throws_ok($$SELECT flag_enabled('')$$, '22023', NULL, 'empty key → 22023');
SELECT throws_ok($$SELECT flag_enabled('Upper')$$, '22023', NULL, 'upper-case key → 22023');
SELECT throws_ok($$SELECT flag_enabled('a b')$$, '22023', NULL, 'space in key → 22023');
SELECT throws_ok($$SELECT flag_enabled(repeat('x', 64))$$, '22023', NULL, '64-char key → 22023');
SELECT throws_ok($$SELECT flag_enabled(NULL, true)$$, '22023', NULL, 'NULL key with a default → 22023');
SELECT lives_ok($$SELECT flag_enabled(repeat('x', 63))$$, '63-char key is valid');
SELECT is(flag_enabled('flags_tap_unknown', true), true, 'unknown key → p_default');

-- Permissions: another user needs service_role (42501).
SELECT tests.login_as('anon');
SELECT throws_ok($$SELECT flags_for(tests.uid(1))$$, '42501', NULL, 'anon asking about a user → 42501');
SELECT lives_ok($$SELECT flags_for()$$, 'anon: own (anonymous) flags');
SELECT is(flag_enabled('feed_shop_blend'), true, 'anon evaluates a 100 % flag without table privileges');
SELECT is(has_table_privilege('feature_flags', 'SELECT'), false, 'anon has no SELECT on feature_flags');
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok($$SELECT flags_for(tests.uid(2))$$, '42501', NULL, 'authenticated asking about another user → 42501');
SELECT lives_ok($$SELECT flags_for(tests.uid(1))$$, 'authenticated may name itself');
SELECT tests.login_as('service_role');
SELECT lives_ok($$SELECT flags_for(tests.uid(2))$$, 'service_role may ask about anyone');
SELECT tests.reset();

-- Privileges granted.
SELECT ok(bool_and(has_function_privilege(r, 'flags_for(uuid)', 'EXECUTE')
           AND has_function_privilege(r, 'flag_enabled(text, boolean)', 'EXECUTE')),
          'anon, authenticated, service_role may EXECUTE flags_for and flag_enabled')
FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) r;

-- The invalidation trigger: statement level, all four events, fires always.
SELECT is((SELECT tgenabled::text FROM pg_trigger WHERE tgrelid = 'feature_flags'::regclass
           AND tgname = 'feature_flags_invalidate_cache'), 'A', 'trigger is ENABLE ALWAYS');
SELECT is((SELECT (tgtype & 1) = 0 FROM pg_trigger WHERE tgrelid = 'feature_flags'::regclass
           AND tgname = 'feature_flags_invalidate_cache'), true, 'trigger is FOR EACH STATEMENT');
SELECT is((SELECT (tgtype & (4 | 8 | 16 | 32)) FROM pg_trigger WHERE tgrelid = 'feature_flags'::regclass
           AND tgname = 'feature_flags_invalidate_cache')::int, 60, 'trigger fires on INSERT, DELETE, UPDATE, TRUNCATE');
SELECT throws_ok($$SELECT _ff_config_changed()$$, '39P01', NULL, 'trigger function cannot be called directly');

-- Cache behaviour inside one transaction: every kind of change refills exactly once.
SELECT ok(flags_for() IS NOT NULL, 'flags_for fills the cache');
SELECT is((_ff_flags_cache_info() ->> 'valid')::bool, true, 'cache valid after a call');
INSERT INTO feature_flags (key, enabled) VALUES ('flags_tap_a', true);
SELECT is(flag_enabled('flags_tap_a'), true, 'INSERT seen at once in the same transaction');
UPDATE feature_flags SET enabled = false WHERE key = 'flags_tap_a';
SELECT is(flag_enabled('flags_tap_a', true), false, 'UPDATE seen at once');
DELETE FROM feature_flags WHERE key = 'flags_tap_a';
SELECT is(flag_enabled('flags_tap_a', true), true, 'DELETE seen at once (unknown → default)');
SAVEPOINT before_truncate;
TRUNCATE feature_flags;
SELECT is(flags_for(), '{}'::jsonb, 'TRUNCATE seen at once');
ROLLBACK TO SAVEPOINT before_truncate;
SELECT is(flag_enabled('feed_shop_blend'), true, 'rolled-back TRUNCATE no longer seen');
SELECT is(flags_for() ?& ARRAY['feed_shop_blend', 'discover_reels', 'payments_real', 'rocker_always_on'],
          true, 'seed flags present');

SELECT * FROM finish();
ROLLBACK;
