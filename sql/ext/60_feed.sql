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
