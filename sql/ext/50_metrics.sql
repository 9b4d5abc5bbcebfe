-- 50_metrics.sql — RPC latency metrics (§7): per-(rpc, minute) aggregates with a
-- mergeable latency sketch, partitioned daily with 30-day retention; the recorder,
-- sketch and flush are C (src/metrics.c, src/sketch.c, src/bgworker.c).

-- Start of the UTC hour of a timestamp (IMMUTABLE: indexable, unlike date_trunc).
CREATE FUNCTION _ff_metrics_hour(p_ts timestamptz) RETURNS timestamptz
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_metrics_hour';

-- One row per (rpc, minute) flushed from shared memory, or per call in table mode;
-- several rows for the same (rpc, bucket_start) are normal and simply add up.
CREATE TABLE rpc_metrics (
  rpc           text NOT NULL CHECK (length(rpc) BETWEEN 1 AND 63),
  bucket_start  timestamptz NOT NULL,
  calls         bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  errors        bigint NOT NULL DEFAULT 0 CHECK (errors >= 0 AND errors <= calls),
  total_ms      float8 NOT NULL DEFAULT 0 CHECK (total_ms >= 0),
  max_ms        float8 NOT NULL DEFAULT 0 CHECK (max_ms >= 0),
  sketch        bytea                      -- sparse latency sketch (see docs/metrics.md)
) PARTITION BY RANGE (bucket_start);
CREATE INDEX rpc_metrics_rpc_bucket_idx ON rpc_metrics (rpc, bucket_start);
CREATE INDEX rpc_metrics_hour_idx ON rpc_metrics (_ff_metrics_hour(bucket_start));
COMMENT ON TABLE rpc_metrics IS
  'RPC latency aggregates per (rpc, minute): calls, errors, total/max ms and a mergeable sketch';

SELECT _ff_partition('rpc_metrics', 'bucket_start', '1 day', date_trunc('day', now() - interval '7 days'), 4, interval '30 days');

-- Sketch functions: quantile, count, and two aggregates (merge sketches; build from ms values).
CREATE FUNCTION ff_sketch_quantile(p_sketch bytea, p_q float8) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantile';
COMMENT ON FUNCTION ff_sketch_quantile(bytea, float8) IS
  'Nearest-rank quantile (0..1) in ms of a latency sketch, within 1 % of the exact value; NULL if empty';
CREATE FUNCTION ff_sketch_count(p_sketch bytea) RETURNS bigint
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_count';
COMMENT ON FUNCTION ff_sketch_count(bytea) IS 'Number of samples in a latency sketch';

CREATE FUNCTION _ff_sketch_merge_trans(internal, bytea) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_merge_trans';
CREATE FUNCTION _ff_sketch_add_trans(internal, float8) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_add_trans';
CREATE FUNCTION _ff_sketch_final(internal) RETURNS bytea
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_final';

