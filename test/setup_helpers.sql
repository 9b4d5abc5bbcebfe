-- The tests.* helpers, to act as a user the way PostgREST does (SET ROLE +
-- request.jwt.claims).  Included by setup_db.sql (make test) and by
-- sql/fnd_setup.sql (make installcheck); safe to run again.
CREATE SCHEMA IF NOT EXISTS tests;
GRANT USAGE ON SCHEMA tests TO PUBLIC;

-- Act as p_role for user p_user (NULL: anonymous) until tests.reset().
CREATE OR REPLACE FUNCTION tests.login_as(p_role text, p_user uuid DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.jwt.claims',
    CASE WHEN p_user IS NULL THEN json_build_object('role', p_role)::text
         ELSE json_build_object('sub', p_user, 'role', p_role)::text END, false);
  PERFORM set_config('request.jwt.claim.sub', '', false);
  PERFORM set_config('role', p_role, false);
END $$;

-- Back to the superuser with no claims.
CREATE OR REPLACE FUNCTION tests.reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('role', 'none', false);
  PERFORM set_config('request.jwt.claims', '', false);
  PERFORM set_config('request.jwt.claim.sub', '', false);
  PERFORM set_config('request.headers', '', false);
END $$;

-- Deterministic uuid for a small integer, so tests read well: tests.uid(1).
CREATE OR REPLACE FUNCTION tests.uid(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO PUBLIC;
