-- Rate limiter, shared-memory mode: the anonymous subject cannot be chosen by the client
-- (client_ip_header, trusted_proxy_hops).  tbl_ratelimit_subject.sql runs the same in
-- table mode.
\i sql/include/ratelimit_subject_body.sql

-- Leave the database as we found it.
SELECT count(*) FILTER (WHERE rate_limit_reset('auth:' || s)) AS cleaned
FROM unnest(ARRAY['ip:203.0.113.50', 'ip:203.0.113.51', 'ip:203.0.113.52', 'ip:203.0.113.60',
                  'ip:198.51.100.20', 'ip:198.51.100.21']) AS s;
DROP SCHEMA rl_s CASCADE;
