-- Rate limiter (docs/rate_limiter.md), table mode (no preload): the same worked examples, bad
-- input, roles and profiles as ratelimit_api.sql, plus table-mode specifics: a clear
-- 25006 in READ ONLY transactions, and calls that roll back with their transaction.  Timing never matters: periods are long, and time-dependent numbers
\i sql/include/ratelimit_api_body.sql
-- READ ONLY transactions: a clear 25006 rather than a silent allow; peeks still work.
BEGIN READ ONLY;
SELECT rl_t.err('SELECT check_rate_limit(''rl_none_such_scope'')') AS read_only_check;
SELECT rl_t.err('SELECT * FROM rate_limit_take(''rl:i'', 2, ''1 hour'', 1)') AS read_only_take,
       rl_t.err('SELECT rate_limit_reset(''rl:i'')') AS read_only_reset;
SELECT check_rate_limit('standard', 0) AS read_only_peek;
SELECT rl_t.take('rl:i', 2, '1 hour', 0, 0, 0) AS read_only_take_peek;
ROLLBACK;
-- A call is part of its transaction: rolled back, it is given back.
BEGIN;
SELECT rl_t.take('rl:i', 2, '1 hour', 2, 0, 3600000) AS in_xact;
ROLLBACK;
SELECT rl_t.take('rl:i', 2, '1 hour', 1, 0, 1800000) AS after_rollback;
SELECT mode, (detail ->> 'live_keys')::int > 0 AS has_live_keys,
       (SELECT count(*) FROM rate_limit_counters) = (detail ->> 'rows')::int AS rows_match
FROM ff_status() WHERE component = 'rate_limiter';
-- Storage holds one row per key, updated in place (HOT), never one per call.
SELECT count(*) AS calls_allowed FROM generate_series(1, 50) g,
  LATERAL rate_limit_take('rl:j' || repeat('', g), 1000, '1 hour') t WHERE t.allowed;
SELECT count(*) AS rows_for_rl_j FROM rate_limit_counters WHERE key = 'rl:j';
-- Rows of buckets full for over a minute are swept by the calls themselves (a few
-- blocks every 64 calls), so keys seen once do not pile up.
INSERT INTO rate_limit_counters SELECT 'rl_stale:' || g, 1 FROM generate_series(1, 5000) g;
SELECT count(*) FILTER (WHERE t.allowed) AS fresh_allowed FROM generate_series(1, 1280) g,
  LATERAL rate_limit_take('rl_fresh:' || g, 1, '1 hour') t;
SELECT count(*) < 5000 AS stale_rows_swept FROM rate_limit_counters WHERE key LIKE 'rl\_stale:%';
SELECT count(*) AS fresh_rows_kept FROM rate_limit_counters WHERE key LIKE 'rl\_fresh:%';
DELETE FROM rate_limit_counters WHERE key LIKE 'rl\_stale:%' OR key LIKE 'rl\_fresh:%';

-- Table-mode SQL runs as the table owner and names pg_catalog's operators, so a
-- caller's search_path cannot slip its own operator into it.
CREATE SCHEMA rl_evil;
CREATE FUNCTION rl_evil.plus(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'rl_evil operator ran'; END $$;
CREATE OPERATOR rl_evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = rl_evil.plus);
SET search_path = rl_evil, pg_catalog, public;
SELECT 1::bigint + 1::bigint AS evil_operator_is_live;
SELECT allowed, remaining FROM rate_limit_take('rl:k', 5, '1 hour');
SELECT check_rate_limit('expensive', 0) AS peek, rate_limit_reset('rl:k') AS reset;
RESET search_path;
DROP SCHEMA rl_evil CASCADE;

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset(k)) > 0 AS cleaned
FROM unnest(ARRAY['rl:a', 'rl:b', 'rl:c', 'rl:d', 'rl:e', 'rl:f', 'rl:g', 'rl:h', 'rl:i', 'rl:j',
                  'auth:u:' || tests.uid(1), 'auth:u:' || tests.uid(2), 'expensive:u:' || tests.uid(1),
                  'standard:u:' || tests.uid(2), 'auth:ip:203.0.113.7', 'auth:ip:203.0.113.8',
                  'expensive:anon', 'standard:anon']) k;
DROP SCHEMA rl_t CASCADE;
