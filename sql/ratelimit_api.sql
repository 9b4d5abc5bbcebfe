-- Rate limiter (docs/rate_limiter.md), shared-memory mode: worked examples, bad input, roles,
-- profiles and READ ONLY transactions.  tbl_ratelimit_api.sql runs the same in
-- table mode.  Timing never matters: periods are long, and time-dependent numbers
\i sql/include/ratelimit_api_body.sql
-- READ ONLY transactions (PostgREST GETs) and status.
BEGIN READ ONLY;
SELECT check_rate_limit('rl_none_such_scope') AS read_only_check;
SELECT rl_t.take('rl:i', 2, '1 hour', 1, 0, 1800000) AS read_only_take;
ROLLBACK;
SELECT rl_t.take('rl:i', 2, '1 hour', 1, 0, 3600000) AS kept_after_rollback;
SELECT mode, detail ? 'evictions' AS has_evictions, (detail ->> 'live_keys')::int > 0 AS has_live_keys,
       (detail ->> 'bytes_per_key')::float8 <= 64 AS small_keys
FROM ff_status() WHERE component = 'rate_limiter';

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset(k)) > 0 AS cleaned
FROM unnest(ARRAY['rl:a', 'rl:b', 'rl:c', 'rl:d', 'rl:e', 'rl:f', 'rl:g', 'rl:h', 'rl:i',
                  'auth:u:' || tests.uid(1), 'auth:u:' || tests.uid(2), 'expensive:u:' || tests.uid(1),
                  'standard:u:' || tests.uid(2), 'auth:ip:203.0.113.7', 'auth:ip:203.0.113.8',
                  'expensive:anon', 'standard:anon']) k;
DROP SCHEMA rl_t CASCADE;
