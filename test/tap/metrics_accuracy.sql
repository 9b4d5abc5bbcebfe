-- RPC metrics accuracy (shared-memory mode): 100,000 samples per distribution via
-- _log_rpc; p50/p95/p99 from rpc_metrics_hourly within 1 % of the exact nearest-rank
-- quantiles (percentile_disc); the numbers survive a flush unchanged.
BEGIN;
SELECT plan(21);
SET LOCAL client_min_messages = warning;

-- Stay inside one UTC hour: if the hour is about to turn, wait for it.
SELECT pg_sleep(3600 - (extract(epoch FROM clock_timestamp())::numeric % 3600) + 1)
WHERE extract(epoch FROM clock_timestamp())::numeric % 3600 > 3570;

SELECT setseed(0.42);
CREATE TEMP TABLE samples (dist text, d float8) ON COMMIT DROP;
-- lognormal around 20 ms
INSERT INTO samples
SELECT 'acc_lognormal', exp(ln(20) + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
FROM generate_series(1, 100000);
-- bimodal: 70 % fast (~2 ms), 30 % slow (~150 ms)
INSERT INTO samples
SELECT 'acc_bimodal', CASE WHEN random() < 0.7
         THEN exp(ln(2) + 0.3 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
         ELSE exp(ln(150) + 0.4 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) END
FROM generate_series(1, 100000);
-- heavy tail: Pareto(x_m = 0.05 ms, alpha = 1.1), capped at 100 s
INSERT INTO samples
SELECT 'acc_pareto', least(0.05 / power(1 - random(), 1 / 1.1), 100000)
FROM generate_series(1, 100000);

SELECT is((SELECT count(*) FROM (SELECT _log_rpc(dist, d) FROM samples) x), 300000::bigint,
          '300,000 calls logged with _log_rpc');

CREATE TEMP TABLE exact ON COMMIT DROP AS
SELECT dist, count(*) AS n, max(d) AS mx,
       percentile_disc(0.50) WITHIN GROUP (ORDER BY d) AS p50,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY d) AS p95,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY d) AS p99
FROM samples GROUP BY dist;

CREATE TEMP TABLE seen ON COMMIT DROP AS
SELECT rpc AS dist, calls, errors, p50_ms, p95_ms, p99_ms, max_ms FROM rpc_metrics_hourly
WHERE rpc LIKE 'acc\_%';

SELECT is((SELECT count(*) FROM seen), 3::bigint, 'one hourly row per distribution');
SELECT ok(s.calls = e.n AND s.errors = 0 AND s.max_ms = e.mx, s.dist || ': calls, errors, max exact')
FROM seen s JOIN exact e USING (dist) ORDER BY dist;
SELECT ok(abs(s.p50_ms - e.p50) <= 0.01 * e.p50, s.dist || ': p50 within 1 % (' || round(s.p50_ms::numeric, 4) || ' vs ' || round(e.p50::numeric, 4) || ')')
FROM seen s JOIN exact e USING (dist) ORDER BY dist;
SELECT ok(abs(s.p95_ms - e.p95) <= 0.01 * e.p95, s.dist || ': p95 within 1 % (' || round(s.p95_ms::numeric, 4) || ' vs ' || round(e.p95::numeric, 4) || ')')
FROM seen s JOIN exact e USING (dist) ORDER BY dist;
SELECT ok(abs(s.p99_ms - e.p99) <= 0.01 * e.p99, s.dist || ': p99 within 1 % (' || round(s.p99_ms::numeric, 4) || ' vs ' || round(e.p99::numeric, 4) || ')')
FROM seen s JOIN exact e USING (dist) ORDER BY dist;

-- Flush everything (including the open minute): rows land in rpc_metrics, view unchanged.
SELECT cmp_ok(_ff_metrics_flush_all(), '>=', 3::bigint, 'flush wrote at least one row per distribution');
SELECT is((SELECT sum(calls) FROM rpc_metrics WHERE rpc LIKE 'acc\_%'), 300000::numeric,
          'rpc_metrics holds all 300,000 calls');
SELECT is((SELECT count(*) FROM _ff_metrics_pending() WHERE rpc LIKE 'acc\_%'), 0::bigint,
          'nothing of them is pending in shared memory any more (this transaction flushed it)');
SELECT is((SELECT array_agg(row(rpc, calls, errors, p50_ms, p95_ms, p99_ms, max_ms)::text ORDER BY rpc)
           FROM rpc_metrics_hourly WHERE rpc LIKE 'acc\_%'),
          (SELECT array_agg(row(dist, calls, errors, p50_ms, p95_ms, p99_ms, max_ms)::text ORDER BY dist) FROM seen),
          'view numbers identical after the flush');

-- The view merges flushed rows with new pending calls of the same hour.
SELECT _log_rpc('acc_lognormal', 1e4);
SELECT is((SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'acc_lognormal'), 100001::bigint,
          'flushed and pending calls add up in the view');
SELECT is((SELECT max_ms FROM rpc_metrics_hourly WHERE rpc = 'acc_lognormal'), 1e4::float8,
          'max over flushed and pending');

-- Errors and error_rate; mean is exact.
SELECT _log_rpc('acc_errors', 10, x % 4 <> 0) FROM generate_series(1, 100) x;
SELECT is((SELECT row(calls, errors, error_rate, mean_ms)::text FROM rpc_metrics_hourly WHERE rpc = 'acc_errors'),
          row(100::bigint, 25::bigint, 0.25::float8, 10::float8)::text, 'errors, error_rate and mean_ms');

SELECT * FROM finish();
ROLLBACK;
