-- RLS and privilege matrix: every table × role (anon, authenticated as the
-- owner u1, authenticated as another user u2, service_role) × SELECT/INSERT/UPDATE/
-- DELETE on rows that belong to u1, and TRUNCATE / CREATE TRIGGER (refused to every
-- role).  fnd_rls_matrix_supabase.sql runs it in a database with Supabase's default
-- privileges (test/tap/supabase_db.inc).  Each cell runs the statement as that role the way
-- PostgREST does (tests.login_as), undoes its effect, and compares "ok:<rows>" or
-- "err:<SQLSTATE>" with the expected outcome written in the matrix below.
BEGIN;
SET LOCAL client_min_messages = warning;

-- Run q as p_role/p_user; 'ok:<row count>' or 'err:<sqlstate>'.  Effects are undone.
CREATE FUNCTION tests.fnd_as(p_role text, p_user uuid, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint; r text;
BEGIN
  PERFORM tests.login_as(p_role, p_user);
  BEGIN
    EXECUTE q;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE EXCEPTION USING ERRCODE = 'FFT01', MESSAGE = n::text;
  EXCEPTION WHEN OTHERS THEN
    r := CASE WHEN SQLSTATE = 'FFT01' THEN 'ok:' || SQLERRM ELSE 'err:' || SQLSTATE END;
  END;
  PERFORM tests.reset();
  RETURN r;
END $$;

-- Fixture (as superuser): u1 = tests.uid(1) owns e1, u2 = tests.uid(2) owns e2.
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
  (tests.uid(101), tests.uid(1), 'person', 'fnd_u1'), (tests.uid(102), tests.uid(2), 'person', 'fnd_u2');
INSERT INTO follows (follower_user_id, entity_id) VALUES (tests.uid(1), tests.uid(102)), (tests.uid(2), tests.uid(101));
INSERT INTO posts (id, author_entity_id, body, deleted_at) VALUES
  (990001, tests.uid(101), 'live', NULL), (990002, tests.uid(101), 'deleted', now()),
  (990003, tests.uid(102), 'live', NULL), (990004, tests.uid(102), 'deleted', now());
INSERT INTO listings (id, seller_entity_id, title, price_cents, status) VALUES
  (990101, tests.uid(101), 'a', 1, 'active'), (990102, tests.uid(101), 'd', 1, 'draft'),
  (990103, tests.uid(101), 'r', 1, 'removed'), (990104, tests.uid(101), 's', 1, 'sold'),
  (990105, tests.uid(102), 'd2', 1, 'draft');
INSERT INTO events (id, host_entity_id, title, starts_at, ends_at) VALUES
  (990201, tests.uid(101), 'e1', now(), now()), (990202, tests.uid(102), 'e2', now(), now());
INSERT INTO feed_hides (user_id, item_kind, item_id) VALUES (tests.uid(1), 'post', 990003), (tests.uid(2), 'post', 990001);
INSERT INTO shopping_cart_items (user_id, listing_id) VALUES (tests.uid(1), 990101), (tests.uid(2), 990101);
INSERT INTO usage_events (user_id, event) VALUES (tests.uid(1), 'fnd_a'), (tests.uid(2), 'fnd_b');
INSERT INTO rate_limit_counters (key, tat) VALUES ('fnd_key', 0);
INSERT INTO rpc_metrics (rpc, bucket_start) VALUES ('fnd_rpc', date_trunc('minute', now()));

-- The matrix: statement, then the expected outcome for anon | owner (u1) | other (u2) | service_role.
CREATE TEMP TABLE m (n serial, tbl text, op text, q text, e_anon text, e_owner text, e_other text, e_service text);
INSERT INTO m (tbl, op, q, e_anon, e_owner, e_other, e_service) VALUES
 -- entities: readable by all; written by the owner
 ('entities', 'SELECT', $q$SELECT * FROM entities WHERE id IN (tests.uid(101), tests.uid(102))$q$, 'ok:2', 'ok:2', 'ok:2', 'ok:2'),
 ('entities', 'INSERT', $q$INSERT INTO entities (owner_user_id, kind, handle) VALUES (tests.uid(1), 'business', 'fnd_shop')$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('entities', 'UPDATE', $q$UPDATE entities SET bio = 'x' WHERE id = tests.uid(101)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('entities', 'UPDATE owner away', $q$UPDATE entities SET owner_user_id = tests.uid(3) WHERE id = tests.uid(101)$q$, 'err:42501', 'err:42501', 'ok:0', 'ok:1'),
 ('entities', 'DELETE', $q$DELETE FROM entities WHERE id = tests.uid(101)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 -- follows: readable by all; written by the follower
 ('follows', 'SELECT', $q$SELECT * FROM follows WHERE follower_user_id IN (tests.uid(1), tests.uid(2))$q$, 'ok:2', 'ok:2', 'ok:2', 'ok:2'),
 ('follows', 'INSERT', $q$INSERT INTO follows (follower_user_id, entity_id) VALUES (tests.uid(1), tests.uid(101))$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('follows', 'UPDATE', $q$UPDATE follows SET created_at = now() WHERE follower_user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('follows', 'DELETE', $q$DELETE FROM follows WHERE follower_user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 -- posts: live rows for everyone, deleted ones only for the author's owner; owner writes
 ('posts', 'SELECT', $q$SELECT * FROM posts WHERE id IN (990001, 990002)$q$, 'ok:1', 'ok:2', 'ok:1', 'ok:2'),
 ('posts', 'SELECT others deleted', $q$SELECT * FROM posts WHERE id IN (990003, 990004)$q$, 'ok:1', 'ok:1', 'ok:2', 'ok:2'),
 ('posts', 'INSERT', $q$INSERT INTO posts (author_entity_id, body) VALUES (tests.uid(101), 'new')$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('posts', 'UPDATE', $q$UPDATE posts SET body = 'x' WHERE id IN (990001, 990002)$q$, 'err:42501', 'ok:2', 'ok:0', 'ok:2'),
 ('posts', 'UPDATE author away', $q$UPDATE posts SET author_entity_id = tests.uid(102) WHERE id = 990001$q$, 'err:42501', 'err:42501', 'ok:0', 'ok:1'),
 ('posts', 'DELETE', $q$DELETE FROM posts WHERE id IN (990001, 990002)$q$, 'err:42501', 'ok:2', 'ok:0', 'ok:2'),
 -- listings: not draft/removed for everyone, all for the seller's owner; owner writes
 ('listings', 'SELECT', $q$SELECT * FROM listings WHERE id BETWEEN 990101 AND 990104$q$, 'ok:2', 'ok:4', 'ok:2', 'ok:4'),
 ('listings', 'SELECT others draft', $q$SELECT * FROM listings WHERE id = 990105$q$, 'ok:0', 'ok:0', 'ok:1', 'ok:1'),
 ('listings', 'INSERT', $q$INSERT INTO listings (seller_entity_id, title, price_cents) VALUES (tests.uid(101), 'n', 5)$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('listings', 'UPDATE', $q$UPDATE listings SET title = 'x' WHERE id BETWEEN 990101 AND 990104$q$, 'err:42501', 'ok:4', 'ok:0', 'ok:4'),
 ('listings', 'DELETE', $q$DELETE FROM listings WHERE id BETWEEN 990101 AND 990104$q$, 'err:42501', 'ok:4', 'ok:0', 'ok:4'),
 -- events: readable by all; host's owner writes
 ('events', 'SELECT', $q$SELECT * FROM events WHERE id IN (990201, 990202)$q$, 'ok:2', 'ok:2', 'ok:2', 'ok:2'),
 ('events', 'INSERT', $q$INSERT INTO events (host_entity_id, title, starts_at, ends_at) VALUES (tests.uid(101), 'n', now(), now())$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('events', 'UPDATE', $q$UPDATE events SET title = 'x' WHERE id = 990201$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('events', 'DELETE', $q$DELETE FROM events WHERE id = 990201$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 -- per-user tables: own rows only; another user's hides, cart and usage events are invisible and untouchable
 ('feed_hides', 'SELECT', $q$SELECT * FROM feed_hides WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('feed_hides', 'SELECT all', $q$SELECT * FROM feed_hides WHERE user_id IN (tests.uid(1), tests.uid(2))$q$, 'err:42501', 'ok:1', 'ok:1', 'ok:2'),
 ('feed_hides', 'INSERT', $q$INSERT INTO feed_hides (user_id, item_kind, item_id) VALUES (tests.uid(1), 'event', 990202)$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('feed_hides', 'UPDATE', $q$UPDATE feed_hides SET hidden_at = now() WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('feed_hides', 'UPDATE to other user', $q$UPDATE feed_hides SET user_id = tests.uid(2) WHERE user_id = tests.uid(1)$q$, 'err:42501', 'err:42501', 'ok:0', 'ok:1'),
 ('feed_hides', 'DELETE', $q$DELETE FROM feed_hides WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('shopping_cart_items', 'SELECT', $q$SELECT * FROM shopping_cart_items WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('shopping_cart_items', 'INSERT', $q$INSERT INTO shopping_cart_items (user_id, listing_id) VALUES (tests.uid(1), 990104)$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('shopping_cart_items', 'UPDATE', $q$UPDATE shopping_cart_items SET quantity = 3 WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('shopping_cart_items', 'UPDATE to other user', $q$UPDATE shopping_cart_items SET user_id = tests.uid(3) WHERE user_id = tests.uid(1)$q$, 'err:42501', 'err:42501', 'ok:0', 'ok:1'),
 ('shopping_cart_items', 'DELETE', $q$DELETE FROM shopping_cart_items WHERE user_id = tests.uid(1)$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('usage_events', 'SELECT', $q$SELECT * FROM usage_events WHERE user_id = tests.uid(1) AND event = 'fnd_a'$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('usage_events', 'INSERT', $q$INSERT INTO usage_events (user_id, event) VALUES (tests.uid(1), 'fnd_c')$q$, 'err:42501', 'ok:1', 'err:42501', 'ok:1'),
 ('usage_events', 'INSERT anonymous row', $q$INSERT INTO usage_events (user_id, event) VALUES (NULL, 'fnd_c')$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('usage_events', 'UPDATE', $q$UPDATE usage_events SET props = '{"x": 1}' WHERE user_id = tests.uid(1) AND event = 'fnd_a'$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 ('usage_events', 'DELETE', $q$DELETE FROM usage_events WHERE user_id = tests.uid(1) AND event = 'fnd_a'$q$, 'err:42501', 'ok:1', 'ok:0', 'ok:1'),
 -- configuration: read by authenticated, written by service_role
 ('feature_flags', 'SELECT', $q$SELECT * FROM feature_flags WHERE key = 'payments_real'$q$, 'err:42501', 'ok:1', 'ok:1', 'ok:1'),
 ('feature_flags', 'INSERT', $q$INSERT INTO feature_flags (key, enabled) VALUES ('fnd_flag', true)$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('feature_flags', 'UPDATE', $q$UPDATE feature_flags SET enabled = true WHERE key = 'payments_real'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('feature_flags', 'DELETE', $q$DELETE FROM feature_flags WHERE key = 'payments_real'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_profiles', 'SELECT', $q$SELECT * FROM rate_limit_profiles WHERE name = 'standard'$q$, 'err:42501', 'ok:1', 'ok:1', 'ok:1'),
 ('rate_limit_profiles', 'INSERT', $q$INSERT INTO rate_limit_profiles VALUES ('fnd_p', 1, '1 second')$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_profiles', 'UPDATE', $q$UPDATE rate_limit_profiles SET capacity = 1 WHERE name = 'standard'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_profiles', 'DELETE', $q$DELETE FROM rate_limit_profiles WHERE name = 'standard'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('feed_lanes', 'SELECT', $q$SELECT * FROM feed_lanes WHERE lane = 'shop'$q$, 'err:42501', 'ok:1', 'ok:1', 'ok:1'),
 ('feed_lanes', 'INSERT', $q$INSERT INTO feed_lanes VALUES ('fnd_lane', 1, 1, 1, 0.5, 10, 0)$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('feed_lanes', 'UPDATE', $q$UPDATE feed_lanes SET window_size = 5 WHERE lane = 'shop'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('feed_lanes', 'DELETE', $q$DELETE FROM feed_lanes WHERE lane = 'shop'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 -- service_role only
 ('rate_limit_counters', 'SELECT', $q$SELECT * FROM rate_limit_counters WHERE key = 'fnd_key'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_counters', 'INSERT', $q$INSERT INTO rate_limit_counters (key, tat) VALUES ('fnd_key2', 0)$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_counters', 'UPDATE', $q$UPDATE rate_limit_counters SET tat = 1 WHERE key = 'fnd_key'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rate_limit_counters', 'DELETE', $q$DELETE FROM rate_limit_counters WHERE key = 'fnd_key'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics', 'SELECT', $q$SELECT * FROM rpc_metrics WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics', 'INSERT', $q$INSERT INTO rpc_metrics (rpc, bucket_start) VALUES ('fnd_rpc2', date_trunc('minute', now()))$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics', 'UPDATE', $q$UPDATE rpc_metrics SET calls = 5 WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics', 'DELETE', $q$DELETE FROM rpc_metrics WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics_rollup', 'SELECT', $q$SELECT * FROM rpc_metrics_rollup WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics_rollup', 'INSERT', $q$INSERT INTO rpc_metrics_rollup (rpc, hour, calls, errors, total_ms, max_ms) VALUES ('fnd_rpc3', date_trunc('hour', now()), 0, 0, 0, 0)$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics_rollup', 'UPDATE', $q$UPDATE rpc_metrics_rollup SET calls = 5 WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 ('rpc_metrics_rollup', 'DELETE', $q$DELETE FROM rpc_metrics_rollup WHERE rpc = 'fnd_rpc'$q$, 'err:42501', 'err:42501', 'err:42501', 'ok:1'),
 -- partitions, templates and internals are not a way around the parent's RLS
 ('posts_default', 'SELECT', $q$SELECT * FROM posts_default$q$, 'err:42501', 'err:42501', 'err:42501', 'err:42501'),
 ('usage_events_default', 'SELECT', $q$SELECT * FROM usage_events_default$q$, 'err:42501', 'err:42501', 'err:42501', 'err:42501'),
 ('_ff_template_posts', 'INSERT', $q$INSERT INTO _ff_template_posts (id, author_entity_id, created_at) VALUES (1, tests.uid(101), now())$q$, 'err:42501', 'err:42501', 'err:42501', 'err:42501'),
 ('_ff_partman_config', 'UPDATE', $q$UPDATE _ff_partman_config SET config = '{}'$q$, 'err:42501', 'err:42501', 'err:42501', 'err:42501'),
 ('_ff_grants', 'INSERT', $q$INSERT INTO _ff_grants VALUES ('TABLE', 'rpc_metrics', 'SELECT', 'anon')$q$, 'err:42501', 'err:42501', 'err:42501', 'err:42501');
-- TRUNCATE and CREATE TRIGGER on every table above (and the cursor secret): RLS does
-- not govern them — TRUNCATE empties a table whatever its policies, a trigger runs its
-- code as whoever writes the table, the extension owner included — so no role may.
INSERT INTO m (tbl, op, q, e_anon, e_owner, e_other, e_service)
SELECT x.t, c.op, format(c.q, x.t), 'err:42501', 'err:42501', 'err:42501', 'err:42501'
FROM (SELECT DISTINCT tbl AS t FROM m UNION SELECT '_ff_feed_secret') x,
     (VALUES ('TRUNCATE', 'TRUNCATE %I CASCADE'),
             ('CREATE TRIGGER', 'CREATE TRIGGER fnd_foreign AFTER INSERT ON %I FOR EACH STATEMENT '
                                'EXECUTE FUNCTION suppress_redundant_updates_trigger()')) c (op, q)
ORDER BY x.t, c.op;

SELECT plan((SELECT count(*)::int * 4 + 4 FROM m));

SELECT is(tests.fnd_as(a.role, a.uid, m.q), a.expected,
          format('%s %s as %s: %s', m.tbl, m.op, a.who, a.expected))
FROM m CROSS JOIN LATERAL (VALUES
  (1, 'anon', NULL::uuid, 'anon', m.e_anon),
  (2, 'authenticated', tests.uid(1), 'owner', m.e_owner),
  (3, 'authenticated', tests.uid(2), 'other user', m.e_other),
  (4, 'service_role', NULL::uuid, 'service_role', m.e_service)) AS a(k, role, uid, who, expected)
ORDER BY m.n, a.k;

-- Every table of ours is in the matrix (a new table must be added here), has RLS on,
-- and no partition is reachable by an app role.
SELECT is((SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c
           WHERE c.relnamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'feed_fusion')
             AND c.relkind IN ('r', 'p') AND c.relname !~ '^_ff_'
             AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e'
                         AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'))
             AND c.relname NOT IN (SELECT tbl FROM m)),
          NULL, 'every table of the extension is covered by the matrix');
SELECT is((SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c
           JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'feed_fusion'
           WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity),
          NULL, 'RLS is enabled on every table of the extension');
SELECT is((SELECT count(*) FROM pg_inherits i CROSS JOIN (VALUES ('anon'), ('authenticated')) r(role)
           WHERE i.inhparent IN ('posts'::regclass, 'usage_events'::regclass, 'rpc_metrics'::regclass)
             AND has_table_privilege(r.role, i.inhrelid, 'SELECT, INSERT, UPDATE, DELETE')),
          0::bigint, 'no partition is reachable by anon or authenticated directly');

-- Policies are scoped TO the roles they are for (Supabase practice: a policy is not
-- evaluated for other roles): reads of public content for anon and authenticated,
-- everything else for authenticated.
SELECT is((SELECT array_agg(tablename || '.' || policyname || '=' || array_to_string(roles, '+')
                            ORDER BY tablename, policyname)
           FROM pg_policies p WHERE schemaname = 'public'
             AND roles <> CASE WHEN tablename IN ('entities', 'follows', 'posts', 'listings', 'events')
                                    AND cmd = 'SELECT' THEN '{anon,authenticated}'::name[]
                               ELSE '{authenticated}'::name[] END),
          NULL, 'every policy is scoped TO exactly its roles');

SELECT * FROM finish();
ROLLBACK;
