-- feed_fusion_profile: one entity's live items newest first, minus the viewer's hides,
-- with the same cursor guarantees.
BEGIN;
\set QUIET 1
\ir feed_fixture.inc
SELECT plan(9);

CREATE FUNCTION tests.ff_pwalk(p_entity uuid, p_size int)
  RETURNS TABLE (n int, pos int, item_kind text, item_id bigint, created_at timestamptz, cursor_null boolean)
  LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE c text; r record; got int;
BEGIN
  n := 0;
  LOOP
    got := 0;
    FOR r IN SELECT * FROM feed_fusion_profile(p_entity, c, p_size) LOOP
      n := n + 1; got := got + 1; pos := r.pos; item_kind := r.item_kind; item_id := r.item_id;
      created_at := r.created_at; cursor_null := r.cursor IS NULL; c := r.cursor;
      RETURN NEXT;
    END LOOP;
    EXIT WHEN got = 0 OR c IS NULL;
  END LOOP;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO PUBLIC;
-- same created_at across tables to exercise the tie order (posts, listings, events by id)
INSERT INTO posts (id, author_entity_id, created_at) OVERRIDING SYSTEM VALUE VALUES (800001, tests.uid(1002), now() - interval '1 hour');
INSERT INTO listings (id, seller_entity_id, title, price_cents, created_at) OVERRIDING SYSTEM VALUE VALUES (800001, tests.uid(1002), 'x', 1, now() - interval '1 hour');
INSERT INTO events (id, host_entity_id, title, starts_at, ends_at, created_at) OVERRIDING SYSTEM VALUE
  VALUES (800001, tests.uid(1002), 'x', now(), now() + interval '1 day', now() - interval '1 hour');

-- expected: live items of entity uid(1002) minus viewer 1's hides, newest first, ties by id
CREATE TEMP TABLE expect AS
SELECT row_number() OVER (ORDER BY created_at DESC, id DESC, t) AS n, kind, id FROM (
  SELECT kind, id, created_at, 0 t FROM posts WHERE author_entity_id = tests.uid(1002) AND deleted_at IS NULL
    AND id NOT IN (SELECT item_id FROM feed_hides WHERE user_id = tests.uid(1) AND item_kind = 'post')
  UNION ALL SELECT 'listing', id, created_at, 1 FROM listings WHERE seller_entity_id = tests.uid(1002) AND status = 'active'
    AND id NOT IN (SELECT item_id FROM feed_hides WHERE user_id = tests.uid(1) AND item_kind = 'listing')
  UNION ALL SELECT 'event', id, created_at, 2 FROM events WHERE host_entity_id = tests.uid(1002) AND ends_at > now()
    AND id NOT IN (SELECT item_id FROM feed_hides WHERE user_id = tests.uid(1) AND item_kind = 'event')) z;
GRANT SELECT ON expect TO PUBLIC;

SELECT tests.login_as('authenticated', tests.uid(1));
CREATE TEMP TABLE pw AS SELECT s.size, x.* FROM unnest(ARRAY[1, 3, 50]) s(size) CROSS JOIN LATERAL tests.ff_pwalk(tests.uid(1002), s.size) x;
SELECT cmp_ok((SELECT count(*)::int FROM expect), '>', 10, 'fixture: the entity has items');
SELECT is((SELECT array_agg(item_kind || item_id ORDER BY n) FROM pw WHERE size = 50),
          (SELECT array_agg(kind || id ORDER BY n) FROM expect), 'live items, newest first, minus hides');
SELECT is((SELECT array_agg(item_kind || item_id ORDER BY n) FROM pw WHERE size = 3),
          (SELECT array_agg(item_kind || item_id ORDER BY n) FROM pw WHERE size = 50), 'pages of 3 = one page of 50');
SELECT is((SELECT array_agg(item_kind || item_id ORDER BY n) FROM pw WHERE size = 1),
          (SELECT array_agg(item_kind || item_id ORDER BY n) FROM pw WHERE size = 50), 'pages of 1 = one page of 50 (ties across tables)');
SELECT ok((SELECT bool_and(cursor_null = (n = (SELECT max(n) FROM pw p2 WHERE p2.size = pw.size))) FROM pw),
          'only the last row has a NULL cursor');
SELECT ok(NOT EXISTS (SELECT 1 FROM pw WHERE pos <> n), 'pos counts over the whole sequence');
SELECT tests.login_as('anon', NULL);
SELECT cmp_ok((SELECT count(*)::int FROM tests.ff_pwalk(tests.uid(1002), 50)), '>=', (SELECT count(*)::int FROM expect),
              'anonymous viewers see the profile (without anyone''s hides)');
SELECT is((SELECT count(*)::int FROM feed_fusion_profile(tests.uid(999999))), 0, 'unknown entity: no rows');
SELECT throws_ok($$SELECT * FROM feed_fusion_profile(NULL)$$, '22023', NULL, 'NULL entity: 22023');
SELECT tests.reset();
SELECT * FROM finish();
ROLLBACK;
