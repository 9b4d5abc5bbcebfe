-- Partitions created and dropped (docs/operations.md): premade ahead by ff_run_maintenance(),
-- retention drops old ones with their rows, new partitions are plain (non-member)
-- tables with the parent's indexes and no privileges for app roles, and pg_partman's
-- part_config is left without our rows.  All inside a rolled-back transaction.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(12);

CREATE FUNCTION pg_temp.parts(p regclass) RETURNS TABLE (rel regclass, lo timestamptz, hi timestamptz)
  LANGUAGE sql AS $$
  SELECT c.oid::regclass,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = p AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
$$;

SELECT ok((SELECT min(lo) <= now() - interval '29 days' AND max(hi) >= now() + interval '3 days'
           FROM pg_temp.parts('usage_events')), 'usage_events: daily partitions from a month back to days ahead');
SELECT ok((SELECT max(hi) >= date_trunc('month', now()) + interval '4 months' FROM pg_temp.parts('posts')),
          'posts: monthly partitions premade 4 months ahead');

INSERT INTO usage_events (user_id, event, occurred_at) VALUES
  (tests.uid(1), 'fnd_old', now() - interval '20 days'), (tests.uid(1), 'fnd_new', now() - interval '1 day');
SELECT is((SELECT count(*) FROM usage_events WHERE event LIKE 'fnd_%' AND tableoid <> 'usage_events_default'::regclass),
          2::bigint, 'rows land in their daily partitions, not the default one');

-- Retention: keep 10 days of usage_events; premake posts 6 months ahead.
UPDATE _ff_partman_config SET config = config || '{"retention": "10 days"}' WHERE parent_table = 'usage_events';
UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '6') WHERE parent_table = 'posts';
SELECT lives_ok('SELECT ff_run_maintenance()', 'ff_run_maintenance() runs');

SELECT is((SELECT count(*) FROM pg_temp.parts('usage_events') WHERE hi < now() - interval '11 days'),
          0::bigint, 'retention dropped the usage_events partitions older than 10 days');
SELECT is((SELECT string_agg(event, ',' ORDER BY event) FROM usage_events WHERE event LIKE 'fnd_%'),
          'fnd_new', 'the old row went with its partition, the recent one stayed');
SELECT ok((SELECT max(hi) >= date_trunc('month', now()) + interval '6 months' FROM pg_temp.parts('posts')),
          'posts: maintenance premade up to 6 months ahead');
SELECT is((SELECT config->>'retention' FROM _ff_partman_config WHERE parent_table = 'usage_events'),
          '10 days', 'the edited configuration is kept by maintenance');
SELECT is((SELECT count(*) FROM part_config), 0::bigint, 'part_config holds no row of ours after maintenance');

-- The newest posts partition was made by maintenance: a plain table with the parent's
-- indexes (attached), no extension membership and no privileges for app roles.
SELECT is((SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indexrelid
           WHERE i.indrelid = (SELECT rel FROM pg_temp.parts('posts') ORDER BY hi DESC LIMIT 1)),
          (SELECT count(*) FROM pg_index WHERE indrelid = 'posts'::regclass),
          'a maintenance-made partition carries every parent index');
SELECT is((SELECT count(*) FROM pg_depend d WHERE d.deptype = 'e'
           AND d.objid = (SELECT rel FROM pg_temp.parts('posts') ORDER BY hi DESC LIMIT 1)),
          0::bigint, 'a maintenance-made partition is not an extension member');

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT throws_ok('SELECT ff_run_maintenance()', '42501', NULL, 'authenticated may not run maintenance');
SELECT tests.reset();

SELECT * FROM finish();
ROLLBACK;
