-- Auto-tracking through ff_tracked_call (shared-memory mode): successes and errors
-- of a wrapped RPC are recorded under its own name; feed_fusion.track_rpcs = off
-- stops it; flush inside a transaction and savepoints never double count.
BEGIN;
SELECT plan(13);

CREATE TEMP TABLE before ON COMMIT DROP AS
SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(errors), 0) AS errors
FROM rpc_metrics_hourly WHERE rpc = '_ff_metrics_selftest';

CREATE FUNCTION pg_temp.tracked() RETURNS TABLE (calls bigint, errors bigint, max_ms float8) LANGUAGE sql AS $$
  SELECT (coalesce(sum(h.calls), 0) - (SELECT b.calls FROM before b))::bigint,
         (coalesce(sum(h.errors), 0) - (SELECT b.errors FROM before b))::bigint,
         max(h.max_ms)
  FROM rpc_metrics_hourly h WHERE h.rpc = '_ff_metrics_selftest'
$$;

SELECT is(current_setting('feed_fusion.track_rpcs'), 'on', 'feed_fusion.track_rpcs defaults to on');
SELECT is(_ff_metrics_selftest(false, 25), 1, 'wrapped RPC returns its result');
SELECT is(_ff_metrics_selftest(), 1, 'second success');
SELECT throws_ok($$SELECT _ff_metrics_selftest(true)$$, 'P0001', '_ff_metrics_selftest failed on request',
                 'a failing wrapped RPC still raises its own error');
SELECT throws_ok($$SELECT _ff_metrics_selftest(true)$$, 'P0001', NULL, 'second failure');
SELECT is((SELECT row(calls, errors)::text FROM pg_temp.tracked()), '(4,2)',
          'successes and failures are recorded under the RPC''s name');
SELECT cmp_ok((SELECT max_ms FROM pg_temp.tracked()), '>=', 25::float8, 'latency measured around the body');

SET LOCAL feed_fusion.track_rpcs = off;
SELECT is(_ff_metrics_selftest(), 1, 'wrapped RPC works with tracking off');
SELECT throws_ok($$SELECT _ff_metrics_selftest(true)$$, 'P0001', NULL, 'errors still raise with tracking off');
SELECT is((SELECT row(calls, errors)::text FROM pg_temp.tracked()), '(4,2)', 'track_rpcs = off stops tracking');
SET LOCAL feed_fusion.track_rpcs = on;

-- A flush rolled back to a savepoint puts the data back; the view never double counts.
SELECT _ff_log_rpc_at('trk_sp', 5, true, now() - interval '10 minutes');
SAVEPOINT a;
SELECT cmp_ok(rpc_metrics_flush(), '>=', 1::bigint, 'flush inside a savepoint');
SELECT is((SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'trk_sp'), 1::bigint, 'counted once while flushed');
ROLLBACK TO SAVEPOINT a;
SELECT is((SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'trk_sp') - (SELECT count(*) FROM rpc_metrics WHERE rpc = 'trk_sp'),
          1::bigint, 'after ROLLBACK TO the call is pending again, not lost');

SELECT * FROM finish();
ROLLBACK;
