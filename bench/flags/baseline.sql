-- Baselines for bench/flags: what an app would write in plain SQL without a cache.
-- Same semantics and the same documented bucket hash as the extension, but every
-- call scans feature_flags.  Schema-qualified, no SET clause (their best case).
CREATE SCHEMA IF NOT EXISTS flags_bench;

-- All flags for p_user as {key: bool}: scans the table on each call.
CREATE OR REPLACE FUNCTION flags_bench.flags_for_sql(p_user uuid) RETURNS jsonb
  LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_object_agg(f.key,
           CASE WHEN p_user IS NULL THEN f.enabled AND f.rollout_percent = 100
                WHEN p_user = ANY (f.deny_users) THEN false
                WHEN p_user = ANY (f.allow_users) THEN true
                WHEN NOT f.enabled THEN false
                ELSE (('x' || substr(encode(sha256(convert_to(f.key || ':' || p_user::text, 'UTF8')), 'hex'), 1, 8))
                        ::bit(32)::bigint % 100) < f.rollout_percent END), '{}')
  FROM public.feature_flags f
$$;

-- One flag for the current user: a primary-key lookup on each call.
CREATE OR REPLACE FUNCTION flags_bench.flag_enabled_sql(p_key text, p_default boolean DEFAULT false)
  RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((
    SELECT CASE WHEN u IS NULL THEN f.enabled AND f.rollout_percent = 100
                WHEN u = ANY (f.deny_users) THEN false
                WHEN u = ANY (f.allow_users) THEN true
                WHEN NOT f.enabled THEN false
                ELSE (('x' || substr(encode(sha256(convert_to(f.key || ':' || u::text, 'UTF8')), 'hex'), 1, 8))
                        ::bit(32)::bigint % 100) < f.rollout_percent END
    FROM public.feature_flags f, public.ff_current_user() AS u
    WHERE f.key = p_key), p_default)
$$;

-- Two partial rollouts so the benchmark exercises the hash, not only 0/100 %.
INSERT INTO public.feature_flags (key, enabled, rollout_percent) VALUES
  ('bench_r30', true, 30), ('bench_r50', true, 50)
ON CONFLICT (key) DO NOTHING;

-- Server time per call, in microseconds, of expression p_expr evaluated p_n times in
-- this backend (minus an empty loop): isolates CPU cost from round trips and load.
CREATE OR REPLACE FUNCTION flags_bench.us_per_call(p_expr text, p_n int) RETURNS numeric
  LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; t1 timestamptz; t2 timestamptz;
BEGIN
  t0 := clock_timestamp();
  EXECUTE format('SELECT count(i) FROM generate_series(1, %s) i', p_n);
  t1 := clock_timestamp();
  EXECUTE format('SELECT count(%s) FROM generate_series(1, %s) i', p_expr, p_n);
  t2 := clock_timestamp();
  RETURN round((extract(epoch FROM (t2 - t1)) - extract(epoch FROM (t1 - t0))) * 1e6 / p_n, 3);
END $$;
