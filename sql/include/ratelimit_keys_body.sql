-- Keys of any length: rate_limit_take / rate_limit_reset accept them in both modes
-- (table mode stores a key over 200 bytes as '#sha256:' || its hex SHA-256).
\set VERBOSITY terse
SELECT mode FROM ff_status() WHERE component = 'rate_limiter';

-- A 10 kB key that does not compress (so it would not fit a btree entry as it is),
-- and a second one that differs only in its last byte.
SELECT string_agg(md5(g::text), '') AS long FROM generate_series(1, 320) g \gset
SELECT length(:'long' || 'a') AS key_bytes;
SELECT 'a' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'a', 3, '1 hour', 2);
SELECT 'b' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'b', 3, '1 hour', 1);   -- its own bucket
SELECT 'a' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'a', 3, '1 hour', 0);   -- peek
SELECT 'a' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'a', 3, '1 hour', 2);   -- denied
SELECT rate_limit_reset(:'long' || 'a') AS a_was_live, rate_limit_reset(:'long' || 'a') AS a_again;
SELECT 'a' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'a', 3, '1 hour', 0);   -- full again
SELECT 'b' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'b', 3, '1 hour', 0);   -- untouched

-- Keys at the 200-byte bound, and a short key spelled like a long key's stored digest,
-- are buckets of their own.
SELECT '#sha256:' || encode(sha256(convert_to(:'long' || 'b', 'UTF8')), 'hex') AS digest_b \gset
SELECT k, t.allowed, t.remaining
FROM (VALUES ('k200', repeat('k', 200)), ('k201', repeat('k', 201)), ('digest_of_b', :'digest_b')) AS v(k, key),
     LATERAL rate_limit_take(v.key, 3, '1 hour', 1) AS t ORDER BY k;
SELECT k, t.allowed, t.remaining
FROM (VALUES ('k200', repeat('k', 200)), ('k201', repeat('k', 201)), ('digest_of_b', :'digest_b')) AS v(k, key),
     LATERAL rate_limit_take(v.key, 3, '1 hour', 0) AS t ORDER BY k;
SELECT 'b' AS k, allowed, remaining FROM rate_limit_take(:'long' || 'b', 3, '1 hour', 0);   -- still 2

-- check_rate_limit with a 10 kB x-forwarded-for (the client writes its left part).
SELECT tests.login_as('anon');
SELECT set_config('request.headers', '{"x-forwarded-for": "' || :'long' || ', 203.0.113.70"}', false) IS NOT NULL AS headers_set;
SELECT check_rate_limit('auth') AS long_header_allowed, ff_request_subject();
SELECT tests.reset();
