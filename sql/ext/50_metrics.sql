-- 50_metrics.sql — RPC latency metrics: per-(rpc, minute) aggregates with a
-- mergeable latency sketch, partitioned daily with 30-day retention; the recorder,
-- sketch and flush are C (src/metrics.c, src/metrics_shm.c, src/sketch.c, src/bgworker.c).

-- Start of the UTC hour of a timestamp (IMMUTABLE: indexable, unlike date_trunc).
CREATE FUNCTION _ff_metrics_hour(p_ts timestamptz) RETURNS timestamptz
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_metrics_hour';

-- One row per (rpc, minute) flushed from shared memory or written from a table-mode
-- backend's batch of tracked calls, or per _log_rpc call in table mode;
-- several rows for the same (rpc, bucket_start) are normal and simply add up.
CREATE TABLE rpc_metrics (
  rpc           text NOT NULL CHECK (length(rpc) BETWEEN 1 AND 63),
  bucket_start  timestamptz NOT NULL,
  calls         bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  errors        bigint NOT NULL DEFAULT 0 CHECK (errors >= 0 AND errors <= calls),
  total_ms      float8 NOT NULL DEFAULT 0 CHECK (total_ms >= 0 AND total_ms < 'Infinity'),
  max_ms        float8 NOT NULL DEFAULT 0 CHECK (max_ms >= 0 AND max_ms <= 3600000),
  sketch        bytea                      -- sparse latency sketch (see docs/metrics.md)
) PARTITION BY RANGE (bucket_start);
CREATE INDEX rpc_metrics_rpc_bucket_idx ON rpc_metrics (rpc, bucket_start);
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
CREATE FUNCTION _ff_sketch_merge_q_trans(internal, bytea, float8[]) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_merge_q_trans';
CREATE FUNCTION _ff_sketch_quantiles_final(internal) RETURNS float8[]
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantiles_final';
CREATE AGGREGATE ff_sketch_merge_quantiles(bytea, float8[]) (
  SFUNC = _ff_sketch_merge_q_trans, STYPE = internal, FINALFUNC = _ff_sketch_quantiles_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_merge_quantiles(bytea, float8[]) IS
  'Nearest-rank quantiles (array of q in 0..1) of the merge of latency sketches, in one pass';
CREATE FUNCTION ff_sketch_quantiles(p_sketch bytea, p_qs float8[]) RETURNS float8[]
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantiles';
COMMENT ON FUNCTION ff_sketch_quantiles(bytea, float8[]) IS
  'Several nearest-rank quantiles (q in 0..1) of a latency sketch with one decode';
CREATE FUNCTION ff_sketch_union(p_a bytea, p_b bytea) RETURNS bytea
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_union';
COMMENT ON FUNCTION ff_sketch_union(bytea, bytea) IS 'Merge of two latency sketches (NULL counts as empty)';

-- Hourly rollup of rpc_metrics, kept exact by statement triggers on rpc_metrics, so
-- rpc_metrics_hourly reads one row per (rpc, hour) instead of 60 (30 days x 20 RPCs:
-- 14,400 rows, not 864,000).  Rows inserted straight into a partition bypass the
-- triggers (pg_restore does that, and restores this table from the dump as well).
CREATE TABLE rpc_metrics_rollup (
  rpc       text NOT NULL,
  hour      timestamptz NOT NULL,
  calls     bigint NOT NULL,
  errors    bigint NOT NULL,
  total_ms  float8 NOT NULL,
  max_ms    float8 NOT NULL,
  sketch    bytea,
  quantiles float8[],               -- {p50, p95, p99} of sketch, stored by the triggers
  PRIMARY KEY (rpc, hour)
);
CREATE INDEX rpc_metrics_rollup_hour_idx ON rpc_metrics_rollup (hour);
ALTER TABLE rpc_metrics_rollup ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE rpc_metrics_rollup IS
  'rpc_metrics summed per (rpc, UTC hour); maintained by triggers, read by rpc_metrics_hourly';

-- Closed hours are read without decoding their sketch: every write below also
-- stores quantiles = {p50, p95, p99} of the row's sketch.
-- Sums saturate (bigint at 2^63-1, float8 at 1e308, formed in numeric), so no
-- accumulation of rows can overflow and make a flush or the view fail.
-- Rows added to rpc_metrics are added to their hours.
CREATE FUNCTION _ff_metrics_rollup_ins() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO @extschema@.rpc_metrics_rollup AS r (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.rpc, a.hour, a.calls, a.errors, a.total_ms, a.max_ms, a.sketch,
         @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT n.rpc, @extschema@._ff_metrics_hour(n.bucket_start) AS hour,
               least(sum(n.calls), 9223372036854775807)::bigint AS calls,
               least(sum(n.errors), 9223372036854775807)::bigint AS errors,
               least(sum(n.total_ms::numeric), 1e308)::float8 AS total_ms, max(n.max_ms) AS max_ms,
               @extschema@.ff_sketch_merge(n.sketch) AS sketch
        FROM ff_new_rows n GROUP BY 1, 2) a
  ORDER BY 1, 2
  ON CONFLICT (rpc, hour) DO UPDATE
    SET calls = least(r.calls::numeric + excluded.calls, 9223372036854775807)::bigint,
        errors = least(r.errors::numeric + excluded.errors, 9223372036854775807)::bigint,
        total_ms = least(r.total_ms::numeric + excluded.total_ms::numeric, 1e308)::float8,
        max_ms = greatest(r.max_ms, excluded.max_ms),
        sketch = @extschema@.ff_sketch_union(r.sketch, excluded.sketch),
        quantiles = @extschema@.ff_sketch_quantiles(@extschema@.ff_sketch_union(r.sketch, excluded.sketch),
                                                     '{0.5,0.95,0.99}'::float8[]);
  RETURN NULL;
END $$;

-- Hours touched by an UPDATE or DELETE are recomputed from rpc_metrics (exact max).
CREATE FUNCTION _ff_metrics_rollup_recompute(p_keys jsonb) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup r
  USING jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
  WHERE r.rpc = k.rpc AND r.hour = k.hour;
  INSERT INTO @extschema@.rpc_metrics_rollup (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.*, @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT m.rpc, k.hour, least(sum(m.calls), 9223372036854775807)::bigint AS calls,
               least(sum(m.errors), 9223372036854775807)::bigint AS errors,
               least(sum(m.total_ms::numeric), 1e308)::float8 AS total_ms,
               max(m.max_ms) AS max_ms, @extschema@.ff_sketch_merge(m.sketch) AS sketch
        FROM jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
        JOIN @extschema@.rpc_metrics m
          ON m.rpc = k.rpc AND m.bucket_start >= k.hour AND m.bucket_start < k.hour + interval '1 hour'
        GROUP BY 1, 2) a;
END $$;
CREATE FUNCTION _ff_metrics_rollup_del() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_metrics_rollup_recompute(
    (SELECT jsonb_agg(DISTINCT jsonb_build_object('rpc', o.rpc, 'hour', @extschema@._ff_metrics_hour(o.bucket_start)))
     FROM ff_old_rows o));
  RETURN NULL;
END $$;
CREATE FUNCTION _ff_metrics_rollup_upd() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_metrics_rollup_recompute(
    (SELECT jsonb_agg(DISTINCT jsonb_build_object('rpc', x.rpc, 'hour', @extschema@._ff_metrics_hour(x.bucket_start)))
     FROM (SELECT rpc, bucket_start FROM ff_old_rows UNION ALL SELECT rpc, bucket_start FROM ff_new_rows) x));
  RETURN NULL;
END $$;
CREATE FUNCTION _ff_metrics_rollup_trunc() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup;
  RETURN NULL;
END $$;
CREATE TRIGGER rpc_metrics_rollup_ins AFTER INSERT ON rpc_metrics
  REFERENCING NEW TABLE AS ff_new_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_ins();
CREATE TRIGGER rpc_metrics_rollup_del AFTER DELETE ON rpc_metrics
  REFERENCING OLD TABLE AS ff_old_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_del();
CREATE TRIGGER rpc_metrics_rollup_upd AFTER UPDATE ON rpc_metrics
  REFERENCING OLD TABLE AS ff_old_rows NEW TABLE AS ff_new_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_upd();
CREATE TRIGGER rpc_metrics_rollup_trunc AFTER TRUNCATE ON rpc_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_trunc();

-- Retention drops whole partitions (no trigger fires): forget rollup hours whose
-- minutes are gone.  Run by ff_run_maintenance() (05_partitions.sql).
CREATE FUNCTION _ff_metrics_prune_rollup() RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE n bigint;
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup r
  WHERE r.hour < now() - interval '1 day'
    AND NOT EXISTS (SELECT 1 FROM @extschema@.rpc_metrics m
                    WHERE m.rpc = r.rpc AND m.bucket_start >= r.hour AND m.bucket_start < r.hour + interval '1 hour');
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

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
  'Move closed minutes of RPC metrics from shared memory (table mode: this backend''s batch) into rpc_metrics; returns rows written';
CREATE FUNCTION _ff_metrics_flush_all() RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_flush_all';
COMMENT ON FUNCTION _ff_metrics_flush_all() IS
  'Like rpc_metrics_flush(), including the open minute (what a clean shutdown does)';
CREATE FUNCTION _ff_metrics_pending()
  RETURNS TABLE (rpc text, bucket_start timestamptz, calls bigint, errors bigint,
                 total_ms float8, max_ms float8, sketch bytea)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'ff_metrics_pending';
COMMENT ON FUNCTION _ff_metrics_pending() IS
  'Not-yet-flushed RPC metrics of this database from shared memory (table mode: this backend''s unwritten batch)';
CREATE FUNCTION _ff_metrics_status() RETURNS jsonb
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_status';
CREATE FUNCTION _ff_metrics_selftest(p_fail boolean DEFAULT false, p_sleep_ms float8 DEFAULT 0) RETURNS int
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_selftest';
COMMENT ON FUNCTION _ff_metrics_selftest(boolean, float8) IS
  'Test hook: an RPC wrapped by ff_tracked_call that sleeps p_sleep_ms and fails if p_fail';

-- Flushed and not-yet-flushed data together, per rpc and UTC hour.
-- Lower bound (UTC hour) of the not-yet-flushed data; hours before it come straight
-- from the rollup (stored quantiles), hours from it on are merged with shared memory.
CREATE FUNCTION _ff_metrics_pending_from() RETURNS timestamptz
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(min(@extschema@._ff_metrics_hour(p.bucket_start)), 'infinity'::timestamptz)
  FROM @extschema@._ff_metrics_pending() p
$$;

CREATE VIEW rpc_metrics_hourly AS
SELECT r.rpc, r.hour, r.calls, r.errors,
       (r.errors::float8 / nullif(r.calls, 0)::float8) AS error_rate,
       (r.total_ms / nullif(r.calls, 0)::float8) AS mean_ms,
       least(r.quantiles[1], r.max_ms) AS p50_ms,
       least(r.quantiles[2], r.max_ms) AS p95_ms,
       least(r.quantiles[3], r.max_ms) AS p99_ms,
       r.max_ms
FROM @extschema@.rpc_metrics_rollup r
WHERE r.hour < (SELECT @extschema@._ff_metrics_pending_from())
UNION ALL
SELECT g.rpc, g.hour, g.calls, g.errors,
       (g.errors::float8 / nullif(g.calls, 0)::float8),
       (g.total_ms / nullif(g.calls, 0)::float8),
       least(g.q[1], g.max_ms), least(g.q[2], g.max_ms), least(g.q[3], g.max_ms),
       g.max_ms
FROM (SELECT m.rpc, m.hour, least(sum(m.calls), 9223372036854775807)::bigint AS calls,
             least(sum(m.errors), 9223372036854775807)::bigint AS errors,
             least(sum(m.total_ms::numeric), 1e308)::float8 AS total_ms, max(m.max_ms) AS max_ms,
             @extschema@.ff_sketch_merge_quantiles(m.sketch, '{0.5,0.95,0.99}'::float8[]) AS q
      FROM (SELECT r.rpc, r.hour, r.calls, r.errors, r.total_ms, r.max_ms, r.sketch
            FROM @extschema@.rpc_metrics_rollup r
            WHERE r.hour >= (SELECT @extschema@._ff_metrics_pending_from())
            UNION ALL
            SELECT p.rpc, @extschema@._ff_metrics_hour(p.bucket_start), p.calls, p.errors,
                   p.total_ms, p.max_ms, p.sketch
            FROM @extschema@._ff_metrics_pending() p
            WHERE @extschema@._ff_metrics_hour(p.bucket_start) >= (SELECT @extschema@._ff_metrics_pending_from())) m
      GROUP BY m.rpc, m.hour) g;
COMMENT ON VIEW rpc_metrics_hourly IS
  'RPC calls, errors, mean and p50/p95/p99/max latency per rpc and UTC hour (flushed + pending)';

CREATE FUNCTION _ff_status_metrics() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'metrics'::text, s.d ->> 'mode', s.d FROM (SELECT @extschema@._ff_metrics_status() AS d) s
$$;

-- Privileges: apps log their RPCs; reading and flushing metrics is service_role's.
REVOKE EXECUTE ON FUNCTION _log_rpc(text, float8, boolean), _ff_log_rpc_at(text, float8, boolean, timestamptz),
  rpc_metrics_flush(), _ff_metrics_flush_all(), _ff_metrics_pending(),
  _ff_metrics_selftest(boolean, float8), _ff_metrics_pending_from(), _ff_metrics_prune_rollup(), _ff_metrics_rollup_recompute(jsonb) FROM PUBLIC;
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_log_rpc_at(text, double precision, boolean, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rpc_metrics_flush()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_flush_all()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_pending()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_pending_from()', 'EXECUTE', 'service_role'),
  ('VIEW', 'rpc_metrics_hourly', 'SELECT', 'service_role'),
  -- called by the view as its reader (the sketch aggregates' support functions are
  -- checked against the aggregate's owner, so they stay unregistered)
  ('FUNCTION', '_ff_metrics_hour(timestamp with time zone)', 'EXECUTE', 'service_role');
-- The sketch functions and aggregates are for everyone; _ff_metrics_status() and
-- _ff_status_metrics() are for ff_status().
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'FUNCTION', f, 'EXECUTE', r
FROM unnest(ARRAY['ff_sketch_quantile(bytea, double precision)', 'ff_sketch_count(bytea)',
                  'ff_sketch_merge(bytea)', 'ff_sketch_agg(double precision)',
                  'ff_sketch_merge_quantiles(bytea, double precision[])',
                  'ff_sketch_quantiles(bytea, double precision[])', 'ff_sketch_union(bytea, bytea)',
                  '_ff_metrics_status()', '_ff_status_metrics()']) AS f,
     unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;
