-- 60_feed.sql — feed fusion RPCs: home feed, profile feed, next best actions,
-- and the per-database secret that signs feed cursors.  See docs/feed.md.

-- 32 strong random bytes (pg_strong_random) for the cursor secret.
CREATE FUNCTION _ff_feed_random_secret() RETURNS bytea
  LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', '_ff_feed_random_secret';

-- The cursor-signing secret: one row, created at install, owner-only.  pg_dump keeps
-- it (config dump), and a restore does not regenerate it (the dumped row is loaded),
-- so cursors issued before a dump stay valid after the restore.
CREATE TABLE _ff_feed_secret (
  id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  secret      bytea NOT NULL CHECK (length(secret) >= 16),
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE _ff_feed_secret ENABLE ROW LEVEL SECURITY;   -- no policies: app roles see nothing
REVOKE ALL ON _ff_feed_secret FROM PUBLIC;
INSERT INTO _ff_feed_secret (id, secret)
SELECT 1, _ff_feed_random_secret() WHERE NOT _ff_restoring();
SELECT pg_catalog.pg_extension_config_dump('_ff_feed_secret', '');

-- Replace the secret: every cursor issued so far becomes invalid (22023).
CREATE FUNCTION ff_feed_rotate_secret() RETURNS void
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO @extschema@._ff_feed_secret (id, secret, created_at)
  VALUES (1, @extschema@._ff_feed_random_secret(), now())
  ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at
$$;
COMMENT ON FUNCTION ff_feed_rotate_secret() IS
  'Generate a new feed cursor secret (invalidates every outstanding cursor); extension owner only';

-- Covering indexes for the ranker's source scans: with them every source query is an
-- index-only scan (no heap fetch per candidate), which roughly halves the buffers a
-- page touches (bench/feed/README.md).  Same keys as the base indexes in 10_tables.sql.
CREATE INDEX posts_feed_rank_cover_idx ON posts (rank_key DESC, id DESC)
  INCLUDE (author_entity_id, kind, created_at) WHERE deleted_at IS NULL;
CREATE INDEX posts_feed_author_cover_idx ON posts (author_entity_id, rank_key DESC, id DESC)
  INCLUDE (kind, created_at) WHERE deleted_at IS NULL;
CREATE INDEX events_feed_rank_cover_idx ON events (rank_key DESC, id DESC)
  INCLUDE (host_entity_id, created_at, ends_at);
CREATE INDEX events_feed_host_cover_idx ON events (host_entity_id, rank_key DESC, id DESC)
  INCLUDE (created_at, ends_at);
CREATE INDEX listings_feed_rank_cover_idx ON listings (rank_key DESC, id DESC)
  INCLUDE (seller_entity_id, created_at) WHERE status = 'active';

-- The four RPCs are read-only (STABLE, fine in READ ONLY transactions) and return a
-- materialized set; their bodies run as the extension owner (see src/feed.c).
CREATE FUNCTION feed_fusion_home(p_lane text DEFAULT 'for_you', p_cursor text DEFAULT NULL,
                                 p_limit int DEFAULT 20)
  RETURNS TABLE (pos int, item_kind text, item_id bigint, entity_id uuid, source text,
                 score float8, created_at timestamptz, cursor text)
  LANGUAGE c STABLE ROWS 20 SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'feed_fusion_home';
COMMENT ON FUNCTION feed_fusion_home(text, text, int) IS
  'Home feed page for the current user: blended network/discover/listings per feed_lanes; pass the last row''s cursor for the next page';

CREATE FUNCTION feed_fusion_home_for(p_viewer uuid, p_lane text, p_cursor text, p_limit int)
  RETURNS TABLE (pos int, item_kind text, item_id bigint, entity_id uuid, source text,
                 score float8, created_at timestamptz, cursor text)
  LANGUAGE c STABLE ROWS 20 SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'feed_fusion_home_for';
COMMENT ON FUNCTION feed_fusion_home_for(uuid, text, text, int) IS
  'Home feed page for any viewer (NULL: anonymous); service_role only';

CREATE FUNCTION feed_fusion_profile(p_entity_id uuid, p_cursor text DEFAULT NULL, p_limit int DEFAULT 20)
  RETURNS TABLE (pos int, item_kind text, item_id bigint, entity_id uuid, source text,
                 score float8, created_at timestamptz, cursor text)
  LANGUAGE c STABLE ROWS 20 SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'feed_fusion_profile';
COMMENT ON FUNCTION feed_fusion_profile(uuid, text, int) IS
  'One entity''s live posts, reels, listings and events, newest first, minus the viewer''s hides';

CREATE FUNCTION rocker_next_best_actions(p_limit int DEFAULT 3)
  RETURNS TABLE (action text, title text, weight float8, reason text)
  LANGUAGE c STABLE ROWS 4 SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'rocker_next_best_actions';
COMMENT ON FUNCTION rocker_next_best_actions(int) IS
  'Weighted suggestions for the current user: complete_profile, list_first_item, engage, follow_creators';

CREATE FUNCTION _ff_feed_status() RETURNS jsonb
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'ff_feed_status';
COMMENT ON FUNCTION _ff_feed_status() IS
  'The feed''s ff_status() detail: cursor version and secret, lanes, network strategy';

CREATE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, 'table'::text, @extschema@._ff_feed_status()
$$;

REVOKE EXECUTE ON FUNCTION _ff_feed_random_secret(), ff_feed_rotate_secret(),
  feed_fusion_home_for(uuid, text, text, int) FROM PUBLIC;

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', 'feed_fusion_home(text, text, int)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'feed_fusion_home(text, text, int)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'feed_fusion_home(text, text, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'feed_fusion_home_for(uuid, text, text, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'feed_fusion_profile(uuid, text, int)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'feed_fusion_profile(uuid, text, int)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'feed_fusion_profile(uuid, text, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rocker_next_best_actions(int)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'rocker_next_best_actions(int)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'rocker_next_best_actions(int)', 'EXECUTE', 'service_role'),
  -- for ff_status() (not SECURITY DEFINER: it reads through the C function as the owner)
  ('FUNCTION', '_ff_feed_status()', 'EXECUTE', 'anon'),
  ('FUNCTION', '_ff_feed_status()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', '_ff_feed_status()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_status_feed()', 'EXECUTE', 'anon'),
  ('FUNCTION', '_ff_status_feed()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', '_ff_status_feed()', 'EXECUTE', 'service_role');

-- Per-entity activity bounds for the network source (src/feed_activity.c): an upper
-- bound of the rank_key of each entity's live posts (post_key) and of its events
-- (event_key), '-Infinity' when it has none.  The ranker visits followed entities in
-- order of these bounds and stops at the first that cannot reach the page, so a page
-- costs what it shows, not what the viewer follows.  Row triggers on entities, posts and
-- events keep it (ENABLE ALWAYS, so logical-replication apply keeps it too); bounds only
-- grow, so a deleted post or an ended event leaves an overestimate (a wasted visit,
-- never a lost item).  An entity without a row is unknown and always visited, so a
-- data-only load with triggers disabled is slower, never wrong (docs/feed.md).
CREATE TABLE _ff_entity_activity (
  entity_id  uuid PRIMARY KEY REFERENCES entities (id) ON DELETE CASCADE,
  post_key   float8 NOT NULL DEFAULT '-Infinity',
  event_key  float8 NOT NULL DEFAULT '-Infinity',
  raised_xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
) WITH (fillfactor = 80);
-- Backends cache bounds and re-read only rows changed by transactions their last read
-- could not see (raised_xid >= that read's snapshot xmin): exact, and cheap per page.
CREATE INDEX _ff_entity_activity_raised_idx ON _ff_entity_activity (raised_xid);
ALTER TABLE _ff_entity_activity ENABLE ROW LEVEL SECURITY;   -- no policies: app roles see nothing
REVOKE ALL ON _ff_entity_activity FROM PUBLIC;
COMMENT ON TABLE _ff_entity_activity IS
  'Upper bounds of each entity''s best post and event rank_key, and the transaction that last raised them (kept by triggers; read by the feed)';

CREATE FUNCTION _ff_entity_activity_touch() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_entity_activity_touch';
COMMENT ON FUNCTION _ff_entity_activity_touch() IS
  'Row trigger: raise the entity''s activity bound (argument: entity, post or event)';
REVOKE EXECUTE ON FUNCTION _ff_entity_activity_touch() FROM PUBLIC;

CREATE TRIGGER _ff_activity_entities AFTER INSERT ON entities
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('entity');
ALTER TABLE entities ENABLE ALWAYS TRIGGER _ff_activity_entities;
CREATE TRIGGER _ff_activity_posts AFTER INSERT OR UPDATE ON posts
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('post');
ALTER TABLE posts ENABLE ALWAYS TRIGGER _ff_activity_posts;
CREATE TRIGGER _ff_activity_events AFTER INSERT OR UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION _ff_entity_activity_touch('event');
ALTER TABLE events ENABLE ALWAYS TRIGGER _ff_activity_events;

-- Bounds for the rows already there (none at a fresh install or a restore: the restored
-- rows go in through the triggers).
INSERT INTO _ff_entity_activity (entity_id, post_key, event_key)
SELECT e.id,
       coalesce((SELECT max(p.rank_key) FROM posts p WHERE p.author_entity_id = e.id AND p.deleted_at IS NULL), '-Infinity'),
       coalesce((SELECT max(v.rank_key) FROM events v WHERE v.host_entity_id = e.id), '-Infinity')
FROM entities e;
