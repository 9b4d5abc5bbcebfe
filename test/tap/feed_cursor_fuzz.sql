-- Cursor decoder fuzz test: random bytes, bit flips, truncations, extensions, huge
-- inputs and replays by another viewer / lane / function must all raise SQLSTATE
-- 22023 — never succeed, never another error, never crash.  Bounded: ~2,000 cases.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
SELECT plan(16);

-- base64url <-> bytea helpers (test-local)
CREATE FUNCTION tests.b64u_dec(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT decode(translate(t, '-_', '+/') || repeat('=', (4 - length(t) % 4) % 4), 'base64') $$;
CREATE FUNCTION tests.b64u_enc(b bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT rtrim(translate(replace(encode(b, 'base64'), E'\n', ''), '+/', '-_'), '=') $$;
-- Try p_cursor on a function; returns 'ok', '22023' or the other SQLSTATE.
CREATE FUNCTION tests.try_cursor(p_fn text, p_cursor text, p_lane text DEFAULT 'for_you', p_viewer uuid DEFAULT NULL)
  RETURNS text LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  IF p_fn = 'home' THEN PERFORM * FROM feed_fusion_home(p_lane, p_cursor, 10);
  ELSIF p_fn = 'home_for' THEN PERFORM * FROM feed_fusion_home_for(p_viewer, p_lane, p_cursor, 10);
  ELSE PERFORM * FROM feed_fusion_profile(tests.uid(1002), p_cursor, 10);
  END IF;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO PUBLIC;

SELECT tests.login_as('authenticated', tests.uid(1));
SELECT cursor AS c FROM feed_fusion_home('for_you', NULL, 10) WHERE pos = 10 \gset
SELECT cursor AS pc FROM feed_fusion_profile(tests.uid(1002), NULL, 3) WHERE pos = 3 \gset
SELECT is(tests.try_cursor('home', :'c'), 'ok', 'the genuine cursor works');
SELECT ok(length(:'c') <= 256 AND :'c' ~ '^[A-Za-z0-9_-]+$', 'cursor is URL-safe and <= 256 chars');
SELECT is(tests.try_cursor('home', :'c', 'combined'), 'ok', 'legacy lane name accepts the canonical lane''s cursor');
SELECT is(tests.try_cursor('profile', :'pc'), 'ok', 'the genuine profile cursor works');

SELECT setseed(0.7);
-- random base64url strings of every length 1..300 ('' is tested with the truncations)
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', (SELECT string_agg(substr('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
                                     1 + (random() * 63)::int, 1), '') FROM generate_series(1, len + 0 * g))) r
  FROM generate_series(1, 300) len, generate_series(1, 2) g) z), ARRAY['22023'], 'random base64url strings: 22023');
-- random bytes (any character, incl. multibyte and control)
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', (SELECT string_agg(chr(1 + (random() * 1000)::int), '') FROM generate_series(1, 1 + (g % 200)))) r
  FROM generate_series(1, 200) g) z), ARRAY['22023'], 'random characters: 22023');
-- random payloads of plausible size, properly encoded
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', tests.b64u_enc((SELECT string_agg(decode(lpad(to_hex((random() * 255)::int), 2, '0'), 'hex'), ''::bytea)
                                                 FROM generate_series(1, 20 + g % 150)))) r
  FROM generate_series(1, 300) g) z), ARRAY['22023'], 'random encoded payloads: 22023');
-- every single-bit flip of the genuine cursor's bytes
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', tests.b64u_enc(set_bit(tests.b64u_dec(:'c'), b, 1 - get_bit(tests.b64u_dec(:'c'), b)))) r
  FROM generate_series(0, length(tests.b64u_dec(:'c')) * 8 - 1) b) z), ARRAY['22023'], 'every bit flip: 22023');
-- every truncation, and every single-character edit at random positions
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', left(:'c', n)) r FROM generate_series(0, length(:'c') - 1) n) z),
  ARRAY['22023'], 'every truncation: 22023');
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', e) r FROM (
    SELECT overlay(:'c' PLACING substr('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 1 + (random() * 63)::int, 1)
                   FROM 1 + (random() * (length(:'c') - 1))::int FOR 1) e
    FROM generate_series(1, 300) g) ed WHERE e <> :'c') z), ARRAY['22023'],
  'random character edits: 22023') ;
-- extensions and huge inputs
SELECT is((SELECT array_agg(DISTINCT r) FROM (
  SELECT tests.try_cursor('home', :'c' || x) r FROM unnest(ARRAY['A', 'AA', 'AAA', 'AAAA', '=', '==', ' ', E'\n']) x
  UNION ALL SELECT tests.try_cursor('home', repeat('A', n)) FROM unnest(ARRAY[257, 10000, 1000000]) n
  UNION ALL SELECT tests.try_cursor('home', repeat(:'c', 50))) z), ARRAY['22023'], 'extensions and huge inputs: 22023');
-- replays: other lane, other function, other viewer, anonymous
SELECT is(ARRAY[tests.try_cursor('home', :'c', 'shop'), tests.try_cursor('home', :'c', 'following'),
                tests.try_cursor('profile', :'c'), tests.try_cursor('home', :'pc')],
          ARRAY['22023', '22023', '22023', '22023'], 'other lane / other function: 22023');
SELECT tests.login_as('authenticated', tests.uid(2));
SELECT is(ARRAY[tests.try_cursor('home', :'c'), tests.try_cursor('profile', :'pc')], ARRAY['22023', '22023'],
          'another viewer replaying the cursor: 22023');
SELECT tests.login_as('anon', NULL);
SELECT is(tests.try_cursor('home', :'c'), '22023', 'anonymous replay: 22023');
SELECT tests.login_as('service_role', NULL);
SELECT is(ARRAY[tests.try_cursor('home_for', :'c', 'for_you', tests.uid(1)), tests.try_cursor('home_for', :'c', 'for_you', tests.uid(2)),
                tests.try_cursor('home_for', :'c', 'for_you', NULL)],
          ARRAY['ok', '22023', '22023'], 'home_for: the viewer''s own feed accepts it, others do not');
SELECT tests.reset();
-- a rotated secret invalidates outstanding cursors
SELECT ff_feed_rotate_secret();
SELECT tests.login_as('authenticated', tests.uid(1));
SELECT is(tests.try_cursor('home', :'c'), '22023', 'after ff_feed_rotate_secret() old cursors are rejected');
SELECT tests.reset();
SELECT * FROM finish();
ROLLBACK;
