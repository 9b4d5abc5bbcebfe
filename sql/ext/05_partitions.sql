-- 05_partitions.sql — pg_partman glue shared by every partitioned table.
-- Works with pg_partman 4.x (p_type 'native') and 5.x (p_type 'range'); all calls
-- use named arguments and the partman schema found in pg_extension.

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
  pm     text := @extschema@._ff_partman_schema();
  parent text := format('%I.%I', '@extschema@', p_table);
  major  int  := (SELECT split_part(extversion, '.', 1)::int FROM pg_extension WHERE extname = 'pg_partman');
  child  regclass;
BEGIN
  IF @extschema@._ff_restoring() THEN
    RETURN;   -- the dump carries partitions and pg_partman's part_config rows
  END IF;
  EXECUTE format(
    'SELECT %I.create_parent(p_parent_table := %L, p_control := %L, p_type := %L, '
    'p_interval := %L, p_premake := %s, p_start_partition := %L)',
    pm, parent, p_control, CASE WHEN major >= 5 THEN 'range' ELSE 'native' END,
    p_interval, p_premake, to_char(p_start, 'YYYY-MM-DD HH24:MI:SS'));
  EXECUTE format('UPDATE %I.part_config SET infinite_time_partitions = true, retention = %L, '
                 'retention_keep_table = false WHERE parent_table = %L', pm, p_retention, parent);
  PERFORM set_config('search_path', p_caller_path, false);
  FOR child IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = parent::regclass LOOP
    EXECUTE format('ALTER EXTENSION feed_fusion DROP TABLE %s', child);
  END LOOP;
END $$;

-- Create partitions ahead and apply retention for feed_fusion's tables.
CREATE FUNCTION _ff_run_maintenance(p_caller_path text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pm text := @extschema@._ff_partman_schema();
  t  text;
BEGIN
  FOREACH t IN ARRAY ARRAY['posts', 'usage_events', 'rpc_metrics'] LOOP
    IF to_regclass(format('%I.%I', '@extschema@', t)) IS NOT NULL THEN
      EXECUTE format('SELECT %I.run_maintenance(p_parent_table := %L)', pm, format('%I.%I', '@extschema@', t));
    END IF;
  END LOOP;
  PERFORM set_config('search_path', p_caller_path, false);
END $$;

CREATE FUNCTION ff_run_maintenance() RETURNS void
  LANGUAGE sql AS $$
  SELECT @extschema@._ff_run_maintenance(pg_catalog.current_setting('search_path'))
$$;
COMMENT ON FUNCTION ff_run_maintenance() IS
  'Run pg_partman maintenance (premake, retention) for posts, usage_events and rpc_metrics';
