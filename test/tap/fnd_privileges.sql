-- Privileges of the app roles on every object of the extension, read from the catalog
-- (aclexplode over pg_class and pg_proc): the extension's member relations, views,
-- sequences, functions and aggregates, the partitions of its partitioned tables (also
-- those pg_partman makes later) and the sequences they own.  PUBLIC, anon,
-- authenticated and service_role must hold exactly what the registry (_ff_grants)
-- lists — whatever the database's default privileges are (fnd_privileges_supabase.sql
-- runs this file in a database prepared as Supabase prepares `public`) — and never
-- TRUNCATE, TRIGGER or REFERENCES, which RLS does not govern.  Rolled back.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(20);

-- Objects of ours: (kind, oid, name, acl with the built-in default spelled out, partition?).
CREATE TEMP VIEW fnd_objects AS
WITH RECURSIVE ext AS (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'),
member AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
  WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
tree AS (
  SELECT m.objid AS oid, false AS partition FROM member m WHERE m.classid = 'pg_class'::regclass
  UNION SELECT i.inhrelid, true FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid),
rel AS (
  SELECT oid, partition FROM tree
  UNION SELECT d.objid, t.partition FROM pg_depend d JOIN tree t ON d.refobjid = t.oid
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S')
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS kind, c.oid,
       c.oid::regclass::text AS name, r.partition,
       coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl
FROM rel r JOIN pg_class c ON c.oid = r.oid
UNION ALL
SELECT 'FUNCTION', p.oid, p.oid::regprocedure::text, false, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid;

-- What PUBLIC and the app roles hold: 'kind name grantee PRIVILEGE' (* = with grant option).
CREATE TEMP VIEW fnd_held AS
SELECT o.kind, o.oid, o.name, o.partition, x.privilege_type AS privilege,
       CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END AS grantee,
       format('%s %s %s %s%s', o.kind, o.name,
              CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END,
              x.privilege_type, CASE WHEN x.is_grantable THEN '*' ELSE '' END) AS line
FROM fnd_objects o, aclexplode(o.acl) x
WHERE x.grantee = 0 OR pg_get_userbyid(x.grantee) IN ('anon', 'authenticated', 'service_role');

-- The registry, each row resolved to its object (NULL: no such object).
CREATE TEMP VIEW fnd_registry AS
SELECT g.*, CASE g.object_kind
         WHEN 'FUNCTION' THEN to_regprocedure(format('%s.%s', n.nsp, g.object_name))::oid
         ELSE to_regclass(format('%s.%I', n.nsp, g.object_name))::oid END AS oid
FROM _ff_grants g,
     (SELECT quote_ident(extnamespace::regnamespace::text) AS nsp FROM pg_extension WHERE extname = 'feed_fusion') n
WHERE g.object_kind <> 'POLICY';

-- What the registry grants to the roles that exist, in the same form.
CREATE TEMP VIEW fnd_wanted AS
SELECT format('%s %s %s %s', o.kind, o.name, g.role_name, p) AS line
FROM fnd_registry g
CROSS JOIN LATERAL unnest(string_to_array(g.privileges, ', ')) AS p
JOIN fnd_objects o ON o.oid = g.oid
WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g.role_name);

CREATE FUNCTION pg_temp.extra() RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(line ORDER BY line) FROM (SELECT line FROM fnd_held EXCEPT SELECT line FROM fnd_wanted) x $$;
CREATE FUNCTION pg_temp.missing() RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(line ORDER BY line) FROM (SELECT line FROM fnd_wanted EXCEPT SELECT line FROM fnd_held) x $$;
CREATE FUNCTION pg_temp.dangerous() RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(line ORDER BY line) FROM fnd_held WHERE privilege IN ('TRUNCATE', 'TRIGGER', 'REFERENCES') $$;
CREATE FUNCTION pg_temp.partitions() RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(line ORDER BY line) FROM fnd_held WHERE partition $$;

-- The registry covers every kind of object, and the scope found them all.
SELECT ok((SELECT count(*) FILTER (WHERE kind = 'FUNCTION') > 60 AND count(*) FILTER (WHERE kind = 'TABLE') > 30
                  AND count(*) FILTER (WHERE kind = 'SEQUENCE') = 4 AND count(*) FILTER (WHERE kind = 'VIEW') = 1
                  AND bool_or(partition) FROM fnd_objects),
          'the scope holds the functions, tables, partitions, sequences and the view of the extension');
SELECT is((SELECT array_agg(format('%s %s', g.object_kind, g.object_name) ORDER BY 1) FROM fnd_registry g
           WHERE g.oid IS NULL OR g.oid NOT IN (SELECT oid FROM fnd_objects)
              OR (g.object_kind = 'FUNCTION') <> ((SELECT kind FROM fnd_objects o WHERE o.oid = g.oid) = 'FUNCTION')),
          NULL, 'every registry row names an object of the extension');

SELECT is(pg_temp.extra(), NULL, 'PUBLIC and the app roles hold no privilege the registry does not list');
SELECT is(pg_temp.missing(), NULL, 'every privilege the registry lists is held');
SELECT is(pg_temp.dangerous(), NULL, 'no app role (nor PUBLIC) holds TRUNCATE, TRIGGER or REFERENCES on a relation of ours');
SELECT is(pg_temp.partitions(), NULL, 'partitions give PUBLIC and the app roles nothing');
SELECT is((SELECT array_agg(format('%s %s %s', object_name, role_name, privileges) ORDER BY 1) FROM _ff_grants
           WHERE privileges ~ 'TRUNCATE|TRIGGER|REFERENCES'),
          NULL, 'the registry grants no TRUNCATE, TRIGGER or REFERENCES');

-- Supabase's linter (splinter 0028/0029): no SECURITY DEFINER function of ours is
-- executable by anon or authenticated, and the status helpers are plain functions.
SELECT is((SELECT array_agg(h.line ORDER BY h.line) FROM fnd_held h JOIN pg_proc p ON p.oid = h.oid
           WHERE h.kind = 'FUNCTION' AND p.prosecdef AND h.grantee IN ('PUBLIC', 'anon', 'authenticated')),
          NULL, 'no SECURITY DEFINER function of ours is executable by PUBLIC, anon or authenticated');
SELECT is((SELECT array_agg(proname::text ORDER BY proname) FROM pg_proc
           WHERE proname IN ('_ff_status_feed', '_ff_status_flags', '_ff_status_metrics', '_ff_status_rate_limiter')
             AND prosecdef), NULL, 'the _ff_status_* functions are not SECURITY DEFINER');
SELECT is((SELECT array_agg(line ORDER BY line) FROM fnd_held WHERE grantee = 'PUBLIC'),
          NULL, 'PUBLIC holds nothing on any object of ours (e.g. EXECUTE on _ff_status_feed)');

-- ff_apply_grants() is idempotent and, once the privileges are exact, writes nothing.
CREATE TEMP TABLE fnd_before AS
SELECT o.oid, o.kind, (SELECT xmin FROM pg_class WHERE oid = o.oid AND o.kind <> 'FUNCTION')::text AS cx,
       (SELECT xmin FROM pg_proc WHERE oid = o.oid AND o.kind = 'FUNCTION')::text AS px
FROM fnd_objects o;
SELECT is(ff_apply_grants(), (SELECT count(*)::int FROM _ff_grants WHERE role_name IN (SELECT rolname FROM pg_roles)),
          'ff_apply_grants() counts the registered grants');
SELECT is((SELECT array_agg(o.name ORDER BY o.name) FROM fnd_objects o JOIN fnd_before b ON b.oid = o.oid
           WHERE b.cx IS DISTINCT FROM (SELECT xmin FROM pg_class WHERE oid = o.oid AND o.kind <> 'FUNCTION')::text
              OR b.px IS DISTINCT FROM (SELECT xmin FROM pg_proc WHERE oid = o.oid AND o.kind = 'FUNCTION')::text),
          NULL, 'ff_apply_grants() on exact privileges rewrites no catalog row');
SELECT is(pg_temp.extra(), NULL, 'after ff_apply_grants() again: still nothing unregistered');

-- Partitions pg_partman makes later: premake further ahead, run maintenance as the
-- owner (as the background worker does); the new partitions give app roles nothing,
-- whatever the schema's default privileges.
CREATE TEMP TABLE fnd_parts_before AS SELECT oid FROM fnd_objects WHERE partition;
UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '12')
WHERE parent_table IN ('posts', 'usage_events', 'rpc_metrics');
SELECT lives_ok('SELECT ff_run_maintenance()', 'ff_run_maintenance() premakes partitions');
SELECT cmp_ok((SELECT count(*) FROM fnd_objects WHERE partition AND oid NOT IN (SELECT oid FROM fnd_parts_before)),
              '>=', 16::bigint, 'maintenance created new partitions');
