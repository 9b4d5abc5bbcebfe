-- 00_base.sql — identity, rank key, restore detection, grant registry.
-- Every function pins search_path; C functions schema-qualify what they use.

CREATE FUNCTION ff_current_user() RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_current_user';
COMMENT ON FUNCTION ff_current_user() IS
  'Supabase auth.uid(): request.jwt.claim.sub, else request.jwt.claims->>''sub''; NULL when anonymous';

CREATE FUNCTION ff_request_subject() RETURNS text
  LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_request_subject';
COMMENT ON FUNCTION ff_request_subject() IS
  'Rate-limit subject: u:<uuid>, else ip:<client address: feed_fusion.client_ip_header read from the right, feed_fusion.trusted_proxy_hops>, else anon';

CREATE FUNCTION ff_rank_key(p_base_score float8, p_created_at timestamptz) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_rank_key';
COMMENT ON FUNCTION ff_rank_key(float8, timestamptz) IS
  'ln(base_score) + epoch(created_at)/172800: orders items by decayed score at every moment';

CREATE FUNCTION ff_score_at(p_rank_key float8, p_at timestamptz) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_score_at';
COMMENT ON FUNCTION ff_score_at(float8, timestamptz) IS
  'Score at time p_at of an item with this rank_key: exp(rank_key - epoch(p_at)/172800)';

-- The one config-change trigger: on a configuration table whose rows the C code
-- caches per backend (feature_flags, rate_limit_profiles), it queues a relcache
-- invalidation that commits (or aborts) with the transaction; each backend's cache
-- is current only while no such invalidation has reached it since it was filled.
-- Attached FOR EACH STATEMENT, AFTER INSERT/UPDATE/DELETE/TRUNCATE, ENABLE ALWAYS
-- (so it also fires under session_replication_role = replica).
CREATE FUNCTION _ff_config_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_config_changed';
COMMENT ON FUNCTION _ff_config_changed() IS
  'Trigger: queue a relcache invalidation of a configuration table so every backend''s cache of it refills';

-- True while a pg_dump/pg_restore is re-creating the extension: the restore sets
-- row_security = off (pg_dump always does), or the operator sets feed_fusion.restoring.
-- Then the install script skips seed rows and partitions: the dump carries both.
CREATE FUNCTION _ff_restoring() RETURNS boolean
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE lower(coalesce(current_setting('feed_fusion.restoring', true), ''))
           WHEN 'on' THEN true WHEN 'true' THEN true
           WHEN 'off' THEN false WHEN 'false' THEN false
           ELSE current_setting('row_security') = 'off' END
$$;

-- Grant registry: each component lists the privileges its objects need, and
-- ff_apply_grants() applies them to whichever of the Supabase roles exist.
CREATE TABLE _ff_grants (
  object_kind text NOT NULL CHECK (object_kind IN ('TABLE', 'FUNCTION', 'SEQUENCE', 'VIEW', 'POLICY')),
  object_name text NOT NULL,          -- relation name, or function signature, unqualified;
                                      -- for a POLICY 'table.policy'
  privileges  text NOT NULL,          -- e.g. 'SELECT', 'SELECT, INSERT', 'EXECUTE'; 'TO' for a POLICY
  role_name   text NOT NULL CHECK (role_name IN ('anon', 'authenticated', 'service_role')),
  PRIMARY KEY (object_kind, object_name, role_name, privileges)
);

CREATE FUNCTION ff_apply_grants() RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g record;
  nsp text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
               WHERE e.extname = 'feed_fusion');
  n integer := 0;
BEGIN
  FOR g IN EXECUTE format('SELECT * FROM %I._ff_grants ORDER BY 1, 2, 4', nsp) LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g.role_name) THEN
      -- Only where the role cannot reach the schema yet (e.g. not for public, which
      -- PUBLIC may use): DROP EXTENSION cannot take a schema grant back.
      IF NOT has_schema_privilege(g.role_name, nsp, 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', nsp, g.role_name);
      END IF;
      IF g.object_kind = 'POLICY' THEN
        NULL;   -- below, one ALTER POLICY per policy
      ELSIF g.object_kind = 'FUNCTION' THEN
        EXECUTE format('GRANT %s ON FUNCTION %I.%s TO %I', g.privileges, nsp, g.object_name, g.role_name);
      ELSIF g.object_kind = 'SEQUENCE' THEN
        EXECUTE format('GRANT %s ON SEQUENCE %I.%I TO %I', g.privileges, nsp, g.object_name, g.role_name);
      ELSE
        EXECUTE format('GRANT %s ON TABLE %I.%I TO %I', g.privileges, nsp, g.object_name, g.role_name);
      END IF;
      n := n + 1;
    END IF;
  END LOOP;
  -- Policies are created TO PUBLIC (the roles may not exist at install time) and scoped
  -- here to the registered roles that exist, so a policy is only evaluated for its roles.
  FOR g IN EXECUTE format(
      'SELECT object_name, string_agg(quote_ident(role_name), '', '' ORDER BY role_name) AS roles '
      'FROM %I._ff_grants WHERE object_kind = ''POLICY'' '
      'AND role_name IN (SELECT rolname FROM pg_catalog.pg_roles) GROUP BY 1 ORDER BY 1', nsp) LOOP
    EXECUTE format('ALTER POLICY %I ON %I.%I TO %s', split_part(g.object_name, '.', 2), nsp,
                   split_part(g.object_name, '.', 1), g.roles);
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION ff_apply_grants() IS
  'Grant feed_fusion objects to anon/authenticated/service_role (those that exist); returns grants applied';
