-- Metrics poisoning in table mode: durations are bounded (22023), so two huge
-- calls cannot overflow the rollup (which made _log_rpc itself fail) or the view.
BEGIN;
SELECT plan(7);
SET LOCAL client_min_messages = warning;

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok($$SELECT _log_rpc('tpoison', 8e307)$$, '22023', NULL, 'authenticated: 8e307 ms refused');
SELECT throws_ok($$SELECT _log_rpc('tpoison', 8e307)$$, '22023', NULL, 'authenticated: and again (no rollup overflow)');
SELECT throws_ok($$SELECT _log_rpc('tpoison', 'Infinity')$$, '22023', NULL, 'authenticated: Infinity refused');
SELECT lives_ok($$SELECT _log_rpc('tpoison_ok', 3600000)$$, 'one hour accepted');
SELECT lives_ok($$SELECT _log_rpc('tpoison_ok', 3600000)$$, 'one hour accepted twice');
SELECT tests.reset();
SELECT is((SELECT row(calls, max_ms)::text FROM rpc_metrics_hourly WHERE rpc = 'tpoison_ok'),
          row(2::bigint, 3600000::float8)::text, 'the view works and counts the valid calls');
SELECT ok((SELECT bool_and(mean_ms < 'Infinity') FROM rpc_metrics_hourly), 'every mean in the view is finite');

SELECT * FROM finish();
ROLLBACK;
