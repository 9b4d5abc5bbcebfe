-- are printed as 'ok' when within 2 s of the exact value (else the value itself).
\set VERBOSITY terse
SELECT mode FROM ff_status() WHERE component = 'rate_limiter';

CREATE SCHEMA rl_t;
GRANT USAGE ON SCHEMA rl_t TO PUBLIC;
-- SQLSTATE of a statement, or 'no error'.
CREATE FUNCTION rl_t.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$;
-- One rate_limit_take call, checked against the exact expected numbers.
CREATE FUNCTION rl_t.take(k text, c int, p interval, n int, exp_retry bigint, exp_reset bigint)
  RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  SELECT * INTO r FROM rate_limit_take(k, c, p, n);
  RETURN format('allowed=%s remaining=%s retry=%s reset=%s', r.allowed, r.remaining,
    CASE WHEN r.retry_after_ms BETWEEN exp_retry - 2000 AND exp_retry THEN 'ok' ELSE r.retry_after_ms::text END,
    CASE WHEN r.reset_after_ms BETWEEN exp_reset - 2000 AND exp_reset THEN 'ok' ELSE r.reset_after_ms::text END);
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA rl_t TO PUBLIC;

-- Worked example: capacity 10 per hour (one token per 360 s), cost 3 each time.
SELECT rl_t.take('rl:a', 10, '1 hour', 3, 0, 1080000);    -- 7 left, full in 18 min
SELECT rl_t.take('rl:a', 10, '1 hour', 3, 0, 2160000);    -- 4 left
SELECT rl_t.take('rl:a', 10, '1 hour', 3, 0, 3240000);    -- 1 left
SELECT rl_t.take('rl:a', 10, '1 hour', 3, 720000, 3240000); -- denied: 2 more tokens in 12 min
SELECT rl_t.take('rl:a', 10, '1 hour', 0, 0, 3240000);    -- cost 0 peeks: still 1 left
SELECT rl_t.take('rl:a', 10, '1 hour', 1, 0, 3600000);    -- the denied call took nothing
SELECT rl_t.take('rl:a', 10, '1 hour', 1, 360000, 3600000); -- empty: next token in 6 min
SELECT rl_t.take('rl:a', 10, '1 hour', 0, 0, 3600000);    -- peek on an empty bucket is allowed
-- The same key with a bigger bucket keeps its debt (one timestamp per key).
SELECT rl_t.take('rl:a', 20, '2 hours', 1, 0, 3960000);
-- Cost equal to the capacity empties a full bucket at once; cost 0 on a fresh key.
SELECT rl_t.take('rl:b', 5, '1 day', 5, 0, 86400000);
SELECT rl_t.take('rl:b', 5, '1 day', 1, 17280000, 86400000);
SELECT rl_t.take('rl:c', 5, '1 day', 0, 0, 0);
-- A period that capacity does not divide: 7 per minute, the 8th waits ~8.57 s.
SELECT count(*) FILTER (WHERE allowed) AS allowed_of_8
FROM generate_series(1, 8) g, LATERAL rate_limit_take('rl:d' || repeat('', g), 7, '1 minute') t;
SELECT rl_t.take('rl:d', 7, '1 minute', 1, 8572, 60000);  -- 9th: still denied
-- Months count as 30 days (as EXTRACT(epoch FROM interval) does).
SELECT rl_t.take('rl:e', 30, '1 month', 1, 0, 86400000);
-- Called in the select list too (a one-row set).
SELECT (t).allowed, (t).remaining FROM (SELECT rate_limit_take('rl:f', 3, '1 hour', 2) AS t) s;
SELECT allowed FROM rate_limit_take('rl:f', 3, '1 hour', 2) LIMIT 1;
-- Reset: true when the bucket was not full, then it is full again.
SELECT rate_limit_reset('rl:a') AS was_live, rate_limit_reset('rl:a') AS again, rate_limit_reset('rl:never') AS never;
SELECT rl_t.take('rl:a', 10, '1 hour', 10, 0, 3600000);

-- Bad input: never allowed, nothing taken.
SELECT q, rl_t.err(q) FROM (VALUES
  ('SELECT * FROM rate_limit_take(NULL, 10, ''1 hour'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', NULL, ''1 hour'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, NULL, 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''1 hour'', NULL)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 0, ''1 hour'', 0)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', -5, ''1 hour'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''0'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''-1 hour'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''1 day -25 hours'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''11 years'', 1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''1 hour'', -1)'),
  ('SELECT * FROM rate_limit_take(''rl:g'', 10, ''1 hour'', 11)'),
  ('SELECT rate_limit_reset(NULL)'),
  ('SELECT check_rate_limit(NULL)'),
  ('SELECT check_rate_limit(NULL, 1)'),
  ('SELECT check_rate_limit(''standard'', NULL)'),
  ('SELECT check_rate_limit(''standard'', -1)'),
  ('SELECT check_rate_limit(''standard'', 61)'),
  ('SELECT check_rate_limit(''no_such_scope'', 61)'),
  ('SELECT check_rate_limit(''expensive'', 11)')) AS v(q);
