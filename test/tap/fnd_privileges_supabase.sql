-- fnd_privileges.sql in a database prepared with Supabase's default privileges
-- (supabase_db.inc: ALL on every new table, function and sequence in public for anon,
-- authenticated and service_role) before CREATE EXTENSION, pg_partman in its own schema.
\ir supabase_db.inc
\ir fnd_privileges.sql
\ir supabase_db_done.inc
