-- The whole RLS and privilege matrix (fnd_rls_matrix.sql) in a database prepared with
-- Supabase's default privileges (supabase_db.inc) before CREATE EXTENSION: the install
-- must take away what ALTER DEFAULT PRIVILEGES gave the app roles.
\ir supabase_db.inc
\ir fnd_rls_matrix.sql
\ir supabase_db_done.inc
