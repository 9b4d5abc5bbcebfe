\echo Use "ALTER EXTENSION feed_fusion UPDATE TO '0.1.1'" to load this file. \quit
-- feed_fusion 0.1.0 -> 0.1.1.
--
-- Rules for this file (checked by test/scripts/fnd_ext_update.sh, which compares an
-- upgraded database with a fresh install of 0.1.1 object by object):
-- * One section per component, in the order of sql/ext/ (NN_*.sql); append to your
--   component's section, or add a new section in that order.
-- * Leave the database exactly as a fresh install would: same definitions, names
--   (give constraints the names a fresh install gets), column order (new columns go at
--   the end of the CREATE TABLE in sql/ext/), comments, grants (add _ff_grants rows and
--   run ff_apply_grants() if needed), pg_extension_config_dump registrations.
-- * Touch only rows the install script seeded; users' own rows and edits stay.
-- * Runs with search_path = @extschema@ like the install script.  No _ff_restoring()
--   needed: a restore runs CREATE EXTENSION (the install script), never an update.

-- ==== 10_tables.sql — feed_lanes: lane behaviour as data ====

CREATE FUNCTION _ff_lane_names_valid(p_names text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_ndims(p_names), 1) = 1
     AND NOT EXISTS (SELECT 1 FROM unnest(p_names) AS a WHERE a IS NULL OR a !~ '^[a-z][a-z0-9_]{0,62}$')
$$;
COMMENT ON FUNCTION _ff_lane_names_valid(text[]) IS
  'True when p_names is a one-dimensional array of lane names without NULLs (CHECK of feed_lanes.aliases)';

ALTER TABLE feed_lanes
  ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'
    CONSTRAINT feed_lanes_aliases_check CHECK (_ff_lane_names_valid(aliases)),
  ADD COLUMN honors_shop_blend boolean NOT NULL DEFAULT true,
  ADD COLUMN serves_anonymous boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN feed_lanes.aliases IS
  'Legacy lane names that map to this lane (each with the syntax of lane)';
COMMENT ON COLUMN feed_lanes.honors_shop_blend IS
  'The listings source of this lane obeys feature flag feed_shop_blend (false: the flag does not apply to this lane)';
COMMENT ON COLUMN feed_lanes.serves_anonymous IS
  'false: anonymous viewers get no rows from this lane';

-- The seeded lanes get the values a fresh install seeds (their other columns keep any
-- edits); lanes users added keep the defaults.
UPDATE feed_lanes l
SET aliases = seed.aliases, honors_shop_blend = seed.honors_shop_blend, serves_anonymous = seed.serves_anonymous
FROM (VALUES
  ('for_you',   '{combined}'::text[], true,  true),
  ('following', '{personal}'::text[], true,  false),
  ('shop',      '{}'::text[],         false, true)) AS seed (lane, aliases, honors_shop_blend, serves_anonymous)
WHERE l.lane = seed.lane;

-- ==== 00_base.sql, 30_flags.sql, 40_rate_limiter.sql — one config-change trigger ====
-- feature_flags and rate_limit_profiles share one trigger function; the limiter's
-- trigger is now ENABLE ALWAYS as the flags' one always was (caches stay exact under
-- session_replication_role = replica).

CREATE FUNCTION _ff_config_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_config_changed';
COMMENT ON FUNCTION _ff_config_changed() IS
  'Trigger: queue a relcache invalidation of a configuration table so every backend''s cache of it refills';

DROP TRIGGER feature_flags_invalidate_cache ON feature_flags;
CREATE TRIGGER feature_flags_invalidate_cache
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE feature_flags ENABLE ALWAYS TRIGGER feature_flags_invalidate_cache;
DROP FUNCTION _ff_flags_invalidate();

DROP TRIGGER rate_limit_profiles_changed ON rate_limit_profiles;
CREATE TRIGGER rate_limit_profiles_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_limit_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE rate_limit_profiles ENABLE ALWAYS TRIGGER rate_limit_profiles_changed;
DROP FUNCTION _ff_rate_limit_profiles_changed();

-- ==== 60_feed.sql — the feed's ff_status() detail is built in C ====

CREATE FUNCTION _ff_feed_status() RETURNS jsonb
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'ff_feed_status';
COMMENT ON FUNCTION _ff_feed_status() IS
  'The feed''s ff_status() detail: cursor version and secret, lanes, network strategy';

CREATE OR REPLACE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, 'table'::text, @extschema@._ff_feed_status()
$$;

-- ==== 00_base.sql — the anonymous rate-limit subject is read from the right ====
-- ff_request_subject() (C) now takes the client address from the header named by
-- feed_fusion.client_ip_header, counting feed_fusion.trusted_proxy_hops entries from the
-- right, so a client cannot choose it; only its comment changes in the catalog.

