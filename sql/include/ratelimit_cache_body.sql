-- Per-backend caches of the limiter's per-statement work (issue 10 item 9) follow every
-- change exactly: the service_role answer (per user id, forgotten on role changes), the
-- subject (per claims / headers / settings text), the settings' GUC positions, and
-- rate_limit_take's result row type (per function oid and pg_proc invalidation).
-- Every check runs in ONE session, after the caches were filled, and as separate
-- statements and within one statement/transaction.
\set VERBOSITY terse
SELECT mode FROM ff_status() WHERE component = 'rate_limiter';

CREATE SCHEMA rl_c;
GRANT USAGE ON SCHEMA rl_c TO PUBLIC;
-- SQLSTATE of a statement, or 'ok'.
CREATE FUNCTION rl_c.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$;
-- rate_limit_take and rate_limit_reset as the current role.
CREATE FUNCTION rl_c.svc() RETURNS text LANGUAGE sql AS $$
  SELECT rl_c.err('SELECT allowed FROM rate_limit_take(''rl_c:k'', 1000, interval ''1 hour'')') || ' ' ||
         rl_c.err('SELECT rate_limit_reset(''rl_c:k'')')
$$;
-- A rate_limit_take row as JSON: its keys in order and values (reset_after_ms depends on
-- the clock: only its JSON type).
CREATE FUNCTION rl_c.shape(j json) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(k || '=' || CASE WHEN k = 'reset_after_ms' THEN json_typeof(j -> k) ELSE j ->> k END, ' ')
  FROM json_object_keys(j) k
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA rl_c TO PUBLIC;
CREATE ROLE rl_c_user NOINHERIT;
CREATE ROLE rl_c_group NOINHERIT;
-- Past the EXECUTE grant, so the limiter's own service_role check is what answers.
GRANT EXECUTE ON FUNCTION rate_limit_take(text, int, interval, int), rate_limit_reset(text) TO rl_c_user, rl_c_group;

-- service_role answer: SET ROLE switches between cached answers ...
SET ROLE service_role;
SELECT rl_c.svc() AS service_role;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS plain_user;
SET ROLE service_role;
SELECT rl_c.svc() AS service_role_again;
RESET ROLE;
-- ... GRANT / REVOKE of membership (pg_auth_members) is seen at once ...
GRANT service_role TO rl_c_user;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS after_grant_noinherit;   -- NOINHERIT: a member without its privileges
RESET ROLE;
ALTER ROLE rl_c_user INHERIT;                   -- pg_authid
SET ROLE rl_c_user;
SELECT rl_c.svc() AS after_inherit;
RESET ROLE;
REVOKE service_role FROM rl_c_user;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS after_revoke;
RESET ROLE;
-- ... through a group, and when the group loses it ...
GRANT rl_c_group TO rl_c_user;
ALTER ROLE rl_c_group INHERIT;
GRANT service_role TO rl_c_group;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS via_group;
RESET ROLE;
REVOKE service_role FROM rl_c_group;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS group_revoked;
RESET ROLE;
-- ... superuser status (pg_authid) ...
ALTER ROLE rl_c_user SUPERUSER;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS superuser;
RESET ROLE;
ALTER ROLE rl_c_user NOSUPERUSER;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS nosuperuser;
RESET ROLE;
-- ... inside one transaction, and undone by its rollback.
BEGIN;
GRANT service_role TO rl_c_user;
SET LOCAL ROLE rl_c_user;
SELECT rl_c.svc() AS granted_in_xact;
RESET ROLE;
ROLLBACK;
SET ROLE rl_c_user;
SELECT rl_c.svc() AS after_rollback;
RESET ROLE;
-- A SECURITY DEFINER function runs with its owner's answer, the caller keeps its own.
CREATE FUNCTION rl_c.as_service() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT rl_c.svc() $$;
ALTER FUNCTION rl_c.as_service() OWNER TO service_role;
GRANT EXECUTE ON FUNCTION rl_c.as_service() TO rl_c_user;
SET ROLE rl_c_user;
SELECT rl_c.as_service() AS definer_service_role, rl_c.svc() AS caller;
RESET ROLE;

-- Subject: follows the claims text (also within one statement), claim.sub over claims,
-- the headers, and both client-address settings.
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT ff_request_subject() AS user1;
SELECT tests.login_as('authenticated', tests.uid(2)), ff_request_subject() AS user2;
SELECT set_config('request.jwt.claims', '{"sub":"' || tests.uid(g) || '"}', false) IS NOT NULL AS set,
       ff_request_subject() AS per_row
FROM generate_series(3, 5) g;
SELECT set_config('request.jwt.claim.sub', tests.uid(9)::text, false) IS NOT NULL, ff_request_subject() AS claim_sub_wins;
SELECT set_config('request.jwt.claim.sub', '', false) IS NOT NULL, ff_request_subject() AS claims_again;
-- uuid spellings: the canonical form in any case, uuid_in's other forms, bad ones (22P02).
SELECT set_config('request.jwt.claims', '{"sub":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}', false) IS NOT NULL,
       ff_request_subject() AS upper_case;
