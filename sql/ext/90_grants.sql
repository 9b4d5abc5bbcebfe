-- 90_grants.sql — privileges for the Supabase roles, and what pg_dump must keep.
-- The registry (_ff_grants) lists every privilege PUBLIC and the app roles hold on the
-- extension's objects; ff_apply_grants() (run at the end of this file) takes away
-- everything else — e.g. what ALTER DEFAULT PRIVILEGES gave them — so no app role ever
-- holds TRUNCATE, TRIGGER or REFERENCES, and a function not listed here is the owner's.

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  -- identity and status
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_request_subject()', 'EXECUTE', 'service_role'),
  -- ranking helpers (ff_rank_key also computes the rank_key column of rows they insert)
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_rank_key(double precision, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_score_at(double precision, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_run_maintenance()', 'EXECUTE', 'service_role'),
  -- public content: everyone reads, owners write (RLS decides which rows)
  ('TABLE', 'entities', 'SELECT', 'anon'),
  ('TABLE', 'entities', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'follows', 'SELECT', 'anon'),
  ('TABLE', 'follows', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'posts', 'SELECT', 'anon'),
  ('TABLE', 'posts', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'listings', 'SELECT', 'anon'),
  ('TABLE', 'listings', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'events', 'SELECT', 'anon'),
  ('TABLE', 'events', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  -- per-user tables: authenticated users, their own rows only
  ('TABLE', 'feed_hides', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'shopping_cart_items', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'usage_events', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  -- configuration: read by authenticated, written by service_role
  ('TABLE', 'feature_flags', 'SELECT', 'authenticated'),
  ('TABLE', 'rate_limit_profiles', 'SELECT', 'authenticated'),
  ('TABLE', 'feed_lanes', 'SELECT', 'authenticated'),
  ('FUNCTION', '_ff_lane_names_valid(text[])', 'EXECUTE', 'service_role');   -- CHECK of feed_lanes.aliases

-- service_role: read and write every table and sequence (it bypasses RLS); never
-- TRUNCATE (it ignores RLS and empties a table at once) — delete rows instead.
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname,
       CASE WHEN c.relkind = 'S' THEN 'USAGE, SELECT, UPDATE' ELSE 'SELECT, INSERT, UPDATE, DELETE' END,
       'service_role'
FROM pg_class c
WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p', 'S')
  AND c.relname NOT LIKE '\_ff\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
  AND EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
              AND x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'));

-- Identity sequences writable by authenticated where it inserts rows.
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'SEQUENCE', s.relname, 'USAGE, SELECT', 'authenticated'
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class t ON t.oid = d.refobjid
WHERE d.deptype = 'i' AND t.relnamespace = '@extschema@'::regnamespace
  AND t.relname IN ('posts', 'listings', 'events', 'usage_events');

-- No app role reaches internal helpers, storage or maintenance by default.

REVOKE EXECUTE ON FUNCTION ff_run_maintenance(), ff_apply_grants(),
  _ff_restore_withhold_indexes(), _ff_restore_indexes(),
  _ff_partition(text, text, text, timestamptz, int, interval, text),
  _ff_run_maintenance(text) FROM PUBLIC;

-- pg_dump keeps the rows of every table that holds user data or editable
-- configuration (seeds are skipped on restore, so they are never doubled), and
-- the identity sequences' positions.
DO $$
DECLARE t regclass;
BEGIN
  FOR t IN SELECT c.oid::regclass
FROM pg_class c
WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'S')
  AND c.relname NOT LIKE '\_ff\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
  AND EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
              AND x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'))
  AND c.relname NOT IN ('rate_limit_counters')
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(t, '');   -- one call per statement
  END LOOP;
END $$;

SELECT ff_apply_grants();
SELECT pg_catalog.pg_extension_config_dump('_ff_partman_config', '');

-- Restore mode (see 05_partitions.sql): withhold the partitioned parents' indexes and
-- key constraints until pg_dump's partitions and their indexes exist, then put them
-- back through a one-shot event trigger that removes itself.
DO $$
BEGIN
  IF @extschema@._ff_restoring() THEN
    PERFORM @extschema@._ff_restore_withhold_indexes();
    CREATE EVENT TRIGGER _ff_restore_indexes_trg ON ddl_command_start
      WHEN TAG IN ('ALTER INDEX') EXECUTE FUNCTION @extschema@._ff_restore_indexes_evt();
    -- also under session_replication_role = replica (the documented parallel restore)
    ALTER EVENT TRIGGER _ff_restore_indexes_trg ENABLE ALWAYS;
  END IF;
END $$;