COMMENT ON FUNCTION ff_request_subject() IS
  'Rate-limit subject: u:<uuid>, else ip:<client address: feed_fusion.client_ip_header read from the right, feed_fusion.trusted_proxy_hops>, else anon';

-- ==== 50_metrics.sql — bounded durations, saturating sums (metrics poisoning) ====

-- The rollup triggers and the view sum in numeric and saturate.
CREATE OR REPLACE FUNCTION _ff_metrics_rollup_ins() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO @extschema@.rpc_metrics_rollup AS r (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.rpc, a.hour, a.calls, a.errors, a.total_ms, a.max_ms, a.sketch,
         @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT n.rpc, @extschema@._ff_metrics_hour(n.bucket_start) AS hour,
               least(sum(n.calls), 9223372036854775807)::bigint AS calls,
               least(sum(n.errors), 9223372036854775807)::bigint AS errors,
               least(sum(n.total_ms::numeric), 1e308)::float8 AS total_ms, max(n.max_ms) AS max_ms,
               @extschema@.ff_sketch_merge(n.sketch) AS sketch
        FROM ff_new_rows n GROUP BY 1, 2) a
  ORDER BY 1, 2
  ON CONFLICT (rpc, hour) DO UPDATE
    SET calls = least(r.calls::numeric + excluded.calls, 9223372036854775807)::bigint,
        errors = least(r.errors::numeric + excluded.errors, 9223372036854775807)::bigint,
        total_ms = least(r.total_ms::numeric + excluded.total_ms::numeric, 1e308)::float8,
        max_ms = greatest(r.max_ms, excluded.max_ms),
        sketch = @extschema@.ff_sketch_union(r.sketch, excluded.sketch),
        quantiles = @extschema@.ff_sketch_quantiles(@extschema@.ff_sketch_union(r.sketch, excluded.sketch),
                                                     '{0.5,0.95,0.99}'::float8[]);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION _ff_metrics_rollup_recompute(p_keys jsonb) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup r
  USING jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
  WHERE r.rpc = k.rpc AND r.hour = k.hour;
  INSERT INTO @extschema@.rpc_metrics_rollup (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.*, @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT m.rpc, k.hour, least(sum(m.calls), 9223372036854775807)::bigint AS calls,
               least(sum(m.errors), 9223372036854775807)::bigint AS errors,
               least(sum(m.total_ms::numeric), 1e308)::float8 AS total_ms,
               max(m.max_ms) AS max_ms, @extschema@.ff_sketch_merge(m.sketch) AS sketch
        FROM jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
        JOIN @extschema@.rpc_metrics m
          ON m.rpc = k.rpc AND m.bucket_start >= k.hour AND m.bucket_start < k.hour + interval '1 hour'
        GROUP BY 1, 2) a;
END $$;
CREATE OR REPLACE VIEW rpc_metrics_hourly AS
SELECT r.rpc, r.hour, r.calls, r.errors,
       (r.errors::float8 / nullif(r.calls, 0)::float8) AS error_rate,
       (r.total_ms / nullif(r.calls, 0)::float8) AS mean_ms,
       least(r.quantiles[1], r.max_ms) AS p50_ms,
       least(r.quantiles[2], r.max_ms) AS p95_ms,
       least(r.quantiles[3], r.max_ms) AS p99_ms,
       r.max_ms
FROM @extschema@.rpc_metrics_rollup r
WHERE r.hour < (SELECT @extschema@._ff_metrics_pending_from())
UNION ALL
SELECT g.rpc, g.hour, g.calls, g.errors,
       (g.errors::float8 / nullif(g.calls, 0)::float8),
       (g.total_ms / nullif(g.calls, 0)::float8),
       least(g.q[1], g.max_ms), least(g.q[2], g.max_ms), least(g.q[3], g.max_ms),
       g.max_ms
FROM (SELECT m.rpc, m.hour, least(sum(m.calls), 9223372036854775807)::bigint AS calls,
             least(sum(m.errors), 9223372036854775807)::bigint AS errors,
             least(sum(m.total_ms::numeric), 1e308)::float8 AS total_ms, max(m.max_ms) AS max_ms,
             @extschema@.ff_sketch_merge_quantiles(m.sketch, '{0.5,0.95,0.99}'::float8[]) AS q
      FROM (SELECT r.rpc, r.hour, r.calls, r.errors, r.total_ms, r.max_ms, r.sketch
            FROM @extschema@.rpc_metrics_rollup r
            WHERE r.hour >= (SELECT @extschema@._ff_metrics_pending_from())
            UNION ALL
            SELECT p.rpc, @extschema@._ff_metrics_hour(p.bucket_start), p.calls, p.errors,
                   p.total_ms, p.max_ms, p.sketch
            FROM @extschema@._ff_metrics_pending() p
            WHERE @extschema@._ff_metrics_hour(p.bucket_start) >= (SELECT @extschema@._ff_metrics_pending_from())) m
      GROUP BY m.rpc, m.hour) g;

