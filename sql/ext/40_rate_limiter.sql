-- 40_rate_limiter.sql — the rate limiter: profiles, table-mode storage, the C
-- functions, the profile-cache invalidation trigger and the limiter's ff_status() row.
-- Design notes: src/rate_limiter.c, src/ratelimit_shm.c, docs/rate_limiter.md.

CREATE TABLE rate_limit_profiles (
  name      text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  capacity  int NOT NULL CHECK (capacity > 0),
  period    interval NOT NULL CHECK (period > interval '0')
);

INSERT INTO rate_limit_profiles (name, capacity, period)
SELECT * FROM (VALUES
  ('high',      300,  interval '1 minute'),
  ('standard',  60,   interval '1 minute'),
  ('expensive', 10,   interval '1 minute'),
  ('auth',      5,    interval '5 minutes'),
  ('admin',     1000, interval '1 minute')) AS seed
WHERE NOT _ff_restoring();

-- Table-mode storage: one row per live key holding the GCRA theoretical arrival time
-- in nanoseconds since 2000-01-01 UTC (a row with tat <= now is a full bucket and is
-- swept).  Updates never touch an indexed column, so with fillfactor 50 they stay HOT.
-- UNLOGGED: the state is transient (like shared memory it is lost on a crash, kept on
-- a clean restart), writes make no WAL, and a transaction that only rate-limits
-- commits without waiting for a WAL flush.
CREATE UNLOGGED TABLE rate_limit_counters (
  key  text PRIMARY KEY,
  tat  bigint NOT NULL
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
COMMENT ON TABLE rate_limit_counters IS
  'Table-mode rate limiter state: key -> GCRA TAT (ns since 2000-01-01 UTC); transient, not dumped';

CREATE FUNCTION check_rate_limit(p_scope text DEFAULT 'standard', p_cost int DEFAULT 1) RETURNS boolean
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'check_rate_limit';
COMMENT ON FUNCTION check_rate_limit(text, int) IS
  'Take p_cost tokens from the bucket of (current subject, profile p_scope; unknown scope: standard); true when allowed';

CREATE FUNCTION rate_limit_take(p_key text, p_capacity int, p_period interval, p_cost int DEFAULT 1)
  RETURNS TABLE (allowed boolean, remaining int, retry_after_ms bigint, reset_after_ms bigint)
  LANGUAGE c VOLATILE ROWS 1 AS 'MODULE_PATHNAME', 'rate_limit_take';
COMMENT ON FUNCTION rate_limit_take(text, int, interval, int) IS
  'service_role: token bucket on p_key (capacity per period), CL.THROTTLE style; cost 0 peeks';

CREATE FUNCTION rate_limit_reset(p_key text) RETURNS boolean
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'rate_limit_reset';
COMMENT ON FUNCTION rate_limit_reset(text) IS
  'service_role: refill the bucket of p_key; true when it was not full';

REVOKE EXECUTE ON FUNCTION rate_limit_take(text, int, interval, int), rate_limit_reset(text) FROM PUBLIC;

-- Each backend caches rate_limit_profiles; any change refills every cache (00_base.sql).
CREATE TRIGGER rate_limit_profiles_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_limit_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE rate_limit_profiles ENABLE ALWAYS TRIGGER rate_limit_profiles_changed;

CREATE FUNCTION _ff_rate_limiter_info(OUT mode text, OUT detail jsonb)
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_rate_limiter_info';

CREATE FUNCTION _ff_status_rate_limiter() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'rate_limiter'::text, i.mode, i.detail FROM @extschema@._ff_rate_limiter_info() i
$$;

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rate_limit_take(text, int, interval, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rate_limit_reset(text)', 'EXECUTE', 'service_role');
-- ff_status() is a plain SQL function: its callers run the component rows themselves.
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'FUNCTION', f, 'EXECUTE', r
FROM unnest(ARRAY['_ff_rate_limiter_info()', '_ff_status_rate_limiter()']) AS f,
     unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;
