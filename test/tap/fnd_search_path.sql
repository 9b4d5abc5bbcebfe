-- search_path hijack: a caller whose search_path puts a schema of their own
-- before pg_catalog, holding look-alikes of our functions, tables and operators, calls
-- our functions and reads RLS-protected tables: nothing of theirs is used (every
-- look-alike logs its calls), nothing leaks, and the caller's path is left as it was.
-- Also: every SQL/plpgsql function of the extension pins search_path.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT plan(17);

CREATE SCHEMA fnd_evil;
GRANT USAGE ON SCHEMA fnd_evil TO PUBLIC;
CREATE TABLE fnd_evil.calls (what text);
GRANT ALL ON fnd_evil.calls TO PUBLIC;
-- look-alike functions: each logs its call and lies
CREATE FUNCTION fnd_evil.ff_current_user() RETURNS uuid LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('ff_current_user'); RETURN tests.uid(1); END $$;
CREATE FUNCTION fnd_evil._ff_my_entities() RETURNS uuid[] LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_my_entities'); RETURN ARRAY[tests.uid(101)]; END $$;
CREATE FUNCTION fnd_evil._ff_restoring() RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_restoring'); RETURN true; END $$;
CREATE FUNCTION fnd_evil._ff_schema() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_schema'); RETURN 'fnd_evil'; END $$;
CREATE FUNCTION fnd_evil._ff_partman_schema() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_partman_schema'); RETURN 'fnd_evil'; END $$;
CREATE FUNCTION fnd_evil._ff_run_maintenance(text) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_run_maintenance'); END $$;
CREATE FUNCTION fnd_evil.run_maintenance(p_parent_table text DEFAULT NULL, p_analyze boolean DEFAULT NULL,
                                         p_jobmon boolean DEFAULT true) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('run_maintenance'); END $$;
CREATE FUNCTION fnd_evil._ff_status_flags() RETURNS TABLE (component text, mode text, detail jsonb) LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('_ff_status_flags'); RETURN QUERY SELECT 'pwned', 'pwned', '{}'::jsonb; END $$;
CREATE FUNCTION fnd_evil.current_setting(text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('current_setting'); RETURN '{"sub": "00000000-0000-4000-8000-000000000001"}'; END $$;
CREATE FUNCTION fnd_evil.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('current_setting2'); RETURN 'on'; END $$;
CREATE FUNCTION fnd_evil.jsonb_build_object(VARIADIC text[]) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('jsonb_build_object'); RETURN '{}'; END $$;
CREATE FUNCTION fnd_evil.array_agg_lie(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('op'); RETURN true; END $$;
-- look-alike operators (uuid = uuid always true; text = text always true)
CREATE OPERATOR fnd_evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = fnd_evil.array_agg_lie);
CREATE FUNCTION fnd_evil.text_eq_lie(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fnd_evil.calls VALUES ('op_text'); RETURN true; END $$;
CREATE OPERATOR fnd_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = fnd_evil.text_eq_lie);
-- look-alike tables
CREATE TABLE fnd_evil.entities (LIKE public.entities);
CREATE TABLE fnd_evil.feature_flags (LIKE public.feature_flags);
CREATE TABLE fnd_evil.posts (LIKE public.posts);
CREATE TABLE fnd_evil.part_config (parent_table text);
CREATE TABLE fnd_evil._ff_grants (LIKE public._ff_grants);
CREATE TABLE fnd_evil._ff_partman_config (LIKE public._ff_partman_config);
GRANT ALL ON ALL TABLES IN SCHEMA fnd_evil TO PUBLIC;
INSERT INTO fnd_evil.entities (id, owner_user_id, kind, handle, created_at)
  VALUES (tests.uid(101), tests.uid(2), 'person', 'evil', now());

-- Fixture: u1 owns entity 101 with a live and a deleted post, and a hidden item.
INSERT INTO entities (id, owner_user_id, handle) VALUES (tests.uid(101), tests.uid(1), 'fnd_sp_u1');
INSERT INTO posts (id, author_entity_id, body, deleted_at) VALUES
  (991001, tests.uid(101), 'live', NULL), (991002, tests.uid(101), 'deleted', now());
INSERT INTO feed_hides (user_id, item_kind, item_id) VALUES (tests.uid(1), 'post', 1);

-- Run q as p_role/p_user with the hostile search_path; returns the result as text,
-- followed by the search_path seen after q.
CREATE FUNCTION tests.fnd_hostile(p_role text, p_user uuid, q text) RETURNS text
  LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE r text; after text;
BEGIN
  PERFORM tests.login_as(p_role, p_user);
  PERFORM set_config('search_path', 'fnd_evil, pg_catalog, public, pg_temp', true);
  BEGIN
    EXECUTE q INTO r;
  EXCEPTION WHEN OTHERS THEN
    r := 'error ' || SQLSTATE || ': ' || SQLERRM;
  END;
  after := pg_catalog.current_setting('search_path');
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, public', true);
  PERFORM tests.reset();
  RETURN r || ' | ' || after;
END $$;

-- Control: the hostile path really does win for unqualified names.
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2), 'SELECT ff_current_user()::text'),
          tests.uid(1)::text || ' | fnd_evil, pg_catalog, public, pg_temp',
          'control: an unqualified call resolves to the look-alike');
