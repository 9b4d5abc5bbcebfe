-- The hourly rollup behind rpc_metrics_hourly stays exactly equal to rpc_metrics
-- summed per (rpc, hour) through inserts, updates, deletes and truncation; the
-- view's closed hours come from it, open hours merge it with shared memory.
BEGIN;
SELECT plan(10);
SET LOCAL client_min_messages = warning;

-- rollup vs a direct recomputation from rpc_metrics: rows that differ (0 = exact).
CREATE FUNCTION pg_temp.rollup_diff() RETURNS bigint LANGUAGE sql AS $$
  WITH direct AS (
    SELECT rpc, _ff_metrics_hour(bucket_start) AS hour, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors,
           max(max_ms) AS max_ms, ff_sketch_merge(sketch) AS sketch
    FROM rpc_metrics GROUP BY 1, 2),
  r AS (SELECT rpc, hour, calls, errors, max_ms, sketch FROM rpc_metrics_rollup)
  SELECT count(*) FROM ((SELECT * FROM direct EXCEPT SELECT * FROM r) UNION ALL (SELECT * FROM r EXCEPT SELECT * FROM direct)) x
$$;

SELECT setseed(0.9);
-- Three hours of minutes for two RPCs, flushed from shared memory.
SELECT count(*) FROM (
  SELECT _ff_log_rpc_at('ru_' || (x % 2), exp(random() * 5), random() > 0.1,
                        date_trunc('hour', now()) - interval '3 hours' + ((x / 2) % 180) * interval '1 minute')
  FROM generate_series(1, 3000) x) s;
SELECT cmp_ok(rpc_metrics_flush(), '>=', 360::bigint, 'flushed one row per (rpc, minute)');
SELECT is(pg_temp.rollup_diff(), 0::bigint, 'rollup = rpc_metrics per hour after a flush');
SELECT is((SELECT count(*) FROM rpc_metrics_hourly WHERE rpc LIKE 'ru\_%'), 6::bigint, 'view: 2 RPCs x 3 hours');
SELECT is((SELECT sum(calls) FROM rpc_metrics_hourly WHERE rpc LIKE 'ru\_%'), 3000::numeric, 'view: every call');

-- Stored quantiles equal the quantiles of the merged minute sketches.
SELECT is((SELECT count(*) FROM rpc_metrics_hourly h
           JOIN (SELECT rpc, _ff_metrics_hour(bucket_start) AS hour, max(max_ms) AS mx,
                        ff_sketch_quantile(ff_sketch_merge(sketch), 0.5) AS p50,
                        ff_sketch_quantile(ff_sketch_merge(sketch), 0.99) AS p99
                 FROM rpc_metrics WHERE rpc LIKE 'ru\_%' GROUP BY 1, 2) d USING (rpc, hour)
           WHERE h.p50_ms = least(d.p50, d.mx) AND h.p99_ms = least(d.p99, d.mx)), 6::bigint,
          'view quantiles = quantiles of the merged minute sketches');

-- Late rows for an already rolled-up hour, updates and deletes keep it exact.
SELECT _ff_log_rpc_at('ru_0', 77777, false, date_trunc('hour', now()) - interval '150 minutes');
SELECT rpc_metrics_flush();
SELECT is(pg_temp.rollup_diff(), 0::bigint, 'late flush into a closed hour is added');
UPDATE rpc_metrics SET errors = 0 WHERE rpc = 'ru_1' AND bucket_start < date_trunc('hour', now()) - interval '2 hours';
SELECT is(pg_temp.rollup_diff(), 0::bigint, 'UPDATE recomputes the touched hours');
DELETE FROM rpc_metrics WHERE rpc = 'ru_0' AND max_ms = 77777;
SELECT is(pg_temp.rollup_diff(), 0::bigint, 'DELETE recomputes the touched hours (max included)');
DELETE FROM rpc_metrics WHERE rpc = 'ru_1';
SELECT is((SELECT count(*) FROM rpc_metrics_hourly WHERE rpc = 'ru_1'), 0::bigint, 'deleted RPC gone from the view');
TRUNCATE rpc_metrics;
SELECT is((SELECT count(*) FROM rpc_metrics_rollup), 0::bigint, 'TRUNCATE empties the rollup');

SELECT * FROM finish();
ROLLBACK;
