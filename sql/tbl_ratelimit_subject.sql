-- Rate limiter, table mode (no preload): the anonymous subject cannot be chosen by the
-- client, as in ratelimit_subject.sql; plus the settings' life before the library is
-- loaded (table mode loads it on first use).
-- Before the library is loaded, an app role can SET the names as placeholders; when the
-- library defines the settings (superuser-only) those values are discarded.
SET ROLE anon;
SET feed_fusion.trusted_proxy_hops = 3;
SET feed_fusion.client_ip_header = 'x-real-ip';
SELECT ff_request_subject() AS loads_the_library;
SHOW feed_fusion.trusted_proxy_hops;
SHOW feed_fusion.client_ip_header;
RESET ROLE;
\i sql/include/ratelimit_subject_body.sql

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset('auth:' || s)) AS cleaned
FROM unnest(ARRAY['ip:203.0.113.50', 'ip:203.0.113.51', 'ip:203.0.113.52', 'ip:203.0.113.60',
                  'ip:198.51.100.20', 'ip:198.51.100.21']) AS s;
SELECT count(*) AS rows_left FROM rate_limit_counters
WHERE key LIKE 'auth:ip:203.0.113.%' OR key LIKE 'auth:ip:198.51.100.%';
DROP SCHEMA rl_s CASCADE;
