-- RPC metrics in table mode (feed_fusion not preloaded): _log_rpc writes one aggregate
-- row per call, tracked RPCs gather successes and failures in the backend's batch
-- (written by rpc_metrics_flush() here; the batching rules are sql/tbl_metrics_batch.sql);
-- the same view and accuracy.
BEGIN;
SELECT plan(19);
SET LOCAL client_min_messages = warning;

SELECT is((SELECT mode FROM ff_status() WHERE component = 'metrics'), 'table', 'metrics run in table mode');
SELECT is(rpc_metrics_flush(), 0::bigint, 'flush has nothing to move in a fresh backend');

-- Each call is one row.
SELECT _log_rpc('tbl_a', 4), _log_rpc('tbl_a', 8, false);
SELECT is((SELECT row(count(*), sum(calls), sum(errors))::text FROM rpc_metrics WHERE rpc = 'tbl_a'), '(2,2,1)',
          '_log_rpc writes one aggregate row per call');
SELECT is((SELECT row(calls, errors, error_rate, mean_ms, max_ms)::text FROM rpc_metrics_hourly WHERE rpc = 'tbl_a'),
          row(2::bigint, 1::bigint, 0.5::float8, 6::float8, 8::float8)::text, 'view merges the rows');
SELECT is((SELECT sum(ff_sketch_count(sketch)) FROM rpc_metrics WHERE rpc = 'tbl_a'), 2::numeric,
          'each row carries a one-sample sketch');

-- Accuracy in table mode (20,000 lognormal samples, pinned to one closed hour).
SELECT setseed(0.3);
CREATE TEMP TABLE samples ON COMMIT DROP AS
SELECT exp(ln(40) + 1.0 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS d FROM generate_series(1, 20000);
SELECT is((SELECT count(*) FROM (SELECT _ff_log_rpc_at('tbl_acc', d, true, date_trunc('hour', now()) - interval '30 minutes') FROM samples) x),
          20000::bigint, '20,000 calls logged');
CREATE TEMP TABLE exact ON COMMIT DROP AS
SELECT percentile_disc(0.50) WITHIN GROUP (ORDER BY d) AS p50, percentile_disc(0.95) WITHIN GROUP (ORDER BY d) AS p95,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY d) AS p99 FROM samples;
SELECT ok((SELECT abs(h.p50_ms - e.p50) <= 0.01 * e.p50 AND abs(h.p95_ms - e.p95) <= 0.01 * e.p95
                  AND abs(h.p99_ms - e.p99) <= 0.01 * e.p99 AND h.calls = 20000
           FROM rpc_metrics_hourly h, exact e WHERE h.rpc = 'tbl_acc'),
          'table mode: p50/p95/p99 within 1 % of exact nearest-rank');

-- Tracked RPC: successes and failures are both recorded (the failure in memory, no
-- write after the error) and land in rpc_metrics with the batch.
CREATE TEMP TABLE before ON COMMIT DROP AS
SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(errors), 0) AS errors FROM rpc_metrics WHERE rpc = '_ff_metrics_selftest';
SELECT is(_ff_metrics_selftest(false, 5), 1, 'tracked success');
SELECT throws_ok($$SELECT _ff_metrics_selftest(true)$$, 'P0001', NULL, 'tracked failure raises');
SELECT ok(rpc_metrics_flush() >= 0, 'flush writes the batch');
SELECT is((SELECT row(sum(calls) - (SELECT calls FROM before), sum(errors) - (SELECT errors FROM before))::text
           FROM rpc_metrics WHERE rpc = '_ff_metrics_selftest'), '(2,1)',
          'success and failure both recorded');
SET LOCAL feed_fusion.track_rpcs = off;
SELECT is(_ff_metrics_selftest(), 1, 'works with tracking off');
SELECT is((SELECT sum(calls) FROM _ff_metrics_pending() WHERE rpc = '_ff_metrics_selftest'), NULL::numeric,
          'track_rpcs = off stops tracking');
SET LOCAL feed_fusion.track_rpcs = on;

-- Read-only: the tracked RPC still works (recording skipped); explicit _log_rpc cannot write.
SAVEPOINT ro;
SET LOCAL transaction_read_only = on;
SELECT is(_ff_metrics_selftest(), 1, 'tracked RPC works in a read-only transaction');
SELECT throws_ok($$SELECT _log_rpc('tbl_ro', 1)$$, '25006', NULL, '_log_rpc in a read-only transaction: 25006 in table mode');
ROLLBACK TO SAVEPOINT ro;

-- Permissions and bad input are the same as in shared-memory mode.
SELECT throws_ok($$SELECT _log_rpc('', 1)$$, '22023', NULL, 'empty name: 22023');
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT lives_ok($$SELECT _log_rpc('tbl_auth', 1)$$, 'authenticated logs in table mode (row written as the owner)');
SELECT throws_ok($$SELECT count(*) FROM rpc_metrics$$, '42501', NULL, 'authenticated cannot read rpc_metrics');
SELECT tests.reset();
SELECT is((SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'tbl_auth'), 1::bigint, 'the app''s call is in the view');

SELECT * FROM finish();
ROLLBACK;
