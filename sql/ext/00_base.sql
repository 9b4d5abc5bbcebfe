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

-- The objects whose privileges the registry governs, and what PUBLIC and the app roles
-- hold on them beyond it.  Objects: the extension's member relations (tables, views,
-- sequences), the partitions of its partitioned tables at any depth (those
-- _ff_partition made at install and those pg_partman makes later, which are not
-- members), sequences any of them own, and its member functions and aggregates.  The
-- acl is the catalog's, or the built-in default when NULL (PUBLIC may execute a
-- function).  One row per object and grantee (PUBLIC, anon, authenticated,
-- service_role) that holds a privilege the registry does not list for it, or any
-- privilege WITH GRANT OPTION; partitions are listed for nothing.  p_partitions_only:
-- partitions and their sequences only.
CREATE FUNCTION _ff_unregistered_privileges(p_partitions_only boolean DEFAULT false)
  RETURNS TABLE (kind text, object text, grantee text)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH RECURSIVE member AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'feed_fusion' AND d.deptype = 'e'),
  tree AS (
    SELECT m.objid AS oid, false AS part FROM member m WHERE m.classid = 'pg_class'::regclass
    UNION
    SELECT i.inhrelid, true FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid),
  rel AS (
    SELECT t.oid, t.part FROM tree t
    UNION
    SELECT d.objid, t.part FROM pg_depend d JOIN tree t ON d.refobjid = t.oid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 'S'),
  obj AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, c.oid, r.part,
           c.oid::regclass::text AS object,
           coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl
    FROM rel r JOIN pg_class c ON c.oid = r.oid
    WHERE r.part OR NOT p_partitions_only
    UNION ALL
    SELECT 'FUNCTION', p.oid, false, p.oid::regprocedure::text, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
    FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    WHERE NOT p_partitions_only),
  wanted AS (
    SELECT CASE g.object_kind
             WHEN 'FUNCTION' THEN to_regprocedure(format('%I.%s', '@extschema@', g.object_name))::oid
             ELSE to_regclass(format('%I.%I', '@extschema@', g.object_name))::oid END AS oid,
           r.oid AS grantee, p AS privilege
    FROM @extschema@._ff_grants g JOIN pg_roles r ON r.rolname = g.role_name
    CROSS JOIN LATERAL unnest(string_to_array(g.privileges, ', ')) AS p
    WHERE g.object_kind <> 'POLICY')
  SELECT DISTINCT o.kind, o.object,
         CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END
  FROM obj o CROSS JOIN LATERAL aclexplode(o.acl) x
  WHERE (x.grantee = 0 OR x.grantee IN (SELECT oid FROM pg_roles
                                        WHERE rolname IN ('anon', 'authenticated', 'service_role')))
    AND (o.part OR x.is_grantable
         OR NOT EXISTS (SELECT 1 FROM wanted w
                        WHERE w.oid = o.oid AND w.grantee = x.grantee AND w.privilege = x.privilege_type))
$$;

-- Take away every privilege _ff_unregistered_privileges() lists: one REVOKE ALL ...
-- CASCADE per object and grantee (ff_apply_grants() grants the registered ones back).
-- Whatever gave them — ALTER DEFAULT PRIVILEGES (Supabase grants ALL on everything
-- new in public to anon, authenticated and service_role), a manual GRANT, PUBLIC's
-- default EXECUTE on functions — so TRUNCATE, TRIGGER and REFERENCES, which RLS does
-- not govern, never reach an app role.  Writes nothing when there is nothing to take.
-- Returns the number of REVOKE statements run.
CREATE FUNCTION _ff_revoke_unregistered(p_partitions_only boolean DEFAULT false) RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  FOR r IN SELECT * FROM @extschema@._ff_unregistered_privileges(p_partitions_only) ORDER BY 1, 2, 3 LOOP
    EXECUTE format('REVOKE ALL ON %s %s FROM %s CASCADE', r.kind, r.object, r.grantee);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- Exactly the registry: first take away what it does not list (above), then grant
-- what is missing of it, so a second call writes nothing.
CREATE FUNCTION ff_apply_grants() RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g record;
  nsp text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
               WHERE e.extname = 'feed_fusion');
  n integer := 0;
  obj oid;
  acl aclitem[];
  missing text;
BEGIN
  PERFORM @extschema@._ff_revoke_unregistered();
  FOR g IN EXECUTE format('SELECT * FROM %I._ff_grants ORDER BY 1, 2, 4', nsp) LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g.role_name) THEN
      -- Only where the role cannot reach the schema yet (e.g. not for public, which
      -- PUBLIC may use): DROP EXTENSION cannot take a schema grant back.
      IF NOT has_schema_privilege(g.role_name, nsp, 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', nsp, g.role_name);
      END IF;
      IF g.object_kind <> 'POLICY' THEN   -- policies: below, one ALTER POLICY per policy
        IF g.object_kind = 'FUNCTION' THEN
          obj := to_regprocedure(format('%I.%s', nsp, g.object_name));
          acl := (SELECT coalesce(p.proacl, acldefault('f'::"char", p.proowner)) FROM pg_proc p WHERE p.oid = obj);
        ELSE
          obj := to_regclass(format('%I.%I', nsp, g.object_name));
          acl := (SELECT coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                                       c.relowner)) FROM pg_class c WHERE c.oid = obj);
        END IF;
        IF obj IS NULL THEN
          RAISE EXCEPTION 'feed_fusion: registered object % % does not exist', g.object_kind, g.object_name;
        END IF;
        -- the registered privileges the role does not hold itself yet
        missing := (SELECT string_agg(p, ', ') FROM unnest(string_to_array(g.privileges, ', ')) AS p
                    WHERE NOT EXISTS (SELECT 1 FROM aclexplode(acl) x
                                      WHERE x.grantee = (SELECT oid FROM pg_roles WHERE rolname = g.role_name)
                                        AND x.privilege_type = p));
        IF missing IS NOT NULL THEN
          IF g.object_kind = 'FUNCTION' THEN
            EXECUTE format('GRANT %s ON FUNCTION %I.%s TO %I', missing, nsp, g.object_name, g.role_name);
          ELSIF g.object_kind = 'SEQUENCE' THEN
            EXECUTE format('GRANT %s ON SEQUENCE %I.%I TO %I', missing, nsp, g.object_name, g.role_name);
          ELSE
            EXECUTE format('GRANT %s ON TABLE %I.%I TO %I', missing, nsp, g.object_name, g.role_name);
          END IF;
        END IF;
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
    CONTINUE WHEN (SELECT string_agg(quote_ident(pg_get_userbyid(r)), ', ' ORDER BY pg_get_userbyid(r))
                   FROM pg_policy p, unnest(p.polroles) AS r
                   WHERE p.polrelid = to_regclass(format('%I.%I', nsp, split_part(g.object_name, '.', 1)))
                     AND p.polname = split_part(g.object_name, '.', 2)) = g.roles;   -- already so
    EXECUTE format('ALTER POLICY %I ON %I.%I TO %s', split_part(g.object_name, '.', 2), nsp,
                   split_part(g.object_name, '.', 1), g.roles);
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION ff_apply_grants() IS
  'Make the privileges of anon/authenticated/service_role (those that exist) and PUBLIC on feed_fusion objects exactly the registered ones; returns grants applied';