SELECT set_config('request.jwt.claims', '{"sub":"{a0eebc999c0b4ef8bb6d6bb9bd380a12}"}', false) IS NOT NULL,
       ff_request_subject() AS braces;
SELECT set_config('request.jwt.claims', '{"sub":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"}', false) IS NOT NULL,
       rl_c.err('SELECT ff_request_subject()') AS short;
SELECT set_config('request.jwt.claims', '{"sub":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g"}', false) IS NOT NULL,
       rl_c.err('SELECT ff_request_subject()') AS not_hex;
SELECT set_config('request.jwt.claims', '{"sub":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111"}', false) IS NOT NULL,
       rl_c.err('SELECT ff_request_subject()') AS too_long;
SELECT set_config('request.jwt.claims', '{"sub":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13"}', false) IS NOT NULL,
       ff_request_subject() AS canonical_after_errors;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', false) IS NOT NULL, ff_request_subject() AS no_sub;
SELECT set_config('request.headers', '{"x-forwarded-for":"198.51.100.7, 203.0.113.9"}', false) IS NOT NULL,
       ff_request_subject() AS rightmost;
RESET ROLE;   -- tests.login_as switched to authenticated; the settings are superuser-only
SET feed_fusion.trusted_proxy_hops = 1;
SELECT ff_request_subject() AS one_trusted_hop;
SET feed_fusion.client_ip_header = 'x-real-ip';
SELECT ff_request_subject() AS other_header_absent;
SELECT set_config('request.headers', '{"x-real-ip":"192.0.2.4"}', false) IS NOT NULL, ff_request_subject() AS x_real_ip;
RESET feed_fusion.client_ip_header;
RESET feed_fusion.trusted_proxy_hops;
SELECT ff_request_subject() AS header_absent_again;
-- New settings sorting before and after the ones read move them in the GUC array.
SET request.aaa = 'x';
SET "REQUEST.JWT.CLAIMR" = 'x';
SET request.zzz = 'x';
SELECT set_config('request.headers', '{"x-forwarded-for":"198.51.100.8"}', false) IS NOT NULL,
       ff_request_subject() AS after_new_settings;
SELECT tests.login_as('authenticated', tests.uid(6)), ff_request_subject() AS user6;
SELECT tests.reset();
SELECT ff_request_subject() AS nothing_set;

-- check_rate_limit keys on the subject of each call: two users, one statement.
INSERT INTO rate_limit_profiles VALUES ('rl_c', 2, interval '1 hour');
SELECT g AS user_n, tests.login_as('authenticated', tests.uid(100 + g)) IS NULL AS set,
       check_rate_limit('rl_c') AS a, check_rate_limit('rl_c') AS b, check_rate_limit('rl_c') AS c
FROM generate_series(1, 2) g;
SELECT tests.reset();

-- rate_limit_take's result row type: names and types as declared, after a pg_proc
-- change in this session, as a composite in the select list and in a join.
SET ROLE service_role;
SELECT rl_c.shape(row_to_json(t)) AS take FROM rate_limit_take('rl_c:t', 10, interval '1 hour') t;
RESET ROLE;
ALTER FUNCTION rate_limit_take(text, int, interval, int) ROWS 1 COST 2;
SET ROLE service_role;
SELECT rl_c.shape(row_to_json(t)) AS after_alter FROM rate_limit_take('rl_c:t', 10, interval '1 hour') t;
SELECT rl_c.shape(row_to_json(rate_limit_take('rl_c:t', 10, interval '1 hour'))) AS composite;
SELECT g, (rate_limit_take('rl_c:t' || g, 10, interval '1 hour')).remaining FROM generate_series(1, 2) g;
SELECT pg_typeof(t), t.allowed, t.remaining, t.retry_after_ms, pg_typeof(t.reset_after_ms)
FROM rate_limit_take('rl_c:t', 10, interval '1 hour', 0) t;
RESET ROLE;
ALTER FUNCTION rate_limit_take(text, int, interval, int) COST 1;

-- Leave the database as we found it.
SET ROLE service_role;
SELECT count(*) FILTER (WHERE rate_limit_reset(k)) AS cleaned
FROM unnest(ARRAY['rl_c:t', 'rl_c:t1', 'rl_c:t2', 'rl_c:k', 'rl_c:u:' || tests.uid(101), 'rl_c:u:' || tests.uid(102)]) AS k;
RESET ROLE;
DELETE FROM rate_limit_profiles WHERE name = 'rl_c';
REVOKE EXECUTE ON FUNCTION rate_limit_take(text, int, interval, int), rate_limit_reset(text) FROM rl_c_user, rl_c_group;
DROP SCHEMA rl_c CASCADE;
DROP ROLE rl_c_user;
DROP ROLE rl_c_group;
