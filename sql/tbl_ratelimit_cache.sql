-- Rate limiter, table mode (no preload): the per-backend caches of per-statement work
-- follow every change, as in ratelimit_cache.sql.
\i sql/include/ratelimit_cache_body.sql
