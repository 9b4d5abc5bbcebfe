-- 05_partitions.sql — pg_partman glue shared by every partitioned table.
-- Works with pg_partman 4.x (p_type 'native') and 5.x (p_type 'range'); all calls
-- use named arguments and the partman schema found in pg_extension.
--
-- Lifecycle design (tested by test/scripts/fnd_lifecycle.sh and fnd_dump_restore.sh):
-- * Partitions are released from extension membership, so pg_dump dumps them (and
--   their rows) like the ones pg_partman makes later; DROP EXTENSION still drops them
--   with their partitioned parent.
-- * The template table pg_partman needs is ours (@extschema@._ff_template_<table>, an
--   extension member), so DROP EXTENSION drops it and a restore re-creates it.
-- * pg_partman's part_config row for each of our tables lives in _ff_partman_config
--   (an extension member whose rows pg_dump keeps) and is put into part_config only
--   for the duration of ff_run_maintenance().  So DROP EXTENSION leaves nothing in
--   pg_partman's catalog, and a restore carries the (possibly edited) configuration.
-- * Partitions give app roles nothing (they go through the parent's RLS): whatever
--   default privileges give a new partition, ff_apply_grants() (install) and
--   ff_run_maintenance() take away (_ff_revoke_unregistered, 00_base.sql).
-- * A restore re-runs this script with _ff_restoring() true: partitioned parents are
--   then created without their indexes and key constraints (pg_dump's partitions bring
--   their own, and ATTACH PARTITION would otherwise create duplicates); the parent
--   indexes come back ON ONLY right before pg_dump's first ALTER INDEX ... ATTACH
--   PARTITION, through a one-shot event trigger (see 90_grants.sql).

CREATE FUNCTION _ff_partman_schema() RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_partman'
$$;

CREATE FUNCTION _ff_schema() RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'feed_fusion'
$$;

-- pg_partman's configuration for our partitioned tables, kept out of part_config
-- between maintenance runs (see above).  config is a part_config row as jsonb, so the
-- layout works with every pg_partman version.
CREATE TABLE _ff_partman_config (
  parent_table text PRIMARY KEY,    -- unqualified name of our partitioned table
  config       jsonb NOT NULL
);

-- Parent indexes and key constraints withheld during a restore (see above).
CREATE TABLE _ff_restore_pending (
  relname  text NOT NULL,           -- our partitioned table
  ddl      text NOT NULL,           -- statement re-creating the index ON ONLY the parent
  ord      int NOT NULL,
  PRIMARY KEY (relname, ord)
);

-- pg_partman 4.x saves search_path on entry and restores it with a session-level
-- set_config(), which outlives our pinned `SET search_path` clause.  So every function
-- that calls partman takes the caller's search_path and puts it back the same way.

-- Partition p_table by p_control with pg_partman; partitions it creates are released
-- from extension membership so pg_dump treats them like the ones partman makes later.
CREATE FUNCTION _ff_partition(p_table text, p_control text, p_interval text, p_start timestamptz,
                              p_premake int, p_retention interval,
                              p_caller_path text DEFAULT pg_catalog.current_setting('search_path'))
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pm       text := @extschema@._ff_partman_schema();
  parent   text := format('%I.%I', '@extschema@', p_table);
  template text := format('%I.%I', '@extschema@', '_ff_template_' || p_table);
  major    int  := (SELECT split_part(extversion, '.', 1)::int FROM pg_extension WHERE extname = 'pg_partman');
  child    regclass;
  cfg      jsonb;
BEGIN
  -- Our own template table (pg_partman would put one into its schema, outside our
  -- extension); it stays empty and is re-created by a restore.
  EXECUTE format('CREATE TABLE %s (LIKE %s)', template, parent);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', template);
  IF @extschema@._ff_restoring() THEN
    RETURN;   -- the dump carries partitions and _ff_partman_config rows
  END IF;
  EXECUTE format(
    'SELECT %I.create_parent(p_parent_table := %L, p_control := %L, p_type := %L, '
    'p_interval := %L, p_premake := %s, p_start_partition := %L, p_template_table := %L)',
    pm, parent, p_control, CASE WHEN major >= 5 THEN 'range' ELSE 'native' END,
    p_interval, p_premake, to_char(p_start, 'YYYY-MM-DD HH24:MI:SS'), template);
  -- Move the configuration row out of part_config into our member table.
  EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L RETURNING to_jsonb(part_config)',
                 pm, parent) INTO cfg;
  cfg := cfg || jsonb_build_object('infinite_time_partitions', true, 'retention', p_retention::text,
                                   'retention_keep_table', false);
  INSERT INTO @extschema@._ff_partman_config (parent_table, config) VALUES (p_table, cfg);
  PERFORM set_config('search_path', p_caller_path, false);
  FOR child IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = parent::regclass LOOP
    EXECUTE format('ALTER EXTENSION feed_fusion DROP TABLE %s', child);
  END LOOP;