-- Rows are bounded like new input (max_ms <= 1 hour, total_ms finite): clamp what an
-- older release let in (the update trigger recomputes their hours), then check.
UPDATE rpc_metrics SET max_ms = least(max_ms, 3600000),
                       total_ms = CASE WHEN total_ms < 'Infinity' THEN total_ms ELSE 1e308 END
WHERE NOT (max_ms <= 3600000 AND total_ms < 'Infinity');
ALTER TABLE rpc_metrics DROP CONSTRAINT rpc_metrics_total_ms_check,
  ADD CONSTRAINT rpc_metrics_total_ms_check CHECK (total_ms >= 0 AND total_ms < 'Infinity');
ALTER TABLE rpc_metrics DROP CONSTRAINT rpc_metrics_max_ms_check,
  ADD CONSTRAINT rpc_metrics_max_ms_check CHECK (max_ms >= 0 AND max_ms <= 3600000);

-- ==== 60_feed.sql — per-entity activity bounds for the network source ====
-- The network merge visits followed entities in order of these bounds (src/feed_activity.c);
-- the rows for existing entities are computed here, under the triggers' table locks.
CREATE TABLE _ff_entity_activity (
  entity_id  uuid PRIMARY KEY REFERENCES entities (id) ON DELETE CASCADE,
  post_key   float8 NOT NULL DEFAULT '-Infinity',
  event_key  float8 NOT NULL DEFAULT '-Infinity',
  raised_xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
) WITH (fillfactor = 80);
-- Backends cache bounds and re-read only rows changed by transactions their last read
-- could not see (raised_xid >= that read's snapshot xmin): exact, and cheap per page.
CREATE INDEX _ff_entity_activity_raised_idx ON _ff_entity_activity (raised_xid);
ALTER TABLE _ff_entity_activity ENABLE ROW LEVEL SECURITY;   -- no policies: app roles see nothing
REVOKE ALL ON _ff_entity_activity FROM PUBLIC;
COMMENT ON TABLE _ff_entity_activity IS
  'Upper bounds of each entity''s best post and event rank_key, and the transaction that last raised them (kept by triggers; read by the feed)';

CREATE FUNCTION _ff_entity_activity_touch() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_entity_activity_touch';
COMMENT ON FUNCTION _ff_entity_activity_touch() IS
  'Row trigger: raise the entity''s activity bound (argument: entity, post or event)';
REVOKE EXECUTE ON FUNCTION _ff_entity_activity_touch() FROM PUBLIC;

CREATE TRIGGER _ff_activity_entities AFTER INSERT ON entities
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('entity');
ALTER TABLE entities ENABLE ALWAYS TRIGGER _ff_activity_entities;
CREATE TRIGGER _ff_activity_posts AFTER INSERT OR UPDATE ON posts
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('post');
ALTER TABLE posts ENABLE ALWAYS TRIGGER _ff_activity_posts;
CREATE TRIGGER _ff_activity_events AFTER INSERT OR UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('event');
ALTER TABLE events ENABLE ALWAYS TRIGGER _ff_activity_events;

-- Bounds for the rows already there (none at a fresh install or a restore: the restored
-- rows go in through the triggers).
INSERT INTO _ff_entity_activity (entity_id, post_key, event_key)
SELECT e.id,
       coalesce((SELECT max(p.rank_key) FROM posts p WHERE p.author_entity_id = e.id AND p.deleted_at IS NULL), '-Infinity'),
       coalesce((SELECT max(v.rank_key) FROM events v WHERE v.host_entity_id = e.id), '-Infinity')
FROM entities e;

-- ==== 00_base.sql, 05_partitions.sql, 90_grants.sql and each component's registry
-- ==== rows — privileges are exactly the registry ====
-- Supabase runs ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES,
-- FUNCTIONS, SEQUENCES TO anon, authenticated, service_role: installed there, every
-- object of ours started with ALL for the app roles (TRUNCATE and TRIGGER, which RLS
-- does not govern, included).  ff_apply_grants() now first takes away from PUBLIC and
-- the app roles whatever the registry does not list (on member relations, partitions,
-- sequences and functions); ff_run_maintenance() does so on the partitions pg_partman
-- makes, _ff_restore_indexes() on those a restore makes.  The registry lists the
-- functions app roles run indirectly (RLS helpers, ranking, ff_status()'s rows, the
-- view's) and no longer grants TRUNCATE.

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

CREATE OR REPLACE FUNCTION ff_apply_grants() RETURNS integer
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

CREATE OR REPLACE FUNCTION _ff_run_maintenance(p_caller_path text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pm     text := @extschema@._ff_partman_schema();
  c      record;
  parent text;
  cfg    jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('feed_fusion'), hashtext('_ff_run_maintenance'));
  FOR c IN SELECT * FROM @extschema@._ff_partman_config ORDER BY parent_table LOOP
    parent := format('%I.%I', '@extschema@', c.parent_table);
    CONTINUE WHEN to_regclass(parent) IS NULL;
    -- the schema-qualified name is what pg_partman keys on
    cfg := c.config || jsonb_build_object('parent_table', parent,
             'template_table', format('%I.%I', '@extschema@', '_ff_template_' || c.parent_table));
    EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L', pm, parent);
    EXECUTE format('INSERT INTO %1$I.part_config SELECT * FROM jsonb_populate_record(NULL::%1$I.part_config, %2$L)',
                   pm, cfg);
    EXECUTE format('SELECT %I.run_maintenance(p_parent_table := %L)', pm, parent);
    EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L RETURNING to_jsonb(part_config)',
                   pm, parent) INTO cfg;
    UPDATE @extschema@._ff_partman_config SET config = cfg WHERE parent_table = c.parent_table;
  END LOOP;
  -- New partitions get the default privileges of the schema (Supabase: ALL for anon,
  -- authenticated and service_role); pg_partman copies none of the parent's (we leave
  -- inherit_privileges off) and app roles must reach partitions through the parent only.
  PERFORM @extschema@._ff_revoke_unregistered(true);
  -- the hourly metrics rollup follows rpc_metrics' retention (defined in 50_metrics.sql)
  PERFORM @extschema@._ff_metrics_prune_rollup();
  PERFORM set_config('search_path', p_caller_path, false);
