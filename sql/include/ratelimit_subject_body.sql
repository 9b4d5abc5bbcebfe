-- The anonymous subject is the client address read from the RIGHT of the configured
-- header, so a client cannot choose it (docs/rate_limiter.md#the-client-address).
-- A request is simulated as PostgREST sends it: the client wrote the left part of
-- x-forwarded-for, and the proxy in front of PostgREST appended the address it saw.
\set VERBOSITY terse
SELECT mode FROM ff_status() WHERE component = 'rate_limiter';

CREATE SCHEMA rl_s;
GRANT USAGE ON SCHEMA rl_s TO PUBLIC;
-- SQLSTATE of a statement, or 'no error'.
CREATE FUNCTION rl_s.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$;
-- ff_request_subject() for a request with these headers.
CREATE FUNCTION rl_s.subject(h text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM set_config('request.headers', coalesce(h, ''), false); RETURN ff_request_subject(); END $$;
-- n requests calling check_rate_limit(scope): request i sends the headers
-- format(h, i, <a distinct address for i>); how many were allowed.
CREATE FUNCTION rl_s.calls(scope text, h text, n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE allowed int := 0;
BEGIN
  FOR i IN 1..n LOOP
    PERFORM set_config('request.headers', format(h, i, format('198.18.%s.%s', i / 256, i % 256)), false);
    IF check_rate_limit(scope) THEN allowed := allowed + 1; END IF;
  END LOOP;
  RETURN allowed;
END $$;
-- What an app role gets when it tries to change the client-address settings.
CREATE FUNCTION rl_s.try_settings() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN concat_ws(' ',
    rl_s.err('SET feed_fusion.trusted_proxy_hops = 3'),
    rl_s.err('SET LOCAL feed_fusion.client_ip_header = ''x-real-ip'''),
    rl_s.err('RESET feed_fusion.trusted_proxy_hops'),
    rl_s.err('SELECT set_config(''feed_fusion.client_ip_header'', ''cf-connecting-ip'', false)'),
    rl_s.err('SELECT set_config(''feed_fusion.trusted_proxy_hops'', ''5'', true)'),
    rl_s.err('ALTER ROLE CURRENT_USER SET feed_fusion.trusted_proxy_hops = 3'),
    current_setting('feed_fusion.client_ip_header'), current_setting('feed_fusion.trusted_proxy_hops'));
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA rl_s TO PUBLIC;

-- Both settings exist (in table mode too) and only a superuser may set them.
SELECT name, setting, context FROM pg_settings
WHERE name IN ('feed_fusion.client_ip_header', 'feed_fusion.trusted_proxy_hops') ORDER BY name;

-- Rotation attack: the client writes a fresh first hop on every request; the proxy
-- appends its real address.  auth allows 5 per 5 minutes, whatever the client writes.
SELECT tests.login_as('anon');
SELECT rl_s.calls('auth', '{"x-forwarded-for": "%2$s, 203.0.113.50"}', 1000) AS rotated_first_hop_allowed;
SELECT rl_s.calls('auth', '{"x-forwarded-for": "%2$s, %1$s, 203.0.113.51"}', 100) AS rotated_two_hops_allowed;
SELECT rl_s.calls('auth', '{"x-forwarded-for": "garbage-%1$s, 203.0.113.52:%1$s"}', 100) AS rotated_port_allowed;
-- Victim attack: an attacker (203.0.113.60) writes the victim's address first, or
-- sends another victim's address as cf-connecting-ip; the victims' buckets are untouched.
SELECT rl_s.calls('auth', '{"x-forwarded-for": "198.51.100.20, 203.0.113.60"}', 10) AS attacker_allowed,
       rl_s.calls('auth', '{"x-forwarded-for": "203.0.113.60", "cf-connecting-ip": "198.51.100.21"}', 10) AS attacker_cf_allowed;
SELECT rl_s.calls('auth', '{"x-forwarded-for": "198.51.100.20"}', 1) AS victim_allowed,
       rl_s.calls('auth', '{"x-forwarded-for": "198.51.100.21"}', 1) AS victim_cf_allowed;
SELECT rl_s.subject('{"x-forwarded-for": "198.51.100.20, 203.0.113.60"}') AS attacker_subject,
       rl_s.subject('{"x-forwarded-for": "198.51.100.20"}') AS victim_subject;
SELECT tests.reset();

-- Defaults: the rightmost x-forwarded-for entry, trimmed, in canonical form; anything
-- that is not an IP address is no address ('anon'), never a bucket of its own.
SELECT h AS request_headers, rl_s.subject(h) AS subject FROM (VALUES
  (NULL), ('{}'), ('{"x-forwarded-for": ""}'), ('{"x-forwarded-for": " , "}'), ('{"x-forwarded-for": 42}'),
  ('{"x-forwarded-for": "203.0.113.7"}'),
  ('{"x-forwarded-for": " 198.51.100.1 ,203.0.113.7 "}'),
  ('{"x-forwarded-for": "198.51.100.1,, 203.0.113.7, "}'),
  ('{"x-forwarded-for": "203.0.113.7:54321"}'),
  ('{"x-forwarded-for": "2001:DB8:0:0::1"}'),
  ('{"x-forwarded-for": "[2001:db8::1]:443"}'),
  ('{"x-forwarded-for": "::ffff:203.0.113.7"}'),
  ('{"x-forwarded-for": "203.0.113.7, unknown"}'),
  ('{"x-forwarded-for": "203.0.113.7, 10.0.0.0/8"}'),
  ('{"x-forwarded-for": "203.0.113.7, 203.0.113.007"}'),
  ('{"x-forwarded-for": "203.0.113.7, fe80::1%eth0"}'),
  ('{"x-forwarded-for": "203.0.113.7, 203.0.113.8:"}'),
  ('{"cf-connecting-ip": "198.51.100.1"}'),
  ('{"x-real-ip": "198.51.100.1", "x-forwarded-for": "203.0.113.7"}')) AS v(h);
SELECT rl_s.subject('{"x-forwarded-for": "' || repeat('a', 10000) || ', 203.0.113.7"}') AS long_header_subject;

-- trusted_proxy_hops = k: the entry k places left of the rightmost; the leftmost
-- when the list is shorter (every entry then came from a proxy).
SET feed_fusion.trusted_proxy_hops = 1;
SELECT h AS request_headers, rl_s.subject(h) AS subject_hops_1 FROM (VALUES
  ('{"x-forwarded-for": "192.0.2.1, 198.51.100.1, 203.0.113.7"}'),
  ('{"x-forwarded-for": "198.51.100.1, 203.0.113.7"}'),
  ('{"x-forwarded-for": "203.0.113.7"}'),
  ('{"x-forwarded-for": "not-an-ip, 203.0.113.7"}')) AS v(h);
SET feed_fusion.trusted_proxy_hops = 2;
SELECT rl_s.subject('{"x-forwarded-for": "192.0.2.1, 198.51.100.1, 203.0.113.7"}') AS hops_2,
       rl_s.subject('{"x-forwarded-for": "192.0.2.9, 192.0.2.1, 198.51.100.1, 203.0.113.7"}') AS hops_2_client_prepended;
SELECT rl_s.err('SET feed_fusion.trusted_proxy_hops = -1') AS negative, rl_s.err('SET feed_fusion.trusted_proxy_hops = 33') AS too_many;
RESET feed_fusion.trusted_proxy_hops;

-- client_ip_header picks the header; the others are never read.
SET feed_fusion.client_ip_header = 'cf-connecting-ip';
SELECT rl_s.subject('{"cf-connecting-ip": " 198.51.100.1 ", "x-forwarded-for": "203.0.113.7"}') AS cf,
       rl_s.subject('{"x-forwarded-for": "203.0.113.7"}') AS cf_missing;
SET feed_fusion.client_ip_header = 'X-Real-IP';
SHOW feed_fusion.client_ip_header;
SELECT rl_s.subject('{"x-real-ip": "2001:db8::7", "cf-connecting-ip": "198.51.100.1"}') AS real_ip;
SELECT rl_s.err('SET feed_fusion.client_ip_header = ''forwarded''') AS unknown_header;
RESET feed_fusion.client_ip_header;
-- A signed-in user is always limited as the user.
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT rl_s.subject('{"x-forwarded-for": "203.0.113.7"}') AS user_subject;
SELECT tests.reset();

-- App roles cannot change the settings (42501 for SET, SET LOCAL, RESET, set_config,
-- ALTER ROLE), even after a superuser set them in the session.
SET feed_fusion.trusted_proxy_hops = 1;
SELECT tests.login_as('anon');
SELECT rl_s.try_settings() AS anon;
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT rl_s.try_settings() AS authenticated;
SELECT tests.login_as('service_role');
SELECT rl_s.try_settings() AS service_role;
SELECT tests.reset();
RESET feed_fusion.trusted_proxy_hops;

-- A superuser sets them for a database (or ALTER SYSTEM, ALTER ROLE); new sessions use them.
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET feed_fusion.trusted_proxy_hops = 1', current_database());
  EXECUTE format('ALTER DATABASE %I SET feed_fusion.client_ip_header = %L', current_database(), 'x-real-ip');
END $$;
\c -
SELECT tests.login_as('anon');
SELECT ff_request_subject() AS no_headers,
       rl_s.subject('{"x-real-ip": "198.51.100.1, 203.0.113.7", "x-forwarded-for": "192.0.2.1"}') AS db_settings;
SELECT tests.reset();
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I RESET feed_fusion.trusted_proxy_hops', current_database());
  EXECUTE format('ALTER DATABASE %I RESET feed_fusion.client_ip_header', current_database());
END $$;
