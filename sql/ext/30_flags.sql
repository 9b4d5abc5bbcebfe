-- 30_flags.sql — feature flags: table, seeds, the change trigger that keeps every
-- backend's C cache exact, the RPCs flags_for/flag_enabled, and the bucket helper.
-- See docs/flags.md.  The C functions need no search_path (they qualify nothing: the
-- cache fill scans the table by oid, found in the schema of the function called).

CREATE TABLE feature_flags (
  key              text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  enabled          boolean NOT NULL DEFAULT false,
  rollout_percent  int NOT NULL DEFAULT 100 CHECK (rollout_percent BETWEEN 0 AND 100),
  allow_users      uuid[] NOT NULL DEFAULT '{}',
  deny_users       uuid[] NOT NULL DEFAULT '{}',
  description      text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Any change to the table refills every backend's flag cache (00_base.sql).
CREATE TRIGGER feature_flags_invalidate_cache
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_config_changed();
ALTER TABLE feature_flags ENABLE ALWAYS TRIGGER feature_flags_invalidate_cache;

INSERT INTO feature_flags (key, enabled, rollout_percent, description)
SELECT * FROM (VALUES
  ('feed_shop_blend',  true,  100, 'Blend shop listings into for_you and following'),
  ('discover_reels',   true,  100, 'Serve reels in the discover source'),
  ('payments_real',    false, 0,   'Real payments instead of the sandbox'),
  ('rocker_always_on', true,  100, 'Always show the Rocker assistant')) AS seed
WHERE NOT _ff_restoring();

CREATE FUNCTION flags_for(p_user uuid DEFAULT NULL) RETURNS jsonb
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'ff_flags_for';
COMMENT ON FUNCTION flags_for(uuid) IS
  'Every feature flag as {key: bool} for p_user (NULL: the current user); another user needs service_role';

CREATE FUNCTION flag_enabled(p_key text, p_default boolean DEFAULT false) RETURNS boolean
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'ff_flag_enabled';
COMMENT ON FUNCTION flag_enabled(text, boolean) IS
  'Flag p_key for the current user; p_default when no such flag; NULL or malformed key: SQLSTATE 22023';

CREATE FUNCTION ff_flag_bucket(p_key text, p_user uuid) RETURNS integer
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_flag_bucket';
COMMENT ON FUNCTION ff_flag_bucket(text, uuid) IS
  'Rollout bucket 0..99: first 4 bytes of sha256(key || '':'' || user::text) as big-endian uint32, mod 100';

CREATE FUNCTION _ff_flags_cache_info() RETURNS jsonb
  LANGUAGE c VOLATILE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'ff_flags_cache_info';
COMMENT ON FUNCTION _ff_flags_cache_info() IS
  'This backend''s flag cache: valid, flags, fills, hits, invalidations';

CREATE FUNCTION _ff_status_flags() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'flags'::text, NULL::text, @extschema@._ff_flags_cache_info()
$$;

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'FUNCTION', f, 'EXECUTE', r
FROM unnest(ARRAY['flags_for(uuid)', 'flag_enabled(text, boolean)', 'ff_flag_bucket(text, uuid)',
                   '_ff_flags_cache_info()', '_ff_status_flags()']) AS f,   -- the last two: for ff_status()
     unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;
