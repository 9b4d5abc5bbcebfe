-- Table mode (no shared_preload_libraries): the flag cache is backend-local and works
-- the same, including invalidation on change and fills counted per backend.
\set VERBOSITY terse
SELECT flags_for() AS seeds;
SELECT (_ff_flags_cache_info() ->> 'valid')::bool AS cached;
SELECT (_ff_flags_cache_info() ->> 'fills')::int AS fills_before;
SELECT flag_enabled('feed_shop_blend') AS a, flag_enabled('discover_reels') AS b;
SELECT (_ff_flags_cache_info() ->> 'fills')::int AS fills_unchanged;
INSERT INTO feature_flags (key, enabled, rollout_percent, allow_users) VALUES ('tbl_flags_x', false, 0, ARRAY[tests.uid(7)]);
SELECT (_ff_flags_cache_info() ->> 'valid')::bool AS cached_after_insert;
SELECT tests.login_as('authenticated', tests.uid(7));
SELECT flag_enabled('tbl_flags_x') AS allowed_user;
SELECT tests.login_as('authenticated', tests.uid(8));
SELECT flag_enabled('tbl_flags_x') AS other_user;
SELECT tests.reset();
SELECT (_ff_flags_cache_info() ->> 'fills')::int AS fills_after_change;
DELETE FROM feature_flags WHERE key = 'tbl_flags_x';
SELECT flags_for() ? 'tbl_flags_x' AS still_there;
