\echo Use "ALTER EXTENSION feed_fusion UPDATE TO '0.1.1'" to load this file. \quit
-- feed_fusion 0.1.0 -> 0.1.1.
--
-- Rules for this file (checked by test/scripts/fnd_ext_update.sh, which compares an
-- upgraded database with a fresh install of 0.1.1 object by object):
-- * One section per component, in the order of sql/ext/ (NN_*.sql); append to your
--   component's section, or add a new section in that order.
-- * Leave the database exactly as a fresh install would: same definitions, names
--   (give constraints the names a fresh install gets), column order (new columns go at
--   the end of the CREATE TABLE in sql/ext/), comments, grants (add _ff_grants rows and
--   run ff_apply_grants() if needed), pg_extension_config_dump registrations.
-- * Touch only rows the install script seeded; users' own rows and edits stay.
-- * Runs with search_path = @extschema@ like the install script.  No _ff_restoring()
--   needed: a restore runs CREATE EXTENSION (the install script), never an update.

-- ==== 10_tables.sql — feed_lanes: lane behaviour as data ====

CREATE FUNCTION _ff_lane_names_valid(p_names text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_ndims(p_names), 1) = 1
     AND NOT EXISTS (SELECT 1 FROM unnest(p_names) AS a WHERE a IS NULL OR a !~ '^[a-z][a-z0-9_]{0,62}$')
$$;
COMMENT ON FUNCTION _ff_lane_names_valid(text[]) IS
  'True when p_names is a one-dimensional array of lane names without NULLs (CHECK of feed_lanes.aliases)';

ALTER TABLE feed_lanes
  ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'
    CONSTRAINT feed_lanes_aliases_check CHECK (_ff_lane_names_valid(aliases)),
  ADD COLUMN honors_shop_blend boolean NOT NULL DEFAULT true,
  ADD COLUMN serves_anonymous boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN feed_lanes.aliases IS
  'Legacy lane names that map to this lane (each with the syntax of lane)';
COMMENT ON COLUMN feed_lanes.honors_shop_blend IS
  'The listings source of this lane obeys feature flag feed_shop_blend (false: the flag does not apply to this lane)';
COMMENT ON COLUMN feed_lanes.serves_anonymous IS
  'false: anonymous viewers get no rows from this lane';

-- The seeded lanes get the values a fresh install seeds (their other columns keep any
-- edits); lanes users added keep the defaults.
UPDATE feed_lanes l
SET aliases = seed.aliases, honors_shop_blend = seed.honors_shop_blend, serves_anonymous = seed.serves_anonymous
FROM (VALUES
  ('for_you',   '{combined}'::text[], true,  true),
  ('following', '{personal}'::text[], true,  false),
  ('shop',      '{}'::text[],         false, true)) AS seed (lane, aliases, honors_shop_blend, serves_anonymous)
WHERE l.lane = seed.lane;

-- ==== 00_base.sql, 30_flags.sql, 40_rate_limiter.sql — one config-change trigger ====
-- feature_flags and rate_limit_profiles share one trigger function; the limiter's
-- trigger is now ENABLE ALWAYS as the flags' one always was (caches stay exact under
-- session_replication_role = replica).

CREATE FUNCTION _ff_config_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_config_changed';
COMMENT ON FUNCTION _ff_config_changed() IS
  'Trigger: queue a relcache invalidation of a configuration table so every backend''s cache of it refills';

DROP TRIGGER feature_flags_invalidate_cache ON feature_flags;
CREATE TRIGGER feature_flags_invalidate_cache
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE feature_flags ENABLE ALWAYS TRIGGER feature_flags_invalidate_cache;
DROP FUNCTION _ff_flags_invalidate();

DROP TRIGGER rate_limit_profiles_changed ON rate_limit_profiles;
CREATE TRIGGER rate_limit_profiles_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_limit_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE rate_limit_profiles ENABLE ALWAYS TRIGGER rate_limit_profiles_changed;
DROP FUNCTION _ff_rate_limit_profiles_changed();

-- ==== 60_feed.sql — the feed's ff_status() detail is built in C ====

CREATE FUNCTION _ff_feed_status() RETURNS jsonb
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'ff_feed_status';
COMMENT ON FUNCTION _ff_feed_status() IS
  'The feed''s ff_status() detail: cursor version and secret, lanes, network strategy';

CREATE OR REPLACE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, 'table'::text, @extschema@._ff_feed_status()
$$;

-- ==== 00_base.sql — the anonymous rate-limit subject is read from the right ====
-- ff_request_subject() (C) now takes the client address from the header named by
-- feed_fusion.client_ip_header, counting feed_fusion.trusted_proxy_hops entries from the
-- right, so a client cannot choose it; only its comment changes in the catalog.

COMMENT ON FUNCTION ff_request_subject() IS
  'Rate-limit subject: u:<uuid>, else ip:<client address: feed_fusion.client_ip_header read from the right, feed_fusion.trusted_proxy_hops>, else anon';
