-- Reserved RPC names in table mode: _log_rpc refuses the extension's own tracked
-- names (42501) for every caller, so no forged figure lands in rpc_metrics;
-- service_role's backfill (_ff_log_rpc_at) may still record them.
BEGIN;
SELECT plan(6);
SET LOCAL client_min_messages = warning;
-- rows of tracked calls other tests' backends wrote (at exit, say) are not forgeries
CREATE TEMP TABLE before ON COMMIT DROP AS
SELECT count(*) AS n FROM rpc_metrics WHERE rpc IN ('feed_fusion_home', '_ff_metrics_selftest', 'flag_enabled');

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok($$SELECT _log_rpc('feed_fusion_home', 99999, false)$$, '42501', NULL,
                 'authenticated cannot forge feed_fusion_home');
SELECT throws_ok($$SELECT _log_rpc('_ff_metrics_selftest', 1)$$, '42501', NULL,
                 'authenticated cannot forge _ff_metrics_selftest');
SELECT lives_ok($$SELECT _log_rpc('tbl_names_app', 1)$$, 'authenticated logs its own names');
SELECT tests.reset();
SELECT tests.login_as('service_role');
SELECT throws_ok($$SELECT _log_rpc('flag_enabled', 1)$$, '42501', NULL, 'service_role cannot forge flag_enabled');
SELECT tests.reset();
SELECT is((SELECT count(*) FROM rpc_metrics WHERE rpc IN ('feed_fusion_home', '_ff_metrics_selftest', 'flag_enabled'))
          - (SELECT n FROM before), 0::bigint, 'no forged row written');
SELECT tests.login_as('service_role');
SELECT lives_ok($$SELECT _ff_log_rpc_at('feed_fusion_home', 5, true, now() - interval '2 hours')$$,
                '_ff_log_rpc_at (backfill) may record a tracked name');
SELECT tests.reset();

SELECT * FROM finish();
ROLLBACK;
