-- A short tour of feed_fusion, printed by `make demo`.
\pset footer off
\echo
\echo '== Components and their modes (ff_status) =='
SELECT component, mode, detail FROM ff_status();

\echo '== Sample data (bench/gen, scale 1) =='
SELECT (SELECT count(*) FROM entities) AS entities, (SELECT count(*) FROM follows) AS follows,
       (SELECT count(*) FROM posts) AS posts, (SELECT count(*) FROM listings) AS listings,
       (SELECT count(*) FROM events) AS events;

\echo '== posts is partitioned monthly by pg_partman; a recent-posts query prunes old partitions =='
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'posts'::regclass;
EXPLAIN (COSTS OFF) SELECT id FROM posts WHERE created_at >= now() - interval '3 days' AND deleted_at IS NULL
ORDER BY rank_key DESC, id DESC LIMIT 5;

-- Act as the first user, the way PostgREST does.
SELECT owner_user_id AS demo_user FROM entities WHERE kind = 'person' ORDER BY handle LIMIT 1 \gset
SELECT set_config('request.jwt.claims', json_build_object('sub', :'demo_user', 'role', 'authenticated')::text, false) \gset cfg_
\echo '== Acting as user' :demo_user '=='
SELECT ff_current_user();

SELECT to_regprocedure('flags_for(uuid)') IS NOT NULL AS has_flags,
       to_regprocedure('check_rate_limit(text,integer)') IS NOT NULL AS has_rl,
       to_regprocedure('feed_fusion_home(text,text,integer)') IS NOT NULL AS has_feed,
       to_regprocedure('rocker_next_best_actions(integer)') IS NOT NULL AS has_nba,
       to_regclass('rpc_metrics_hourly') IS NOT NULL AS has_metrics \gset

\if :has_flags
\echo '== Feature flags for this user (flags_for) =='
SELECT flags_for();
\endif

\if :has_feed
\echo '== Home feed, lane for_you, first page of 10 (feed_fusion_home) =='
SET ROLE authenticated;
SELECT pos, item_kind, item_id, source, round(score::numeric, 4) AS score, left(cursor, 24) || '…' AS cursor
FROM feed_fusion_home('for_you', NULL, 10);
SELECT cursor AS next_cursor FROM feed_fusion_home('for_you', NULL, 10) WHERE pos = 10 \gset
\echo '== ...and the next page, resumed from the signed cursor =='
SELECT pos, item_kind, item_id, source, round(score::numeric, 4) AS score FROM feed_fusion_home('for_you', :'next_cursor', 5);
RESET ROLE;
\endif

\if :has_nba
\echo '== Next best actions for this user (rocker_next_best_actions) =='
SELECT * FROM rocker_next_best_actions(3);
\endif

\if :has_rl
\echo '== Rate limiter: 7 calls against the auth profile (5 per 5 minutes) =='
SELECT n, check_rate_limit('auth') AS allowed FROM generate_series(1, 7) n;
\endif

\if :has_metrics
\echo '== RPC latency metrics (rpc_metrics_hourly), from the calls above =='
SELECT rpc, calls, errors, round(p50_ms::numeric, 3) AS p50_ms, round(p99_ms::numeric, 3) AS p99_ms
FROM rpc_metrics_hourly ORDER BY rpc;
\endif