DELETE FROM fnd_evil.calls;

SELECT is(tests.fnd_hostile('authenticated', tests.uid(2), 'SELECT public.ff_current_user()::text'),
          tests.uid(2)::text || ' | fnd_evil, pg_catalog, public, pg_temp',
          'ff_current_user() reads the real claims');
SELECT is(tests.fnd_hostile('anon', NULL, 'SELECT coalesce(public.ff_current_user()::text, ''null'')'),
          'null | fnd_evil, pg_catalog, public, pg_temp', 'anon stays anonymous');
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2),
            'SELECT string_agg(component || ''/'' || coalesce(mode, ''-''), '','' ORDER BY component) FROM public.ff_status()'),
          (SELECT string_agg(component || '/' || coalesce(mode, '-'), ',' ORDER BY component) FROM public.ff_status())
            || ' | fnd_evil, pg_catalog, public, pg_temp',
          'ff_status() returns the real components');
-- RLS-protected reads as another user: the look-alike ff_current_user/_ff_my_entities/=
-- would make u2 the owner of u1's deleted post and hides.
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2),
            'SELECT count(*)::text FROM public.posts WHERE id IN (991001, 991002)'),
          '1 | fnd_evil, pg_catalog, public, pg_temp', 'another user still sees only the live post');
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2), 'SELECT count(*)::text FROM public.feed_hides'),
          '0 | fnd_evil, pg_catalog, public, pg_temp', 'another user still sees none of the hides');
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2),
            'WITH u AS (UPDATE public.posts SET body = ''pwned'' WHERE id IN (991001, 991002) RETURNING 1) SELECT count(*)::text FROM u'),
          '0 | fnd_evil, pg_catalog, public, pg_temp', 'another user still updates none of the posts');
SELECT is(tests.fnd_hostile('authenticated', tests.uid(1),
            'SELECT count(*)::text FROM public.posts WHERE id IN (991001, 991002)'),
          '2 | fnd_evil, pg_catalog, public, pg_temp', 'the owner still sees both posts');
SELECT is(tests.fnd_hostile('authenticated', tests.uid(2),
            'SELECT count(*)::text FROM public.feature_flags'),
          (SELECT count(*)::text FROM public.feature_flags) || ' | fnd_evil, pg_catalog, public, pg_temp',
          'config reads come from the real table');
-- Superuser maintenance and grants with the hostile path.
SELECT is(tests.fnd_hostile('none', NULL, 'SELECT public.ff_run_maintenance()::text'),
          ' | fnd_evil, pg_catalog, public, pg_temp',
          'ff_run_maintenance() runs and gives the caller''s search_path back');
SELECT is(tests.fnd_hostile('none', NULL, 'SELECT (public.ff_apply_grants() > 0)::text'),
          'true | fnd_evil, pg_catalog, public, pg_temp', 'ff_apply_grants() runs');
SELECT is((SELECT count(*) FROM public.part_config), 0::bigint, 'maintenance left part_config as it found it');
SELECT is((SELECT count(*) FROM public._ff_partman_config WHERE config ? 'parent_table'), 3::bigint,
          'our partman configuration is intact');

SELECT is((SELECT array_agg(DISTINCT what) FROM fnd_evil.calls), NULL, 'no look-alike was ever called');
SELECT is((SELECT count(*) FROM fnd_evil.entities) + (SELECT count(*) FROM fnd_evil.feature_flags)
          + (SELECT count(*) FROM fnd_evil.posts) + (SELECT count(*) FROM fnd_evil.part_config)
          + (SELECT count(*) FROM fnd_evil._ff_grants) + (SELECT count(*) FROM fnd_evil._ff_partman_config),
          1::bigint, 'no look-alike table was written');

-- Every SQL/plpgsql function of the extension pins search_path to pg_catalog, pg_temp;
-- the one exception is the ff_run_maintenance() wrapper (see 05_partitions.sql), whose
-- body uses only schema-qualified names.
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'feed_fusion'
           JOIN pg_language l ON l.oid = p.prolang
           WHERE l.lanname NOT IN ('c', 'internal')
             AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c ~ '^search_path=pg_catalog, pg_temp$')
             AND p.oid <> 'public.ff_run_maintenance()'::regprocedure),
          NULL, 'every SQL/plpgsql function of the extension pins search_path');
SELECT is((SELECT p.proconfig IS NULL AND p.prosrc !~ '(^|[^.[:alnum:]_])[[:alpha:]_][[:alnum:]_]*[[:space:]]*\('
           FROM pg_proc p WHERE p.oid = 'public.ff_run_maintenance()'::regprocedure),
          true, 'ff_run_maintenance() calls only schema-qualified functions');

SELECT * FROM finish();
ROLLBACK;
