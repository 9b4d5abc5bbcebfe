-- Metrics poisoning (shared-memory mode): durations are bounded (22023), sums
-- saturate instead of overflowing, and a flush skips (and counts) a row it cannot
-- write instead of failing on it every minute.  No accepted input can make a
-- flush or rpc_metrics_hourly fail.
BEGIN;
SELECT plan(23);
SET LOCAL client_min_messages = error;

-- Run a statement, swallowing its error (what an attacker's retry loop does).
CREATE FUNCTION pg_temp.attempt(p_sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
EXCEPTION WHEN OTHERS THEN
  NULL;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.attempt(text) TO PUBLIC;

-- 1. Durations: negative, non-finite or over one hour are refused, for every caller.
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok($$SELECT _log_rpc('poison', 1e308)$$, '22023', NULL, 'authenticated: 1e308 ms refused');
SELECT throws_ok($$SELECT _log_rpc('poison', 3600000.001)$$, '22023', NULL, 'authenticated: just over one hour refused');
SELECT throws_ok($$SELECT _log_rpc('poison', -1)$$, '22023', NULL, 'authenticated: negative refused');
SELECT throws_ok($$SELECT _log_rpc('poison', 'NaN')$$, '22023', NULL, 'authenticated: NaN refused');
SELECT lives_ok($$SELECT _log_rpc('poison_hour', 3600000)$$, 'authenticated: exactly one hour accepted');
SELECT tests.reset();
SELECT tests.login_as('service_role');
SELECT throws_ok($$SELECT _log_rpc('poison', 8e307)$$, '22023', NULL, 'service_role: 8e307 ms refused');
SELECT throws_ok($$SELECT _ff_log_rpc_at('poison', 8e307, true, now() - interval '2 hours')$$, '22023', NULL,
                 '_ff_log_rpc_at: 8e307 ms refused');
SELECT tests.reset();
SELECT throws_ok($$SELECT ff_sketch_agg(x) FROM (VALUES (1e308::float8)) v(x)$$, '22023', NULL,
                 'ff_sketch_agg: 1e308 ms refused');
SELECT throws_ok($$SELECT ff_sketch_agg(x) FROM (VALUES (3600001::float8)) v(x)$$, '22023', NULL,
                 'ff_sketch_agg: over one hour refused');

-- 2. The audit's attack: 8e307 ms twice as authenticated, flushed, and again — an
-- unbounded sum overflows float8 in the rollup and the flush fails forever.
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT pg_temp.attempt($$SELECT _log_rpc('poison2', 8e307)$$), pg_temp.attempt($$SELECT _log_rpc('poison2', 8e307)$$);
SELECT tests.reset();
SELECT lives_ok($$SELECT _ff_metrics_flush_all()$$, 'flush after the poison calls succeeds');
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT pg_temp.attempt($$SELECT _log_rpc('poison2', 8e307)$$), pg_temp.attempt($$SELECT _log_rpc('poison2', 8e307)$$);
SELECT _log_rpc('poison_ok', 5);
SELECT tests.reset();
SELECT lives_ok($$SELECT _ff_metrics_flush_all()$$, 'a second flush succeeds too');
SELECT lives_ok($$SELECT count(*) FROM rpc_metrics_hourly$$, 'rpc_metrics_hourly works');
SELECT ok((SELECT bool_and(mean_ms < 'Infinity' AND max_ms <= 3600000) FROM rpc_metrics_hourly), 'every figure in the view is finite and bounded');
SELECT is((SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'poison_ok'), 1::bigint, 'normal calls still counted');

-- 3. Sums of many rows saturate (rows written directly by the owner, at the bounds).
INSERT INTO rpc_metrics (rpc, bucket_start, calls, errors, total_ms, max_ms)
VALUES ('poison_sum', date_trunc('hour', now()) - interval '3 hours', 9000000000000000000, 0, 1.5e308, 3600000),
       ('poison_sum', date_trunc('hour', now()) - interval '3 hours' + interval '1 minute', 9000000000000000000, 0, 1.5e308, 3600000);
SELECT lives_ok($$INSERT INTO rpc_metrics (rpc, bucket_start, calls, errors, total_ms, max_ms)
                  VALUES ('poison_sum', date_trunc('hour', now()) - interval '3 hours', 9000000000000000000, 1, 1.5e308, 3600000)$$,
                'rollup sums saturate instead of overflowing');
SELECT is((SELECT row(calls, errors, total_ms)::text FROM rpc_metrics_rollup WHERE rpc = 'poison_sum'),
          row(9223372036854775807::bigint, 1::bigint, 1e308::float8)::text, 'rollup row saturated at the type limits');
SELECT lives_ok($$SELECT * FROM rpc_metrics_hourly WHERE rpc = 'poison_sum'$$, 'the view reads the saturated row');
SELECT throws_ok($$INSERT INTO rpc_metrics (rpc, bucket_start, calls, total_ms, max_ms) VALUES ('poison_inf', now(), 1, 'Infinity', 1)$$,
                 '23514', NULL, 'rpc_metrics refuses an infinite total_ms');

-- 4. A row that cannot be written (a test-only CHECK refuses it; a trigger would be
-- refused as foreign by the owner-context write itself) is skipped, logged and
-- counted; the rest of the batch lands and the flush commits.
ALTER TABLE rpc_metrics ADD CONSTRAINT test_refuse_poison_row CHECK (rpc <> 'poison_row');
SELECT _ff_log_rpc_at('poison_row', 1, true, now() - interval '5 minutes'),
       _ff_log_rpc_at('poison_kept', 2, true, now() - interval '5 minutes'),
       _ff_log_rpc_at('poison_kept', 2, true, now() - interval '6 minutes');
CREATE TEMP TABLE skipped_before ON COMMIT DROP AS
SELECT coalesce((detail ->> 'skipped_rows')::bigint, -1) AS n FROM ff_status() WHERE component = 'metrics';
SELECT lives_ok($$SELECT rpc_metrics_flush()$$, 'flush succeeds although one row cannot be written');
SELECT is((SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'poison_kept'), 2::numeric, 'the other rows of the batch land');
SELECT is((SELECT count(*) FROM rpc_metrics WHERE rpc = 'poison_row'), 0::bigint, 'the bad row is not written');
SELECT is((SELECT (detail ->> 'skipped_rows')::bigint FROM ff_status() WHERE component = 'metrics') - (SELECT n FROM skipped_before),
          1::bigint, 'skipped_rows counts it');
SELECT is((SELECT count(*) FROM _ff_metrics_pending() WHERE rpc = 'poison_row'), 0::bigint, 'and it is not retried');

SELECT * FROM finish();
ROLLBACK;
