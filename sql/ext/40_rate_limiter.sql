-- 40_rate_limiter.sql — rate-limit profiles and the table-mode counters (§6).
-- The C limiter lands with the rate-limiter issue.

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

-- Table-mode storage: one row per live key holding the GCRA theoretical arrival time.
CREATE TABLE rate_limit_counters (
  key  text PRIMARY KEY,
  tat  timestamptz NOT NULL
);

CREATE FUNCTION _ff_status_rate_limiter() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'rate_limiter'::text, NULL::text, jsonb_build_object('status', 'not built yet')
$$;
