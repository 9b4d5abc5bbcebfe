-- 50_metrics.sql — per-(rpc, minute) aggregates (§7), partitioned daily, 30-day retention.
-- The C sketch, shared-memory recorder and background flush land with the metrics issue.

CREATE TABLE rpc_metrics (
  rpc           text NOT NULL,
  bucket_start  timestamptz NOT NULL,
  calls         bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  errors        bigint NOT NULL DEFAULT 0 CHECK (errors >= 0),
  total_ms      float8 NOT NULL DEFAULT 0,
  max_ms        float8 NOT NULL DEFAULT 0,
  sketch        bytea
) PARTITION BY RANGE (bucket_start);
CREATE INDEX rpc_metrics_rpc_bucket_idx ON rpc_metrics (rpc, bucket_start);

SELECT _ff_partition('rpc_metrics', 'bucket_start', '1 day', date_trunc('day', now() - interval '7 days'), 4, interval '30 days');

CREATE FUNCTION _ff_status_metrics() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'metrics'::text, NULL::text, jsonb_build_object('status', 'not built yet')
$$;
