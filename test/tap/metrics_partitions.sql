-- rpc_metrics partitions: daily, premade ahead, 30-day retention through ff_run_maintenance().
BEGIN;
SELECT plan(8);
SET LOCAL client_min_messages = warning;

CREATE FUNCTION pg_temp.pm() RETURNS text LANGUAGE sql AS $$
  SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'
$$;
CREATE FUNCTION pg_temp.cfg(p_col text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  -- feed_fusion keeps its pg_partman configuration in _ff_partman_config (see docs/operations.md)
  SELECT config ->> p_col INTO r FROM _ff_partman_config WHERE parent_table = 'rpc_metrics';
  RETURN r;
END $$;
-- Does some partition of rpc_metrics hold timestamp t?
CREATE FUNCTION pg_temp.has_partition_for(t timestamptz) RETURNS boolean LANGUAGE sql AS $$
  SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'rpc_metrics'::regclass AND c.relname NOT LIKE '%default%'
                   AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || to_char(date_trunc('day', t), 'YYYY-MM-DD') || '%')
$$;

SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'rpc_metrics'::regclass), 'p', 'rpc_metrics is partitioned');
SELECT is(pg_temp.cfg('partition_interval'), '1 day', 'daily partitions');
SELECT is(pg_temp.cfg('retention'), '30 days', '30-day retention');
SELECT ok(pg_temp.has_partition_for(now()) AND pg_temp.has_partition_for(now() + interval '3 days'),
          'partitions for today and days ahead');

-- An old partition (45 days) is dropped by maintenance, a recent one (10 days) kept.
SELECT ok(pg_temp.has_partition_for(now() - interval '5 days'), 'recent partition exists');
DO $$
DECLARE d timestamptz := date_trunc('day', now() - interval '45 days');
BEGIN
  -- named the way pg_partman names daily children, so its retention recognises it
  EXECUTE format('CREATE TABLE %I PARTITION OF rpc_metrics FOR VALUES FROM (%L) TO (%L)',
                 'rpc_metrics_p' || to_char(d, 'YYYY_MM_DD'), d, d + interval '1 day');
END $$;
SELECT ok(pg_temp.has_partition_for(now() - interval '45 days'), 'old partition created for the test');
SELECT ff_run_maintenance();
SELECT ok(NOT pg_temp.has_partition_for(now() - interval '45 days'), 'partition older than 30 days dropped by ff_run_maintenance()');
SELECT ok(pg_temp.has_partition_for(now() - interval '5 days'), 'partition within retention kept');

SELECT * FROM finish();
ROLLBACK;
