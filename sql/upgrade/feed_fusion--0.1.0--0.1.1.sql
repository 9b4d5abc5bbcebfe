\echo Use "ALTER EXTENSION feed_fusion UPDATE TO '0.1.1'" to load this file. \quit
-- feed_fusion 0.1.0 -> 0.1.1.
--
-- Rules for this file (checked by test/scripts/fnd_ext_update.sh, which compares an
-- upgraded database with a fresh install of 0.1.1 object by object):
-- * One section per component, in the order of sql/ext/ (NN_*.sql); append to your
--   component's section, or add a new section in that order.
-- * Leave the database exactly as a fresh install would: same definitions, names
--   (give constraints the names a fresh install gets), column order (new columns go at
--   the end of the CREATE TABLE in sql/ext/), comments, grants (add _ff_grants rows and
--   run ff_apply_grants() if needed), pg_extension_config_dump registrations.
-- * Touch only rows the install script seeded; users' own rows and edits stay.
-- * Runs with search_path = @extschema@ like the install script.  No _ff_restoring()
--   needed: a restore runs CREATE EXTENSION (the install script), never an update.

-- ==== 10_tables.sql — feed_lanes: lane behaviour as data ====

CREATE FUNCTION _ff_lane_names_valid(p_names text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_ndims(p_names), 1) = 1
     AND NOT EXISTS (SELECT 1 FROM unnest(p_names) AS a WHERE a IS NULL OR a !~ '^[a-z][a-z0-9_]{0,62}$')
$$;
COMMENT ON FUNCTION _ff_lane_names_valid(text[]) IS
  'True when p_names is a one-dimensional array of lane names without NULLs (CHECK of feed_lanes.aliases)';

ALTER TABLE feed_lanes
  ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'
    CONSTRAINT feed_lanes_aliases_check CHECK (_ff_lane_names_valid(aliases)),
  ADD COLUMN honors_shop_blend boolean NOT NULL DEFAULT true,
  ADD COLUMN serves_anonymous boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN feed_lanes.aliases IS
  'Legacy lane names that map to this lane (each with the syntax of lane)';
COMMENT ON COLUMN feed_lanes.honors_shop_blend IS
  'The listings source of this lane obeys feature flag feed_shop_blend (false: the flag does not apply to this lane)';
COMMENT ON COLUMN feed_lanes.serves_anonymous IS
  'false: anonymous viewers get no rows from this lane';

-- The seeded lanes get the values a fresh install seeds (their other columns keep any
-- edits); lanes users added keep the defaults.
UPDATE feed_lanes l
SET aliases = seed.aliases, honors_shop_blend = seed.honors_shop_blend, serves_anonymous = seed.serves_anonymous
FROM (VALUES
  ('for_you',   '{combined}'::text[], true,  true),
  ('following', '{personal}'::text[], true,  false),
  ('shop',      '{}'::text[],         false, true)) AS seed (lane, aliases, honors_shop_blend, serves_anonymous)
WHERE l.lane = seed.lane;

-- ==== 00_base.sql, 30_flags.sql, 40_rate_limiter.sql — one config-change trigger ====
-- feature_flags and rate_limit_profiles share one trigger function; the limiter's
-- trigger is now ENABLE ALWAYS as the flags' one always was (caches stay exact under
-- session_replication_role = replica).

CREATE FUNCTION _ff_config_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_config_changed';
COMMENT ON FUNCTION _ff_config_changed() IS
  'Trigger: queue a relcache invalidation of a configuration table so every backend''s cache of it refills';

DROP TRIGGER feature_flags_invalidate_cache ON feature_flags;
CREATE TRIGGER feature_flags_invalidate_cache
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE feature_flags ENABLE ALWAYS TRIGGER feature_flags_invalidate_cache;
DROP FUNCTION _ff_flags_invalidate();

DROP TRIGGER rate_limit_profiles_changed ON rate_limit_profiles;
CREATE TRIGGER rate_limit_profiles_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_limit_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE rate_limit_profiles ENABLE ALWAYS TRIGGER rate_limit_profiles_changed;
DROP FUNCTION _ff_rate_limit_profiles_changed();

-- ==== 60_feed.sql — the feed's ff_status() detail is built in C ====

CREATE FUNCTION _ff_feed_status() RETURNS jsonb
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'ff_feed_status';
COMMENT ON FUNCTION _ff_feed_status() IS
  'The feed''s ff_status() detail: cursor version and secret, lanes, network strategy';

CREATE OR REPLACE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, 'table'::text, @extschema@._ff_feed_status()
$$;

-- ==== 00_base.sql — the anonymous rate-limit subject is read from the right ====
-- ff_request_subject() (C) now takes the client address from the header named by
-- feed_fusion.client_ip_header, counting feed_fusion.trusted_proxy_hops entries from the
-- right, so a client cannot choose it; only its comment changes in the catalog.

COMMENT ON FUNCTION ff_request_subject() IS
  'Rate-limit subject: u:<uuid>, else ip:<client address: feed_fusion.client_ip_header read from the right, feed_fusion.trusted_proxy_hops>, else anon';

-- ==== 50_metrics.sql — bounded durations, saturating sums (metrics poisoning) ====

-- The rollup triggers and the view sum in numeric and saturate.
CREATE OR REPLACE FUNCTION _ff_metrics_rollup_ins() RETURNS trigger
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
CREATE OR REPLACE FUNCTION _ff_metrics_rollup_recompute(p_keys jsonb) RETURNS void
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
CREATE OR REPLACE VIEW rpc_metrics_hourly AS
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

-- Rows are bounded like new input (max_ms <= 1 hour, total_ms finite): clamp what an
-- older release let in (the update trigger recomputes their hours), then check.
UPDATE rpc_metrics SET max_ms = least(max_ms, 3600000),
                       total_ms = CASE WHEN total_ms < 'Infinity' THEN total_ms ELSE 1e308 END
WHERE NOT (max_ms <= 3600000 AND total_ms < 'Infinity');
ALTER TABLE rpc_metrics DROP CONSTRAINT rpc_metrics_total_ms_check,
  ADD CONSTRAINT rpc_metrics_total_ms_check CHECK (total_ms >= 0 AND total_ms < 'Infinity');
ALTER TABLE rpc_metrics DROP CONSTRAINT rpc_metrics_max_ms_check,
  ADD CONSTRAINT rpc_metrics_max_ms_check CHECK (max_ms >= 0 AND max_ms <= 3600000);