END $$;

-- Create partitions ahead and apply retention for feed_fusion's tables.  Each table's
-- configuration visits part_config only while pg_partman works on it (one transaction,
-- serialised by an advisory lock), and edits pg_partman makes are kept.
CREATE FUNCTION _ff_run_maintenance(p_caller_path text) RETURNS void
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

-- Wrapper without a pinned search_path on purpose: pg_partman 4.x ends with a plain
-- (session-level) set_config('search_path'), which outlives any SET clause, so
-- _ff_run_maintenance puts back the path this wrapper read from the caller.  The body
-- uses only schema-qualified names (checked by test/tap/fnd_search_path.sql).
CREATE FUNCTION ff_run_maintenance() RETURNS void
  LANGUAGE sql AS $$
  SELECT @extschema@._ff_run_maintenance(pg_catalog.current_setting('search_path'))
$$;
COMMENT ON FUNCTION ff_run_maintenance() IS
  'Run pg_partman maintenance (premake, retention) for posts, usage_events and rpc_metrics';

-- Restore mode: take the indexes and key constraints off our (still empty) partitioned
-- tables and remember how to put them back ON ONLY the parent.  Called at the end of
-- the install script, after every component created its partitioned tables.
CREATE FUNCTION _ff_restore_withhold_indexes() RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  FOR r IN
    SELECT c.oid AS relid, c.relname, i.indexrelid, con.conname, con.oid AS conoid
    FROM pg_class c
    JOIN pg_index i ON i.indrelid = c.oid
    LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = c.oid
    WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'p'
      AND EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                    AND e.extname = 'feed_fusion')
    ORDER BY c.relname, (con.oid IS NULL), i.indexrelid
  LOOP
    n := n + 1;
    IF r.conoid IS NOT NULL THEN
      INSERT INTO @extschema@._ff_restore_pending VALUES (r.relname,
        format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT %I %s', '@extschema@', r.relname, r.conname,
               pg_get_constraintdef(r.conoid)), n);
      EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', '@extschema@', r.relname, r.conname);
    ELSE
      INSERT INTO @extschema@._ff_restore_pending VALUES (r.relname, pg_get_indexdef(r.indexrelid), n);
      EXECUTE format('DROP INDEX %s', r.indexrelid::regclass);
    END IF;
  END LOOP;
END $$;

-- Put the withheld parent indexes back (ON ONLY: each becomes valid once pg_dump's
-- ALTER INDEX ... ATTACH PARTITION has attached the index of every partition).
-- Idempotent; concurrent callers (parallel pg_restore) serialise on the table lock.
CREATE FUNCTION _ff_restore_indexes() RETURNS integer
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

-- Event trigger body: fires on the restore's first ALTER INDEX (pg_dump's index
-- ATTACH PARTITION statements come after every partition and its indexes exist).
CREATE FUNCTION _ff_restore_indexes_evt() RETURNS event_trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_restore_indexes();
END $$;
