-- 60_feed.sql — feed fusion RPCs (§5).  The C ranker lands with the feed issue.

CREATE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, NULL::text, jsonb_build_object('status', 'not built yet')
$$;