END $$;

CREATE OR REPLACE FUNCTION _ff_restore_indexes() RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  LOCK TABLE @extschema@._ff_restore_pending IN EXCLUSIVE MODE;
  FOR r IN SELECT * FROM @extschema@._ff_restore_pending ORDER BY relname, ord LOOP
    EXECUTE r.ddl;
    n := n + 1;
  END LOOP;
  DELETE FROM @extschema@._ff_restore_pending;
  -- Every partition of the dump exists by now, created with the target database's
  -- default privileges (pg_dump restores its own ALTER DEFAULT PRIVILEGES last, but a
  -- Supabase database already has them): take those away as maintenance does.
  PERFORM @extschema@._ff_revoke_unregistered(true);
  IF EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '_ff_restore_indexes_trg') THEN
    ALTER EXTENSION feed_fusion DROP EVENT TRIGGER _ff_restore_indexes_trg;
    DROP EVENT TRIGGER _ff_restore_indexes_trg;
  END IF;
  RETURN n;
END $$;

UPDATE _ff_grants SET privileges = 'SELECT, INSERT, UPDATE, DELETE'
WHERE object_kind = 'TABLE' AND role_name = 'service_role' AND privileges = 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE';

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_lane_names_valid(text[])', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_hour(timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_my_entities()', 'EXECUTE', 'anon'),
  ('FUNCTION', '_ff_my_entities()', 'EXECUTE', 'authenticated');
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'FUNCTION', f, 'EXECUTE', r
FROM unnest(ARRAY['_ff_flags_cache_info()', '_ff_status_flags()',
                  '_ff_rate_limiter_info()', '_ff_status_rate_limiter()',
                  'ff_sketch_quantile(bytea, double precision)', 'ff_sketch_count(bytea)',
                  'ff_sketch_merge(bytea)', 'ff_sketch_agg(double precision)',
                  'ff_sketch_merge_quantiles(bytea, double precision[])',
                  'ff_sketch_quantiles(bytea, double precision[])', 'ff_sketch_union(bytea, bytea)',
                  '_ff_metrics_status()', '_ff_status_metrics()',
                  '_ff_feed_status()', '_ff_status_feed()']) AS f,
     unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;

SELECT ff_apply_grants();

-- Issue 10 item 8: table mode batches tracked calls per backend (src/metrics_batch.c);
-- rpc_metrics_flush() and _ff_metrics_pending() serve that batch there.
COMMENT ON FUNCTION rpc_metrics_flush() IS
  'Move closed minutes of RPC metrics from shared memory (table mode: this backend''s batch) into rpc_metrics; returns rows written';
COMMENT ON FUNCTION _ff_metrics_pending() IS
  'Not-yet-flushed RPC metrics of this database from shared memory (table mode: this backend''s unwritten batch)';
