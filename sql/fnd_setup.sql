-- Setup of the pg_regress database, first in `make installcheck` (see the Makefile):
-- what test/run.sh prepares before the tests — the Supabase roles (cluster-wide,
-- created when missing), the extension, and the tests.* helpers.  Paths are relative to
-- the top of the source tree, where both run pg_regress.  Running it again changes
-- nothing.
SET client_min_messages = warning;
-- Install with the settings of test/run.sh's install, not pg_regress's (PST8PDT,
-- postgres_verbose intervals): the partition config keeps intervals as text.
SET timezone = 'UTC';
SET datestyle = 'ISO, MDY';
SET intervalstyle = 'postgres';
\set ECHO none
\i test/setup_roles.sql
CREATE EXTENSION IF NOT EXISTS feed_fusion CASCADE;
\i test/setup_helpers.sql
\set ECHO all
RESET ALL;
SELECT rolname, rolbypassrls FROM pg_roles
WHERE rolname IN ('anon', 'authenticated', 'service_role', 'authenticator') ORDER BY 1;
SELECT extname FROM pg_extension WHERE extname IN ('feed_fusion', 'pg_partman') ORDER BY 1;
SELECT tests.uid(1);
