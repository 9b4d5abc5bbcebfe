-- 85_status.sql — ff_status(): one row per component with its mode and details.
-- Each component owns its _ff_status_<component>() function.

CREATE FUNCTION ff_status() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT * FROM @extschema@._ff_status_rate_limiter()
  UNION ALL SELECT * FROM @extschema@._ff_status_metrics()
  UNION ALL SELECT * FROM @extschema@._ff_status_flags()
  UNION ALL SELECT * FROM @extschema@._ff_status_feed()
$$;
COMMENT ON FUNCTION ff_status() IS
  'One row per component (rate_limiter, metrics, flags, feed): mode (shared_memory|table) and details';
