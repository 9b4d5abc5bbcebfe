-- Feature flags: evaluation order, anonymous users, unknown keys, bad input,
-- permissions, the documented hash example, search_path independence, READ ONLY,
-- and DROP/re-CREATE EXTENSION.
\set VERBOSITY terse

-- The worked example of docs/flags.md: sha256('discover_reels:123e4567-e89b-12d3-a456-426614174000')
-- = 0143a6f2ec…; 0x0143a6f2 = 21210866; 21210866 % 100 = 66.
SELECT encode(sha256(convert_to('discover_reels:123e4567-e89b-12d3-a456-426614174000', 'UTF8')), 'hex') AS digest;
SELECT ff_flag_bucket('discover_reels', '123e4567-e89b-12d3-a456-426614174000') AS bucket,
       ff_flag_bucket('discover_reels', '123E4567-E89B-12D3-A456-426614174000') AS same_for_upper_case_input,
       x'0143a6f2'::bigint % 100 AS by_hand;
SELECT ff_flag_bucket('feed_shop_blend', tests.uid(1)) AS bucket_uid1;

-- Seeds, as anonymous and as a user.
SELECT tests.login_as('anon');
SELECT flags_for() AS anon_flags;
SELECT has_table_privilege('feature_flags', 'SELECT') AS anon_can_select_table,
       flag_enabled('feed_shop_blend') AS anon_feed_shop_blend,
       flag_enabled('payments_real') AS anon_payments_real;
SELECT tests.reset();

-- Test flags: deny beats allow beats enabled; bucket decides the rest.
-- Bucket of uid(1..3) for flags_e50 is computed, so the expected answers follow from it.
INSERT INTO feature_flags (key, enabled, rollout_percent, allow_users, deny_users) VALUES
  ('flags_e_off',    false, 100, ARRAY[tests.uid(2)], '{}'),
  ('flags_e_deny',   true,  100, ARRAY[tests.uid(1)], ARRAY[tests.uid(1), NULL]),
  ('flags_e_allow0', true,  0,   ARRAY[tests.uid(1), tests.uid(1)], '{}'),
  ('flags_e50',      true,  50,  '{}', '{}'),
  ('flags_e99',      true,  99,  '{}', '{}');
SELECT n, ff_flag_bucket('flags_e50', tests.uid(n)) AS bucket_e50,
       ff_flag_bucket('flags_e99', tests.uid(n)) AS bucket_e99
FROM generate_series(1, 3) n ORDER BY n;

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT flag_enabled('flags_e_off') AS off,
       flag_enabled('flags_e_deny') AS deny_wins_over_allow,
       flag_enabled('flags_e_allow0') AS allow_wins_over_0pct,
       flag_enabled('flags_e50') = (ff_flag_bucket('flags_e50', tests.uid(1)) < 50) AS e50_follows_bucket,
       flag_enabled('flags_e99') = (ff_flag_bucket('flags_e99', tests.uid(1)) < 99) AS e99_follows_bucket;
SELECT flags_for() - ARRAY['feed_shop_blend', 'discover_reels', 'payments_real', 'rocker_always_on'] AS uid1_test_flags;
SELECT flags_for(tests.uid(1)) = flags_for() AS own_uuid_allowed;
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT flag_enabled('flags_e_off') AS allow_wins_over_disabled,
       flag_enabled('flags_e_deny') AS not_denied,
       flag_enabled('flags_e_allow0') AS zero_pct_not_allowed;

-- Anonymous: enabled and 100 % only; lists and buckets do not apply.
SELECT tests.login_as('anon');
SELECT flags_for() - ARRAY['feed_shop_blend', 'discover_reels', 'payments_real', 'rocker_always_on'] AS anon_test_flags;

-- Unknown key: p_default (false by default, NULL stays NULL).
SELECT flag_enabled('flags_no_such') AS dflt, flag_enabled('flags_no_such', true) AS dflt_true,
       flag_enabled('flags_no_such', NULL) IS NULL AS dflt_null;

