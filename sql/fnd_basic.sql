-- Foundation: schema, seeds, identity, rank key, partitions (deterministic output).
SET client_min_messages = warning;
\set VERBOSITY terse

-- Extension metadata and modes.
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname IN ('feed_fusion', 'pg_partman') ORDER BY 1;
SELECT component FROM ff_status() ORDER BY 1;

-- Every table of the extension exists with RLS enabled.
SELECT c.relname, c.relkind, c.relrowsecurity
FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'feed_fusion'
WHERE c.relkind IN ('r', 'p') ORDER BY 1;

-- Seeds, exactly as the install script creates them.
SELECT key, enabled, rollout_percent FROM feature_flags ORDER BY key;
SELECT name, capacity, period FROM rate_limit_profiles ORDER BY name;
SELECT lane, w_network, w_discover, w_listings, round(listing_cap::numeric, 4) AS cap, window_size, dedup_delta
FROM feed_lanes ORDER BY lane;

-- Identity: claim.sub wins, then claims->>'sub'; empty or missing means anonymous.
SELECT ff_current_user() IS NULL AS anon_by_default;
SET request.jwt.claims = '{"sub": "6f1c2b3a-0000-4000-8000-000000000001", "role": "authenticated"}';
SELECT ff_current_user();
SET request.jwt.claim.sub = '6f1c2b3a-0000-4000-8000-000000000002';
SELECT ff_current_user();
SET request.jwt.claim.sub = '';
SELECT ff_current_user();
SET request.jwt.claims = '{"role": "anon"}';
SELECT ff_current_user() IS NULL AS anon_without_sub;
SET request.jwt.claims = '{"sub": ""}';
SELECT ff_current_user() IS NULL AS anon_empty_sub;
SET request.jwt.claims = '';
SELECT ff_current_user() IS NULL AS anon_empty_claims;
SET request.jwt.claims = '{"sub": "not-a-uuid"}';
SELECT ff_current_user();
SET request.jwt.claims = '{not json';
SELECT ff_current_user();
RESET request.jwt.claims;

-- Rate-limit subject: user, else the client address (by default the rightmost
-- x-forwarded-for entry, the one the proxy appended), else anon.
SELECT ff_request_subject();
SET request.headers = '{"x-forwarded-for": " 10.0.0.1 , 203.0.113.7 ", "cf-connecting-ip": "198.51.100.1"}';
SELECT ff_request_subject();
SET request.headers = '{"cf-connecting-ip": "198.51.100.1"}';
SELECT ff_request_subject();
SET request.jwt.claims = '{"sub": "6f1c2b3a-0000-4000-8000-000000000001"}';
SELECT ff_request_subject();
RESET request.headers;
RESET request.jwt.claims;

-- rank_key: order-preserving, and the score it encodes decays with a 48 h time constant.
SELECT ff_rank_key(1.0, '1970-01-03 00:00:00+00') AS one_unit_after_epoch;
SELECT round(ff_score_at(ff_rank_key(0.5, '2026-01-01 00:00+00'), '2026-01-03 00:00+00')::numeric, 6) AS half_after_48h;
SELECT ff_rank_key(0.9, now() - interval '4 days') < ff_rank_key(0.2, now()) AS newer_can_win;
SELECT ff_rank_key(0, now());
SELECT ff_rank_key('NaN', now());
SELECT ff_rank_key(0.5, 'infinity');

-- Stored rank_key matches the function; checks reject bad rows.
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
  ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-000000000001', 'person', 'alice');
INSERT INTO posts (author_entity_id, base_score, created_at) VALUES
  ('00000000-0000-4000-8000-0000000000e1', 0.7, now() - interval '1 day') RETURNING rank_key = ff_rank_key(0.7, created_at) AS stored_ok;
\set VERBOSITY sqlstate
INSERT INTO posts (author_entity_id, base_score) VALUES ('00000000-0000-4000-8000-0000000000e1', 1.5);
INSERT INTO posts (author_entity_id, kind) VALUES ('00000000-0000-4000-8000-0000000000e1', 'story');
\set VERBOSITY terse
INSERT INTO entities (owner_user_id, kind, handle) VALUES ('00000000-0000-4000-8000-000000000001', 'person', 'alice2');
INSERT INTO listings (seller_entity_id, title, price_cents) VALUES ('00000000-0000-4000-8000-0000000000e1', 'x', -1);
INSERT INTO feature_flags (key) VALUES ('Bad-Key');
INSERT INTO rate_limit_profiles VALUES ('zero', 0, '1 minute');
INSERT INTO feed_lanes VALUES ('bad', 0, 0, 0, 0.5, 20, 0.25);

-- Partitions: pg_partman manages posts (monthly), usage_events and rpc_metrics (daily);
-- their part_config rows are kept in _ff_partman_config between maintenance runs.
SELECT parent_table, config->>'partition_interval' AS partition_interval,
       config->>'retention' AS retention, config->>'premake' AS premake
FROM _ff_partman_config ORDER BY 1;
SELECT count(*) AS our_rows_in_part_config FROM part_config WHERE parent_table LIKE 'public.%';
SELECT count(*) >= 12 AS posts_has_a_year FROM pg_inherits WHERE inhparent = 'posts'::regclass;
SELECT count(*) >= 30 AS usage_events_has_a_month FROM pg_inherits WHERE inhparent = 'usage_events'::regclass;
-- The new post went to this month's partition, not the default one.
SELECT tableoid::regclass::text = 'posts_p' || to_char(now() - interval '1 day', 'YYYY_MM') AS in_month_partition FROM posts;
-- A query for recent posts touches only recent partitions (plan summarised so the
-- expected output does not depend on today's date).
CREATE FUNCTION pg_temp.plan_partitions(q text) RETURNS TABLE (scanned bigint, removed bool, scans_default bool)
  LANGUAGE plpgsql AS $$
DECLARE lines text[] := '{}'; l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP lines := lines || l; END LOOP;
  RETURN QUERY SELECT count(*) FILTER (WHERE x ~ 'Scan on posts_p'), bool_or(x ~ 'Subplans Removed'),
                      coalesce(bool_or(x ~ 'posts_default'), false) FROM unnest(lines) x;
END $$;
-- last 7 days: this month (maybe last month), the premade future ones, nothing older
SELECT scanned BETWEEN 1 AND 6 AS recent_only, removed FROM pg_temp.plan_partitions(
  $q$SELECT id FROM posts WHERE created_at >= now() - interval '7 days'$q$);
-- a closed 5-day window a few weeks back: one or two monthly partitions
SELECT scanned BETWEEN 1 AND 2 AS window_only, removed, scans_default FROM pg_temp.plan_partitions(
  $q$SELECT id FROM posts WHERE created_at >= now() - interval '40 days' AND created_at < now() - interval '35 days'
     ORDER BY rank_key DESC LIMIT 5$q$);
SELECT ff_run_maintenance();
DELETE FROM posts; DELETE FROM entities;
