-- Table mode (no shared_preload_libraries): the same checks as feed_basic.sql.
\i sql/feed_basic.sql
