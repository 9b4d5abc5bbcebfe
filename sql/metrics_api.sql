-- RPC metrics API (shared-memory mode): bad input, permissions, read-only use, status.
SET client_min_messages = warning;
\set VERBOSITY terse

SELECT mode, detail ? 'overflow_calls' AS counts_overflow, (detail ->> 'track_rpcs')::boolean AS track_rpcs
FROM ff_status() WHERE component = 'metrics';
SHOW feed_fusion.track_rpcs;
SHOW feed_fusion.metrics_flush_interval;

-- Run a statement, return its SQLSTATE and message ('ok' when it succeeds).
CREATE FUNCTION pg_temp.try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

-- Bad input: 22023 (NULL or empty name, negative, non-finite or over one hour duration).
SELECT s AS statement, pg_temp.try(s) AS result FROM (VALUES
  ('SELECT _log_rpc(NULL, 1)'),
  ('SELECT _log_rpc('''', 1)'),
  ('SELECT _log_rpc(''api_bad'', -0.001)'),
  ('SELECT _log_rpc(''api_bad'', ''NaN'')'),
  ('SELECT _log_rpc(''api_bad'', ''Infinity'')'),
  ('SELECT _log_rpc(''api_bad'', ''-Infinity'')'),
  ('SELECT _log_rpc(''api_bad'', 1e308)'),
  ('SELECT _log_rpc(''api_bad'', 3600000.001)'),
  ('SELECT _log_rpc(''api_bad'', NULL)'),
  ('SELECT _log_rpc(''api_bad'', 1, NULL)'),
  ('SELECT _log_rpc(repeat(''x'', 64), 1)')) v(s);
SELECT count(*) AS bad_calls_recorded FROM rpc_metrics_hourly WHERE rpc LIKE 'api\_bad%' OR rpc LIKE 'xxxx%';

-- Zero and the edges of the range are fine.
SELECT _log_rpc('api_edges', 0), _log_rpc('api_edges', 0.001), _log_rpc('api_edges', 100000, false);
SELECT calls, errors, max_ms, p99_ms = 100000 AS p99_capped_at_max FROM rpc_metrics_hourly WHERE rpc = 'api_edges';

-- Read-only transactions record (shared memory, no table write) but cannot flush.
BEGIN READ ONLY;
SELECT _log_rpc('api_ro', 2);
SELECT _ff_metrics_selftest();
SELECT rpc_metrics_flush();
ROLLBACK;
SELECT calls FROM rpc_metrics_hourly WHERE rpc = 'api_ro';

-- authenticated: may log, may not read or flush metrics.
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT s AS statement, pg_temp.try(s) AS result FROM (VALUES
  ('SELECT _log_rpc(''api_app'', 3)'),
  ('SELECT count(*) FROM rpc_metrics'),
  ('SELECT count(*) FROM rpc_metrics_hourly'),
  ('SELECT count(*) FROM _ff_metrics_pending()'),
  ('SELECT rpc_metrics_flush()'),
  ('SELECT _ff_metrics_flush_all()'),
  ('SELECT _ff_log_rpc_at(''api_app'', 1, true, now())')) v(s);
SELECT tests.reset();

-- anon: may not log, read or flush.
SELECT tests.login_as('anon');
SELECT s AS statement, pg_temp.try(s) AS result FROM (VALUES
  ('SELECT _log_rpc(''api_anon'', 3)'),
  ('SELECT count(*) FROM rpc_metrics'),
  ('SELECT count(*) FROM rpc_metrics_hourly'),
  ('SELECT rpc_metrics_flush()')) v(s);
SELECT tests.reset();

-- service_role: reads the view and flushes.
SELECT tests.login_as('service_role');
SELECT rpc, calls, errors, error_rate, mean_ms FROM rpc_metrics_hourly WHERE rpc = 'api_app';
SELECT rpc_metrics_flush() >= 0 AS flushed;
SELECT tests.reset();

-- Clean up what this file put into rpc_metrics / shared memory.
SELECT _ff_metrics_flush_all() >= 0 AS flushed_all;
DELETE FROM rpc_metrics WHERE rpc LIKE 'api\_%';
SELECT count(*) AS left_over FROM rpc_metrics_hourly WHERE rpc LIKE 'api\_%';