-- Bad input: SQLSTATE 22023.
\set ON_ERROR_STOP 0
SELECT flag_enabled(NULL);
SELECT flag_enabled('');
SELECT flag_enabled('Feed_Shop_Blend');
SELECT flag_enabled('9lives');
SELECT flag_enabled('has-dash');
SELECT flag_enabled(repeat('a', 64));
SELECT ff_flag_bucket('bad key', tests.uid(1));
\set ON_ERROR_STOP 1
SELECT flag_enabled(repeat('a', 63)) AS longest_key_ok;

-- Permissions: another user's flags need service_role (42501), superuser passes.
\set ON_ERROR_STOP 0
SELECT flags_for(tests.uid(1));
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT flags_for(tests.uid(1));
DO $$ BEGIN PERFORM flags_for(tests.uid(1)); EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'sqlstate 42501'; END $$;
\set ON_ERROR_STOP 1
SELECT tests.login_as('service_role');
SELECT flags_for(tests.uid(1)) ->> 'flags_e_deny' AS service_role_reads_uid1;
SELECT tests.reset();
SELECT flags_for(tests.uid(2)) ->> 'flags_e_off' AS superuser_reads_uid2;
SELECT flags_for(NULL) ->> 'flags_e_off' AS superuser_anonymous;

-- Independent of search_path: a decoy feature_flags earlier in the path is ignored.
CREATE SCHEMA flags_decoy;
CREATE TABLE flags_decoy.feature_flags (key text, enabled bool, rollout_percent int,
  allow_users uuid[], deny_users uuid[]);
INSERT INTO flags_decoy.feature_flags VALUES ('payments_real', true, 100, '{}', '{}');
INSERT INTO feature_flags (key) VALUES ('flags_e_refill');   -- force a refill under the decoy path
SET search_path = flags_decoy, public;
SELECT flag_enabled('payments_real') AS payments_real, flags_for() ? 'flags_e_refill' AS sees_real_table;
RESET search_path;
DROP SCHEMA flags_decoy CASCADE;

-- READ ONLY transactions (PostgREST GET) work, including a refill.
UPDATE feature_flags SET enabled = true WHERE key = 'flags_e_refill';
BEGIN READ ONLY;
SELECT flag_enabled('flags_e_refill') AS read_only_refill, (_ff_flags_cache_info() ->> 'valid')::bool AS cached;
COMMIT;

-- Long user lists (TOASTed out of line) are read by the fill.
INSERT INTO feature_flags (key, enabled, rollout_percent, allow_users, deny_users)
SELECT 'flags_e_big', false, 0,
       array_agg(md5('allow' || i)::uuid) || tests.uid(1), array_agg(md5('deny' || i)::uuid) || tests.uid(3)
FROM generate_series(1, 5000) i;
SELECT pg_column_size(allow_users) > 8000 AS toasted FROM feature_flags WHERE key = 'flags_e_big';
SELECT flags_for(tests.uid(1)) ->> 'flags_e_big' AS listed_user,
       flags_for(tests.uid(2)) ->> 'flags_e_big' AS other_user,
       flags_for(md5('allow4999')::uuid) ->> 'flags_e_big' AS listed_deep;

-- ff_status reports the cache.
SELECT component, mode, detail ? 'fills' AS has_fills FROM ff_status() WHERE component = 'flags';

-- DROP and re-CREATE EXTENSION (rolled back): the cache follows the new table, then the old.
SELECT flag_enabled('flags_e_refill') AS before_drop;
BEGIN;
DROP EXTENSION feed_fusion CASCADE;
-- pg_partman keeps its part_config rows for dropped tables; clear them so CREATE works.
DELETE FROM part_config WHERE parent_table LIKE 'public.%';
CREATE EXTENSION feed_fusion CASCADE;
SELECT flag_enabled('flags_e_refill', true) AS new_table_has_no_such_flag,
       flags_for() AS new_install_seeds;
UPDATE feature_flags SET enabled = true, rollout_percent = 100 WHERE key = 'payments_real';
SELECT flag_enabled('payments_real') AS changed_in_new_table;
ROLLBACK;
SELECT flag_enabled('flags_e_refill') AS after_rollback, flag_enabled('payments_real') AS payments_real;

-- The trigger function is not callable directly.
\set ON_ERROR_STOP 0
SELECT _ff_config_changed();
\set ON_ERROR_STOP 1

DELETE FROM feature_flags WHERE key LIKE 'flags\_%';
