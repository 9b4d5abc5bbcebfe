-- Rate limiter, shared-memory mode: keys of any length (10 kB keys, keys differing in
-- their last byte, the 200-byte bound of table mode).  tbl_ratelimit_keys.sql runs the
-- same in table mode.
\i sql/include/ratelimit_keys_body.sql

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset(k)) AS cleaned
FROM unnest(ARRAY[:'long' || 'b', repeat('k', 200), repeat('k', 201), :'digest_b', 'auth:ip:203.0.113.70']) AS k;
