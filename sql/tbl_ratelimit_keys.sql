-- Rate limiter, table mode (no preload): keys of any length, as in ratelimit_keys.sql.
-- A key over 200 bytes (or one starting with '#sha256:') is stored in
-- rate_limit_counters as '#sha256:' || hex SHA-256 of the key, so it fits the primary key.
\i sql/include/ratelimit_keys_body.sql

-- The stored forms: short keys as they are, long ones as their digest.
SELECT count(*) FILTER (WHERE key = repeat('k', 200)) AS k200_as_is,
       count(*) FILTER (WHERE key = '#sha256:' || encode(sha256(convert_to(repeat('k', 201), 'UTF8')), 'hex')) AS k201_digest,
       count(*) FILTER (WHERE key = :'digest_b') AS b_digest,
       count(*) FILTER (WHERE key = '#sha256:' || encode(sha256(convert_to(:'digest_b', 'UTF8')), 'hex')) AS digest_key_digest,
       count(*) FILTER (WHERE length(key) > 200) AS longer_than_200
FROM rate_limit_counters;

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset(k)) AS cleaned
FROM unnest(ARRAY[:'long' || 'b', repeat('k', 200), repeat('k', 201), :'digest_b', 'auth:ip:203.0.113.70']) AS k;
SELECT count(*) FILTER (WHERE key = repeat('k', 200)) AS k200_as_is,
       count(*) FILTER (WHERE key = '#sha256:' || encode(sha256(convert_to(repeat('k', 201), 'UTF8')), 'hex')) AS k201_digest,
       count(*) FILTER (WHERE key = :'digest_b') AS b_digest,
       count(*) FILTER (WHERE key = '#sha256:' || encode(sha256(convert_to(:'digest_b', 'UTF8')), 'hex')) AS digest_key_digest,
       count(*) FILTER (WHERE length(key) > 200) AS longer_than_200
FROM rate_limit_counters;
