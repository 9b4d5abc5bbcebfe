-- 30_flags.sql — feature flags (§4).  The C cache and evaluation land with the flags issue.

CREATE TABLE feature_flags (
  key              text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  enabled          boolean NOT NULL DEFAULT false,
  rollout_percent  int NOT NULL DEFAULT 100 CHECK (rollout_percent BETWEEN 0 AND 100),
  allow_users      uuid[] NOT NULL DEFAULT '{}',
  deny_users       uuid[] NOT NULL DEFAULT '{}',
  description      text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO feature_flags (key, enabled, rollout_percent, description)
SELECT * FROM (VALUES
  ('feed_shop_blend',  true,  100, 'Blend shop listings into for_you and following'),
  ('discover_reels',   true,  100, 'Serve reels in the discover source'),
  ('payments_real',    false, 0,   'Real payments instead of the sandbox'),
  ('rocker_always_on', true,  100, 'Always show the Rocker assistant')) AS seed
WHERE NOT _ff_restoring();

CREATE FUNCTION _ff_status_flags() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'flags'::text, NULL::text, jsonb_build_object('status', 'not built yet')
$$;
