-- Table mode (no shared_preload_libraries): the same checks as ratelimit_refill.sql.
\i sql/ratelimit_refill.sql
