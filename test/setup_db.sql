-- Per-database test fixture: the extension, pgTAP, and the tests.* helpers to act as
-- a user the way PostgREST does (setup_helpers.sql).
CREATE EXTENSION IF NOT EXISTS feed_fusion CASCADE;
CREATE EXTENSION IF NOT EXISTS pgtap;
\ir setup_helpers.sql
