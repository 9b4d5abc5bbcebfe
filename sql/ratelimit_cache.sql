-- Rate limiter, shared-memory mode: the per-backend caches of per-statement work follow
-- every change.  tbl_ratelimit_cache.sql runs the same in table mode.
\i sql/include/ratelimit_cache_body.sql