SELECT is(pg_temp.partitions(), NULL, 'the new partitions give PUBLIC and the app roles nothing');
SELECT is(pg_temp.dangerous(), NULL, 'after maintenance: still no TRUNCATE, TRIGGER or REFERENCES for app roles');

-- The functions app roles run indirectly are granted: RLS policy helpers (the matrix
-- covers them), the _ff_status_* functions behind ff_status(), the view's functions
-- and aggregates for service_role; internal and SECURITY DEFINER helpers are not.
CREATE FUNCTION pg_temp.as_role(p_role text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM tests.login_as(p_role, CASE WHEN p_role = 'authenticated' THEN tests.uid(1) END);
  BEGIN
    EXECUTE q INTO r;
  EXCEPTION WHEN OTHERS THEN r := 'err:' || SQLSTATE;
  END;
  PERFORM tests.reset();
  RETURN r;
END $$;
SELECT is(ARRAY[pg_temp.as_role('anon', 'SELECT count(*)::text FROM ff_status()'),
                pg_temp.as_role('authenticated', 'SELECT count(*)::text FROM ff_status()'),
                pg_temp.as_role('service_role', 'SELECT count(*)::text FROM ff_status()')],
          ARRAY['4', '4', '4'], 'ff_status() works for anon, authenticated and service_role');
SELECT is(ARRAY[pg_temp.as_role('service_role', $q$SELECT 'ok' FROM (SELECT count(*) FROM rpc_metrics_hourly) v$q$),
                pg_temp.as_role('authenticated', $q$SELECT round(ff_sketch_quantile(ff_sketch_agg(x), 0.5))::text
                                                   FROM generate_series(1, 99) x$q$),
                pg_temp.as_role('anon', $q$SELECT (ff_rank_key(0.5, now()) < ff_rank_key(0.5, now() + interval '1 day'))::text$q$)],
          ARRAY['ok', '50', 'true'],
          'the view works for service_role; sketch and ranking helpers for authenticated');
SELECT is(ARRAY[pg_temp.as_role('anon', $q$SELECT _log_rpc('fnd_x', 1)::text$q$),
                pg_temp.as_role('anon', 'SELECT rpc_metrics_flush()::text'),
                pg_temp.as_role('authenticated', 'SELECT _ff_metrics_prune_rollup()::text'),
                pg_temp.as_role('service_role', $q$SELECT _ff_metrics_rollup_recompute('[]')::text$q$),
                pg_temp.as_role('anon', 'SELECT _ff_feed_random_secret()::text'),
                pg_temp.as_role('authenticated', 'SELECT ff_apply_grants()::text')],
          ARRAY['err:42501', 'err:42501', 'err:42501', 'err:42501', 'err:42501', 'err:42501'],
          'anon may not log RPCs or flush; SECURITY DEFINER and owner helpers are not executable');

SELECT * FROM finish();
ROLLBACK;
