-- 80_rls.sql — row-level security.
-- Policies use (SELECT ff_current_user()) so the user is computed once per query (an
-- InitPlan), not per row, and the owner checks hit indexed columns.  Policies are
-- created TO PUBLIC because the Supabase roles may not exist at install time; the
-- roles each one is for are registered in _ff_grants (kind POLICY) at the end of this
-- file, and ff_apply_grants() scopes the policy TO those that exist.  Table privileges
-- (90_grants.sql) decide which role reaches a table at all.
-- service_role bypasses RLS through its BYPASSRLS attribute, as in Supabase.

-- Entities the current user owns, evaluated once per statement.
CREATE FUNCTION _ff_my_entities() RETURNS uuid[]
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(e.id), '{}') FROM @extschema@.entities e
  WHERE e.owner_user_id = @extschema@.ff_current_user()
$$;

ALTER TABLE entities ENABLE ROW LEVEL SECURITY;
CREATE POLICY entities_read ON entities FOR SELECT USING (true);
CREATE POLICY entities_insert ON entities FOR INSERT WITH CHECK (owner_user_id = (SELECT ff_current_user()));
CREATE POLICY entities_update ON entities FOR UPDATE USING (owner_user_id = (SELECT ff_current_user()))
  WITH CHECK (owner_user_id = (SELECT ff_current_user()));
CREATE POLICY entities_delete ON entities FOR DELETE USING (owner_user_id = (SELECT ff_current_user()));

ALTER TABLE follows ENABLE ROW LEVEL SECURITY;
CREATE POLICY follows_read ON follows FOR SELECT USING (true);
CREATE POLICY follows_insert ON follows FOR INSERT WITH CHECK (follower_user_id = (SELECT ff_current_user()));
CREATE POLICY follows_update ON follows FOR UPDATE USING (follower_user_id = (SELECT ff_current_user()))
  WITH CHECK (follower_user_id = (SELECT ff_current_user()));
CREATE POLICY follows_delete ON follows FOR DELETE USING (follower_user_id = (SELECT ff_current_user()));

ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY posts_read ON posts FOR SELECT
  USING (deleted_at IS NULL OR author_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY posts_insert ON posts FOR INSERT WITH CHECK (author_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY posts_update ON posts FOR UPDATE USING (author_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]))
  WITH CHECK (author_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY posts_delete ON posts FOR DELETE USING (author_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));

ALTER TABLE listings ENABLE ROW LEVEL SECURITY;
CREATE POLICY listings_read ON listings FOR SELECT
  USING (status NOT IN ('draft', 'removed') OR seller_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY listings_insert ON listings FOR INSERT WITH CHECK (seller_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY listings_update ON listings FOR UPDATE USING (seller_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]))
  WITH CHECK (seller_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY listings_delete ON listings FOR DELETE USING (seller_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT USING (true);
CREATE POLICY events_insert ON events FOR INSERT WITH CHECK (host_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY events_update ON events FOR UPDATE USING (host_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]))
  WITH CHECK (host_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));
CREATE POLICY events_delete ON events FOR DELETE USING (host_entity_id = ANY ((SELECT _ff_my_entities())::uuid[]));

-- Per-user tables: each user sees and writes only their own rows.
ALTER TABLE feed_hides ENABLE ROW LEVEL SECURITY;
CREATE POLICY feed_hides_own ON feed_hides FOR ALL
  USING (user_id = (SELECT ff_current_user())) WITH CHECK (user_id = (SELECT ff_current_user()));
ALTER TABLE shopping_cart_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY shopping_cart_items_own ON shopping_cart_items FOR ALL
  USING (user_id = (SELECT ff_current_user())) WITH CHECK (user_id = (SELECT ff_current_user()));
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_events_own ON usage_events FOR ALL
  USING (user_id = (SELECT ff_current_user())) WITH CHECK (user_id = (SELECT ff_current_user()));

-- Configuration: readable by whoever holds SELECT (authenticated); written by service_role.
ALTER TABLE feature_flags ENABLE ROW LEVEL SECURITY;
CREATE POLICY feature_flags_read ON feature_flags FOR SELECT USING (true);
ALTER TABLE rate_limit_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY rate_limit_profiles_read ON rate_limit_profiles FOR SELECT USING (true);
ALTER TABLE feed_lanes ENABLE ROW LEVEL SECURITY;
CREATE POLICY feed_lanes_read ON feed_lanes FOR SELECT USING (true);

-- service_role only: no policy for anyone else, and no privileges either (42501).
ALTER TABLE rate_limit_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE rpc_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE _ff_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE _ff_partman_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE _ff_restore_pending ENABLE ROW LEVEL SECURITY;

-- The policies call _ff_my_entities() as the role they are evaluated for.
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', '_ff_my_entities()', 'EXECUTE', 'anon'),
  ('FUNCTION', '_ff_my_entities()', 'EXECUTE', 'authenticated');

-- Roles each policy is for (ff_apply_grants() runs ALTER POLICY ... TO them): reads of
-- public content for anon and authenticated, everything else for authenticated
-- (service_role bypasses RLS).
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'POLICY', c.relname || '.' || p.polname, 'TO', r
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
CROSS JOIN LATERAL unnest(CASE
  WHEN c.relname IN ('entities', 'follows', 'posts', 'listings', 'events') AND p.polcmd = 'r'
    THEN ARRAY['anon', 'authenticated'] ELSE ARRAY['authenticated'] END) AS r
WHERE c.relnamespace = '@extschema@'::regnamespace;