CREATE AGGREGATE ff_sketch_merge(bytea) (
  SFUNC = _ff_sketch_merge_trans, STYPE = internal, FINALFUNC = _ff_sketch_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_merge(bytea) IS
  'Merge latency sketches by adding their counts (= the sketch of all their samples)';
CREATE AGGREGATE ff_sketch_agg(float8) (
  SFUNC = _ff_sketch_add_trans, STYPE = internal, FINALFUNC = _ff_sketch_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_agg(float8) IS 'Latency sketch of durations in milliseconds';

-- Recording and flushing.
CREATE FUNCTION _log_rpc(p_rpc text, p_duration_ms float8, p_ok boolean DEFAULT true) RETURNS void
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_log_rpc';
COMMENT ON FUNCTION _log_rpc(text, float8, boolean) IS
  'Record one call of RPC p_rpc taking p_duration_ms (p_ok false: it failed)';
CREATE FUNCTION _ff_log_rpc_at(p_rpc text, p_duration_ms float8, p_ok boolean, p_at timestamptz) RETURNS void
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_log_rpc_at';
COMMENT ON FUNCTION _ff_log_rpc_at(text, float8, boolean, timestamptz) IS
  'Record one call into the minute of p_at (backfill, tests, benchmarks); service_role only';
CREATE FUNCTION rpc_metrics_flush() RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_rpc_metrics_flush';
COMMENT ON FUNCTION rpc_metrics_flush() IS
  'Move closed minutes of RPC metrics from shared memory into rpc_metrics; returns rows written';
CREATE FUNCTION _ff_metrics_flush_all() RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_flush_all';
COMMENT ON FUNCTION _ff_metrics_flush_all() IS
  'Like rpc_metrics_flush(), including the open minute (what a clean shutdown does)';
CREATE FUNCTION _ff_metrics_pending()
  RETURNS TABLE (rpc text, bucket_start timestamptz, calls bigint, errors bigint,
                 total_ms float8, max_ms float8, sketch bytea)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'ff_metrics_pending';
COMMENT ON FUNCTION _ff_metrics_pending() IS
  'Not-yet-flushed RPC metrics of this database from shared memory (empty in table mode)';
CREATE FUNCTION _ff_metrics_status() RETURNS jsonb
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_status';
CREATE FUNCTION _ff_metrics_selftest(p_fail boolean DEFAULT false, p_sleep_ms float8 DEFAULT 0) RETURNS int
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_selftest';
COMMENT ON FUNCTION _ff_metrics_selftest(boolean, float8) IS
  'Test hook: an RPC wrapped by ff_tracked_call that sleeps p_sleep_ms and fails if p_fail';

-- Flushed and not-yet-flushed data together, per rpc and UTC hour.
CREATE VIEW rpc_metrics_hourly AS
SELECT m.rpc,
       m.hour,
       sum(m.calls)::bigint AS calls,
       sum(m.errors)::bigint AS errors,
       (sum(m.errors)::float8 / nullif(sum(m.calls), 0)::float8) AS error_rate,
       (sum(m.total_ms) / nullif(sum(m.calls), 0)::float8) AS mean_ms,
       least(@extschema@.ff_sketch_quantile(@extschema@.ff_sketch_merge(m.sketch), 0.50), max(m.max_ms)) AS p50_ms,
       least(@extschema@.ff_sketch_quantile(@extschema@.ff_sketch_merge(m.sketch), 0.95), max(m.max_ms)) AS p95_ms,
       least(@extschema@.ff_sketch_quantile(@extschema@.ff_sketch_merge(m.sketch), 0.99), max(m.max_ms)) AS p99_ms,
       max(m.max_ms) AS max_ms
FROM (SELECT r.rpc, @extschema@._ff_metrics_hour(r.bucket_start) AS hour, r.calls, r.errors,
             r.total_ms, r.max_ms, r.sketch
      FROM @extschema@.rpc_metrics r
      UNION ALL
      SELECT p.rpc, @extschema@._ff_metrics_hour(p.bucket_start), p.calls, p.errors,
             p.total_ms, p.max_ms, p.sketch
      FROM @extschema@._ff_metrics_pending() p) m
GROUP BY m.rpc, m.hour;
COMMENT ON VIEW rpc_metrics_hourly IS
  'RPC calls, errors, mean and p50/p95/p99/max latency per rpc and UTC hour (flushed + pending)';

CREATE FUNCTION _ff_status_metrics() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'metrics'::text, s.d ->> 'mode', s.d FROM (SELECT @extschema@._ff_metrics_status() AS d) s
$$;

-- Privileges: apps log their RPCs; reading and flushing metrics is service_role's.
REVOKE EXECUTE ON FUNCTION _log_rpc(text, float8, boolean), _ff_log_rpc_at(text, float8, boolean, timestamptz),
  rpc_metrics_flush(), _ff_metrics_flush_all(), _ff_metrics_pending(),
  _ff_metrics_selftest(boolean, float8) FROM PUBLIC;
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_log_rpc_at(text, double precision, boolean, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rpc_metrics_flush()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_flush_all()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_pending()', 'EXECUTE', 'service_role'),
  ('VIEW', 'rpc_metrics_hourly', 'SELECT', 'service_role');
