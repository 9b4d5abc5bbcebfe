-- Baseline for the rate-limiter benchmark: what the seed described, in PL/pgSQL —
-- a table of counters, pg_advisory_xact_lock on the key, read, refill, update.
-- Same profiles and subject as check_rate_limit; default synchronous_commit.
CREATE TABLE IF NOT EXISTS bench_rl_counters (
  key         text PRIMARY KEY,
  tokens      float8 NOT NULL,
  updated_at  timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION bench_rl_check(p_scope text DEFAULT 'standard', p_cost int DEFAULT 1)
  RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_key     text := p_scope || ':' || ff_request_subject();
  v_now     timestamptz := clock_timestamp();
  v_cap     int;
  v_period  interval;
  v_tokens  float8;
  v_updated timestamptz;
BEGIN
  SELECT capacity, period INTO v_cap, v_period FROM rate_limit_profiles WHERE name = p_scope;
  IF NOT FOUND THEN
    SELECT capacity, period INTO v_cap, v_period FROM rate_limit_profiles WHERE name = 'standard';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext(v_key));
  SELECT tokens, updated_at INTO v_tokens, v_updated FROM bench_rl_counters WHERE key = v_key;
  IF NOT FOUND THEN
    v_tokens := v_cap;
    v_updated := v_now;
  END IF;
  v_tokens := least(v_cap, v_tokens + extract(epoch FROM v_now - v_updated) * v_cap / extract(epoch FROM v_period));
  IF v_tokens < p_cost THEN
    RETURN false;
  END IF;
  INSERT INTO bench_rl_counters AS c (key, tokens, updated_at) VALUES (v_key, v_tokens - p_cost, v_now)
  ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at;
  RETURN true;
END $$;
