-- Foreign triggers on tables the extension writes as its owner (foreign_triggers.inc),
-- shared-memory mode, in a database with Supabase's default privileges.
\ir supabase_db.inc
\ir foreign_triggers.inc
\ir supabase_db_done.inc