SELECT rl_t.take('rl:g', 10, '1 hour', 0, 0, 0);          -- nothing was taken

-- check_rate_limit: one bucket per (subject, profile).
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT array_agg(check_rate_limit('auth')) AS auth_5_of_6 FROM generate_series(1, 6);
SELECT check_rate_limit('auth', 0) AS peek_on_empty, check_rate_limit('expensive') AS other_profile;
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT check_rate_limit('auth') AS other_user;
-- An unknown scope uses the standard profile and its bucket.
SELECT check_rate_limit('standard', 60) AS all_60, check_rate_limit('no_such_scope') AS unknown_is_standard,
       check_rate_limit() AS default_is_standard;
-- Anonymous callers are keyed on the client address: by default the rightmost
-- x-forwarded-for entry, the one the proxy appended (more in *ratelimit_subject.sql).
SELECT tests.login_as('anon');
SELECT set_config('request.headers', '{"x-forwarded-for": "10.0.0.1, 203.0.113.7"}', false) IS NOT NULL;
SELECT array_agg(check_rate_limit('auth')) AS ip_a FROM generate_series(1, 6);
SELECT set_config('request.headers', '{"x-forwarded-for": "203.0.113.8"}', false) IS NOT NULL;
SELECT check_rate_limit('auth') AS ip_b;
SELECT set_config('request.headers', '{"x-forwarded-for": "203.0.113.8, 203.0.113.7"}', false) IS NOT NULL;
SELECT check_rate_limit('auth') AS same_as_ip_a;
SELECT tests.reset();
-- service_role can reset a user's bucket by its key '<profile>:<subject>'.
SELECT tests.login_as('service_role');
SELECT rate_limit_reset('auth:u:' || tests.uid(1)) AS user1_reset,
       rate_limit_reset('auth:ip:203.0.113.7') AS ip_reset;
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT check_rate_limit('auth') AS after_reset;
SELECT tests.reset();

-- Profiles are cached per backend and re-read after a committed change.
SELECT check_rate_limit('expensive', 10) IS NOT NULL AS cost_10_ok;
UPDATE rate_limit_profiles SET capacity = 2 WHERE name = 'expensive';
SELECT rl_t.err('SELECT check_rate_limit(''expensive'', 3)') AS cost_3_now_too_big;
UPDATE rate_limit_profiles SET capacity = 10 WHERE name = 'expensive';
INSERT INTO rate_limit_profiles VALUES ('rl_tiny', 1, '1 hour');
SELECT check_rate_limit('rl_tiny') AS first, check_rate_limit('rl_tiny') AS second;
DELETE FROM rate_limit_profiles WHERE name = 'rl_tiny';
SELECT rate_limit_reset('rl_tiny:anon') AS tiny_key_was_live;

-- Roles: take/reset are service_role only (REVOKE and a check in C).
SELECT r, has_function_privilege(r, 'check_rate_limit(text, int)', 'EXECUTE') AS check_rl,
       has_function_privilege(r, 'rate_limit_take(text, int, interval, int)', 'EXECUTE') AS take,
       has_function_privilege(r, 'rate_limit_reset(text)', 'EXECUTE') AS reset
FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) r;
SELECT tests.login_as('anon');
SELECT rl_t.err('SELECT * FROM rate_limit_take(''rl:h'', 1, ''1 hour'')') AS anon_take,
       rl_t.err('SELECT rate_limit_reset(''rl:h'')') AS anon_reset,
       rl_t.err('SELECT count(*) FROM rate_limit_counters') AS anon_counters;
SELECT tests.login_as('authenticated', tests.uid(3));
SELECT rl_t.err('SELECT * FROM rate_limit_take(''rl:h'', 1, ''1 hour'')') AS auth_take,
       rl_t.err('SELECT count(*) FROM rate_limit_counters') AS auth_counters;
SELECT tests.reset();
BEGIN;  -- even if EXECUTE is granted by mistake, the C check refuses
GRANT EXECUTE ON FUNCTION rate_limit_take(text, int, interval, int), rate_limit_reset(text) TO authenticated;
SELECT tests.login_as('authenticated', tests.uid(3));
SELECT rl_t.err('SELECT * FROM rate_limit_take(''rl:h'', 1, ''1 hour'')') AS granted_take,
       rl_t.err('SELECT rate_limit_reset(''rl:h'')') AS granted_reset;
ROLLBACK;
SELECT tests.reset();
SELECT tests.login_as('service_role');
SELECT rl_t.take('rl:h', 1, '1 hour', 1, 0, 3600000) AS service_take;
SELECT tests.reset();

