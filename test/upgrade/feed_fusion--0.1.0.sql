-- Generated from sql/ext/*.sql by make: do not edit.
\echo Use "CREATE EXTENSION feed_fusion CASCADE" to load this file. \quit

-- ==== sql/ext/00_base.sql ====
-- 00_base.sql — identity, rank key, restore detection, grant registry.
-- Every function pins search_path; C functions schema-qualify what they use.

CREATE FUNCTION ff_current_user() RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_current_user';
COMMENT ON FUNCTION ff_current_user() IS
  'Supabase auth.uid(): request.jwt.claim.sub, else request.jwt.claims->>''sub''; NULL when anonymous';

CREATE FUNCTION ff_request_subject() RETURNS text
  LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_request_subject';
COMMENT ON FUNCTION ff_request_subject() IS
  'Rate-limit subject: u:<uuid>, else ip:<x-forwarded-for first hop | cf-connecting-ip>, else anon';

CREATE FUNCTION ff_rank_key(p_base_score float8, p_created_at timestamptz) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_rank_key';
COMMENT ON FUNCTION ff_rank_key(float8, timestamptz) IS
  'ln(base_score) + epoch(created_at)/172800: orders items by decayed score at every moment';

CREATE FUNCTION ff_score_at(p_rank_key float8, p_at timestamptz) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_score_at';
COMMENT ON FUNCTION ff_score_at(float8, timestamptz) IS
  'Score at time p_at of an item with this rank_key: exp(rank_key - epoch(p_at)/172800)';

-- True while a pg_dump/pg_restore is re-creating the extension: the restore sets
-- row_security = off (pg_dump always does), or the operator sets feed_fusion.restoring.
-- Then the install script skips seed rows and partitions: the dump carries both.
CREATE FUNCTION _ff_restoring() RETURNS boolean
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE lower(coalesce(current_setting('feed_fusion.restoring', true), ''))
           WHEN 'on' THEN true WHEN 'true' THEN true
           WHEN 'off' THEN false WHEN 'false' THEN false
           ELSE current_setting('row_security') = 'off' END
$$;

-- Grant registry: each component lists the privileges its objects need, and
-- ff_apply_grants() applies them to whichever of the Supabase roles exist.
CREATE TABLE _ff_grants (
  object_kind text NOT NULL CHECK (object_kind IN ('TABLE', 'FUNCTION', 'SEQUENCE', 'VIEW', 'POLICY')),
  object_name text NOT NULL,          -- relation name, or function signature, unqualified;
                                      -- for a POLICY 'table.policy'
  privileges  text NOT NULL,          -- e.g. 'SELECT', 'SELECT, INSERT', 'EXECUTE'; 'TO' for a POLICY
  role_name   text NOT NULL CHECK (role_name IN ('anon', 'authenticated', 'service_role')),
  PRIMARY KEY (object_kind, object_name, role_name, privileges)
);

CREATE FUNCTION ff_apply_grants() RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g record;
  nsp text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
               WHERE e.extname = 'feed_fusion');
  n integer := 0;
BEGIN
  FOR g IN EXECUTE format('SELECT * FROM %I._ff_grants ORDER BY 1, 2, 4', nsp) LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g.role_name) THEN
      -- Only where the role cannot reach the schema yet (e.g. not for public, which
      -- PUBLIC may use): DROP EXTENSION cannot take a schema grant back.
      IF NOT has_schema_privilege(g.role_name, nsp, 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', nsp, g.role_name);
      END IF;
      IF g.object_kind = 'POLICY' THEN
        NULL;   -- below, one ALTER POLICY per policy
      ELSIF g.object_kind = 'FUNCTION' THEN
        EXECUTE format('GRANT %s ON FUNCTION %I.%s TO %I', g.privileges, nsp, g.object_name, g.role_name);
      ELSIF g.object_kind = 'SEQUENCE' THEN
        EXECUTE format('GRANT %s ON SEQUENCE %I.%I TO %I', g.privileges, nsp, g.object_name, g.role_name);
      ELSE
        EXECUTE format('GRANT %s ON TABLE %I.%I TO %I', g.privileges, nsp, g.object_name, g.role_name);
      END IF;
      n := n + 1;
    END IF;
  END LOOP;
  -- Policies are created TO PUBLIC (the roles may not exist at install time) and scoped
  -- here to the registered roles that exist, so a policy is only evaluated for its roles.
  FOR g IN EXECUTE format(
      'SELECT object_name, string_agg(quote_ident(role_name), '', '' ORDER BY role_name) AS roles '
      'FROM %I._ff_grants WHERE object_kind = ''POLICY'' '
      'AND role_name IN (SELECT rolname FROM pg_catalog.pg_roles) GROUP BY 1 ORDER BY 1', nsp) LOOP
    EXECUTE format('ALTER POLICY %I ON %I.%I TO %s', split_part(g.object_name, '.', 2), nsp,
                   split_part(g.object_name, '.', 1), g.roles);
  END LOOP;
  RETURN n;
END $$;
COMMENT ON FUNCTION ff_apply_grants() IS
  'Grant feed_fusion objects to anon/authenticated/service_role (those that exist); returns grants applied';

-- ==== sql/ext/05_partitions.sql ====
-- 05_partitions.sql — pg_partman glue shared by every partitioned table.
-- Works with pg_partman 4.x (p_type 'native') and 5.x (p_type 'range'); all calls
-- use named arguments and the partman schema found in pg_extension.
--
-- Lifecycle design (tested by test/scripts/fnd_lifecycle.sh and fnd_dump_restore.sh):
-- * Partitions are released from extension membership, so pg_dump dumps them (and
--   their rows) like the ones pg_partman makes later; DROP EXTENSION still drops them
--   with their partitioned parent.
-- * The template table pg_partman needs is ours (@extschema@._ff_template_<table>, an
--   extension member), so DROP EXTENSION drops it and a restore re-creates it.
-- * pg_partman's part_config row for each of our tables lives in _ff_partman_config
--   (an extension member whose rows pg_dump keeps) and is put into part_config only
--   for the duration of ff_run_maintenance().  So DROP EXTENSION leaves nothing in
--   pg_partman's catalog, and a restore carries the (possibly edited) configuration.
-- * A restore re-runs this script with _ff_restoring() true: partitioned parents are
--   then created without their indexes and key constraints (pg_dump's partitions bring
--   their own, and ATTACH PARTITION would otherwise create duplicates); the parent
--   indexes come back ON ONLY right before pg_dump's first ALTER INDEX ... ATTACH
--   PARTITION, through a one-shot event trigger (see 90_grants.sql).

CREATE FUNCTION _ff_partman_schema() RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_partman'
$$;

CREATE FUNCTION _ff_schema() RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'feed_fusion'
$$;

-- pg_partman's configuration for our partitioned tables, kept out of part_config
-- between maintenance runs (see above).  config is a part_config row as jsonb, so the
-- layout works with every pg_partman version.
CREATE TABLE _ff_partman_config (
  parent_table text PRIMARY KEY,    -- unqualified name of our partitioned table
  config       jsonb NOT NULL
);

-- Parent indexes and key constraints withheld during a restore (see above).
CREATE TABLE _ff_restore_pending (
  relname  text NOT NULL,           -- our partitioned table
  ddl      text NOT NULL,           -- statement re-creating the index ON ONLY the parent
  ord      int NOT NULL,
  PRIMARY KEY (relname, ord)
);

-- pg_partman 4.x saves search_path on entry and restores it with a session-level
-- set_config(), which outlives our pinned `SET search_path` clause.  So every function
-- that calls partman takes the caller's search_path and puts it back the same way.

-- Partition p_table by p_control with pg_partman; partitions it creates are released
-- from extension membership so pg_dump treats them like the ones partman makes later.
CREATE FUNCTION _ff_partition(p_table text, p_control text, p_interval text, p_start timestamptz,
                              p_premake int, p_retention interval,
                              p_caller_path text DEFAULT pg_catalog.current_setting('search_path'))
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pm       text := @extschema@._ff_partman_schema();
  parent   text := format('%I.%I', '@extschema@', p_table);
  template text := format('%I.%I', '@extschema@', '_ff_template_' || p_table);
  major    int  := (SELECT split_part(extversion, '.', 1)::int FROM pg_extension WHERE extname = 'pg_partman');
  child    regclass;
  cfg      jsonb;
BEGIN
  -- Our own template table (pg_partman would put one into its schema, outside our
  -- extension); it stays empty and is re-created by a restore.
  EXECUTE format('CREATE TABLE %s (LIKE %s)', template, parent);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', template);
  IF @extschema@._ff_restoring() THEN
    RETURN;   -- the dump carries partitions and _ff_partman_config rows
  END IF;
  EXECUTE format(
    'SELECT %I.create_parent(p_parent_table := %L, p_control := %L, p_type := %L, '
    'p_interval := %L, p_premake := %s, p_start_partition := %L, p_template_table := %L)',
    pm, parent, p_control, CASE WHEN major >= 5 THEN 'range' ELSE 'native' END,
    p_interval, p_premake, to_char(p_start, 'YYYY-MM-DD HH24:MI:SS'), template);
  -- Move the configuration row out of part_config into our member table.
  EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L RETURNING to_jsonb(part_config)',
                 pm, parent) INTO cfg;
  cfg := cfg || jsonb_build_object('infinite_time_partitions', true, 'retention', p_retention::text,
                                   'retention_keep_table', false);
  INSERT INTO @extschema@._ff_partman_config (parent_table, config) VALUES (p_table, cfg);
  PERFORM set_config('search_path', p_caller_path, false);
  FOR child IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = parent::regclass LOOP
    EXECUTE format('ALTER EXTENSION feed_fusion DROP TABLE %s', child);
  END LOOP;
END $$;

-- Create partitions ahead and apply retention for feed_fusion's tables.  Each table's
-- configuration visits part_config only while pg_partman works on it (one transaction,
-- serialised by an advisory lock), and edits pg_partman makes are kept.
CREATE FUNCTION _ff_run_maintenance(p_caller_path text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pm     text := @extschema@._ff_partman_schema();
  c      record;
  parent text;
  cfg    jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('feed_fusion'), hashtext('_ff_run_maintenance'));
  FOR c IN SELECT * FROM @extschema@._ff_partman_config ORDER BY parent_table LOOP
    parent := format('%I.%I', '@extschema@', c.parent_table);
    CONTINUE WHEN to_regclass(parent) IS NULL;
    -- the schema-qualified name is what pg_partman keys on
    cfg := c.config || jsonb_build_object('parent_table', parent,
             'template_table', format('%I.%I', '@extschema@', '_ff_template_' || c.parent_table));
    EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L', pm, parent);
    EXECUTE format('INSERT INTO %1$I.part_config SELECT * FROM jsonb_populate_record(NULL::%1$I.part_config, %2$L)',
                   pm, cfg);
    EXECUTE format('SELECT %I.run_maintenance(p_parent_table := %L)', pm, parent);
    EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = %L RETURNING to_jsonb(part_config)',
                   pm, parent) INTO cfg;
    UPDATE @extschema@._ff_partman_config SET config = cfg WHERE parent_table = c.parent_table;
  END LOOP;
  -- the hourly metrics rollup follows rpc_metrics' retention (defined in 50_metrics.sql)
  PERFORM @extschema@._ff_metrics_prune_rollup();
  PERFORM set_config('search_path', p_caller_path, false);
END $$;

-- Wrapper without a pinned search_path on purpose: pg_partman 4.x ends with a plain
-- (session-level) set_config('search_path'), which outlives any SET clause, so
-- _ff_run_maintenance puts back the path this wrapper read from the caller.  The body
-- uses only schema-qualified names (checked by test/tap/fnd_search_path.sql).
CREATE FUNCTION ff_run_maintenance() RETURNS void
  LANGUAGE sql AS $$
  SELECT @extschema@._ff_run_maintenance(pg_catalog.current_setting('search_path'))
$$;
COMMENT ON FUNCTION ff_run_maintenance() IS
  'Run pg_partman maintenance (premake, retention) for posts, usage_events and rpc_metrics';

-- Restore mode: take the indexes and key constraints off our (still empty) partitioned
-- tables and remember how to put them back ON ONLY the parent.  Called at the end of
-- the install script, after every component created its partitioned tables.
CREATE FUNCTION _ff_restore_withhold_indexes() RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  FOR r IN
    SELECT c.oid AS relid, c.relname, i.indexrelid, con.conname, con.oid AS conoid
    FROM pg_class c
    JOIN pg_index i ON i.indrelid = c.oid
    LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = c.oid
    WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'p'
      AND EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                    AND e.extname = 'feed_fusion')
    ORDER BY c.relname, (con.oid IS NULL), i.indexrelid
  LOOP
    n := n + 1;
    IF r.conoid IS NOT NULL THEN
      INSERT INTO @extschema@._ff_restore_pending VALUES (r.relname,
        format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT %I %s', '@extschema@', r.relname, r.conname,
               pg_get_constraintdef(r.conoid)), n);
      EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', '@extschema@', r.relname, r.conname);
    ELSE
      INSERT INTO @extschema@._ff_restore_pending VALUES (r.relname, pg_get_indexdef(r.indexrelid), n);
      EXECUTE format('DROP INDEX %s', r.indexrelid::regclass);
    END IF;
  END LOOP;
END $$;

-- Put the withheld parent indexes back (ON ONLY: each becomes valid once pg_dump's
-- ALTER INDEX ... ATTACH PARTITION has attached the index of every partition).
-- Idempotent; concurrent callers (parallel pg_restore) serialise on the table lock.
CREATE FUNCTION _ff_restore_indexes() RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  LOCK TABLE @extschema@._ff_restore_pending IN EXCLUSIVE MODE;
  FOR r IN SELECT * FROM @extschema@._ff_restore_pending ORDER BY relname, ord LOOP
    EXECUTE r.ddl;
    n := n + 1;
  END LOOP;
  DELETE FROM @extschema@._ff_restore_pending;
  IF EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '_ff_restore_indexes_trg') THEN
    ALTER EXTENSION feed_fusion DROP EVENT TRIGGER _ff_restore_indexes_trg;
    DROP EVENT TRIGGER _ff_restore_indexes_trg;
  END IF;
  RETURN n;
END $$;

-- Event trigger body: fires on the restore's first ALTER INDEX (pg_dump's index
-- ATTACH PARTITION statements come after every partition and its indexes exist).
CREATE FUNCTION _ff_restore_indexes_evt() RETURNS event_trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_restore_indexes();
END $$;

-- ==== sql/ext/10_tables.sql ====
-- 10_tables.sql — the social graph and content tables (§3), with the indexes the
-- feed ranker and RLS policies need.  rank_key is a stored generated column.

CREATE TABLE entities (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_user_id  uuid NOT NULL,
  kind           text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'business')),
  handle         text NOT NULL UNIQUE CHECK (length(handle) BETWEEN 1 AND 64),
  display_name   text,
  avatar_url     text,
  bio            text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX entities_one_person_per_user ON entities (owner_user_id) WHERE kind = 'person';
CREATE INDEX entities_owner_idx ON entities (owner_user_id);

CREATE TABLE follows (
  follower_user_id uuid NOT NULL,
  entity_id        uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_user_id, entity_id)
);
CREATE INDEX follows_entity_idx ON follows (entity_id);

CREATE TABLE posts (
  id                bigint GENERATED BY DEFAULT AS IDENTITY,
  author_entity_id  uuid NOT NULL,
  kind              text NOT NULL DEFAULT 'post' CHECK (kind IN ('post', 'reel')),
  body              text,
  media_url         text,
  base_score        float8 NOT NULL DEFAULT 0.5 CHECK (base_score > 0 AND base_score <= 1),
  rank_key          float8 GENERATED ALWAYS AS (ff_rank_key(base_score, created_at)) STORED,
  created_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX posts_rank_idx ON posts (rank_key DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_author_rank_idx ON posts (author_entity_id, rank_key DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_author_created_idx ON posts (author_entity_id, created_at DESC, id DESC);

CREATE TABLE listings (
  id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  seller_entity_id  uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  title             text NOT NULL,
  price_cents       bigint NOT NULL CHECK (price_cents >= 0),
  currency          char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'sold', 'removed')),
  base_score        float8 NOT NULL DEFAULT 0.5 CHECK (base_score > 0 AND base_score <= 1),
  rank_key          float8 GENERATED ALWAYS AS (ff_rank_key(base_score, created_at)) STORED,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listings_active_rank_idx ON listings (rank_key DESC, id DESC) WHERE status = 'active';
CREATE INDEX listings_seller_created_idx ON listings (seller_entity_id, created_at DESC, id DESC);

CREATE TABLE events (
  id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  host_entity_id    uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  title             text NOT NULL,
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  base_score        float8 NOT NULL DEFAULT 0.5 CHECK (base_score > 0 AND base_score <= 1),
  rank_key          float8 GENERATED ALWAYS AS (ff_rank_key(base_score, created_at)) STORED,
  created_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at >= starts_at)
);
CREATE INDEX events_rank_idx ON events (rank_key DESC, id DESC);
CREATE INDEX events_host_rank_idx ON events (host_entity_id, rank_key DESC, id DESC);
CREATE INDEX events_host_created_idx ON events (host_entity_id, created_at DESC, id DESC);

CREATE TABLE feed_hides (
  user_id    uuid NOT NULL,
  item_kind  text NOT NULL CHECK (item_kind IN ('post', 'listing', 'event')),
  item_id    bigint NOT NULL,
  hidden_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, item_kind, item_id)
);

CREATE TABLE shopping_cart_items (
  user_id     uuid NOT NULL,
  listing_id  bigint NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
  quantity    int NOT NULL DEFAULT 1 CHECK (quantity > 0),
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, listing_id)
);
CREATE INDEX shopping_cart_items_listing_idx ON shopping_cart_items (listing_id);

CREATE TABLE usage_events (
  id           bigint GENERATED BY DEFAULT AS IDENTITY,
  user_id      uuid,
  event        text NOT NULL CHECK (length(event) BETWEEN 1 AND 200),
  props        jsonb NOT NULL DEFAULT '{}',
  occurred_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX usage_events_user_idx ON usage_events (user_id, occurred_at DESC);

CREATE TABLE feed_lanes (
  lane          text PRIMARY KEY CHECK (lane ~ '^[a-z][a-z0-9_]{0,62}$'),
  w_network     float8 NOT NULL CHECK (w_network >= 0),
  w_discover    float8 NOT NULL CHECK (w_discover >= 0),
  w_listings    float8 NOT NULL CHECK (w_listings >= 0),
  listing_cap   float8 NOT NULL CHECK (listing_cap > 0 AND listing_cap <= 1),
  window_size   int NOT NULL CHECK (window_size > 0),
  dedup_delta   float8 NOT NULL CHECK (dedup_delta >= 0),
  CHECK (w_network + w_discover + w_listings > 0)
);

INSERT INTO feed_lanes (lane, w_network, w_discover, w_listings, listing_cap, window_size, dedup_delta)
SELECT * FROM (VALUES
  ('for_you',   0.60, 0.25, 0.15, 1.0 / 2, 20, 0.25),
  ('following', 0.80, 0.05, 0.15, 1.0 / 3, 20, 0.25),
  ('shop',      0.10, 0.05, 0.85, 2.0 / 3, 20, 0.25)) AS seed
WHERE NOT _ff_restoring();

SELECT _ff_partition('posts', 'created_at', '1 month', date_trunc('month', now() - interval '12 months'), 4, NULL);
SELECT _ff_partition('usage_events', 'occurred_at', '1 day', date_trunc('day', now() - interval '30 days'), 4, interval '90 days');

-- ==== sql/ext/30_flags.sql ====
-- 30_flags.sql — feature flags (§4): table, seeds, the change trigger that keeps every
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

-- Any change to the table queues a relcache invalidation that commits (or aborts)
-- with the transaction; each backend's cache drops its copy when it arrives.
-- ENABLE ALWAYS: it also fires under session_replication_role = replica.
CREATE FUNCTION _ff_flags_invalidate() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_flags_invalidate';
COMMENT ON FUNCTION _ff_flags_invalidate() IS
  'Trigger: queue a relcache invalidation of feature_flags so every backend''s flag cache refills';
CREATE TRIGGER feature_flags_invalidate_cache
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_flags_invalidate();
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
FROM unnest(ARRAY['flags_for(uuid)', 'flag_enabled(text, boolean)', 'ff_flag_bucket(text, uuid)']) AS f,
     unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;

-- ==== sql/ext/40_rate_limiter.sql ====
-- 40_rate_limiter.sql — the rate limiter (§6): profiles, table-mode storage, the C
-- functions, the profile-cache invalidation trigger and the limiter's ff_status() row.
-- Design notes: src/rate_limiter.c, src/ratelimit_shm.c, docs/rate_limiter.md.

CREATE TABLE rate_limit_profiles (
  name      text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  capacity  int NOT NULL CHECK (capacity > 0),
  period    interval NOT NULL CHECK (period > interval '0')
);

INSERT INTO rate_limit_profiles (name, capacity, period)
SELECT * FROM (VALUES
  ('high',      300,  interval '1 minute'),
  ('standard',  60,   interval '1 minute'),
  ('expensive', 10,   interval '1 minute'),
  ('auth',      5,    interval '5 minutes'),
  ('admin',     1000, interval '1 minute')) AS seed
WHERE NOT _ff_restoring();

-- Table-mode storage: one row per live key holding the GCRA theoretical arrival time
-- in nanoseconds since 2000-01-01 UTC (a row with tat <= now is a full bucket and is
-- swept).  Updates never touch an indexed column, so with fillfactor 50 they stay HOT.
-- UNLOGGED: the state is transient (like shared memory it is lost on a crash, kept on
-- a clean restart), writes make no WAL, and a transaction that only rate-limits
-- commits without waiting for a WAL flush.
CREATE UNLOGGED TABLE rate_limit_counters (
  key  text PRIMARY KEY,
  tat  bigint NOT NULL
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
COMMENT ON TABLE rate_limit_counters IS
  'Table-mode rate limiter state: key -> GCRA TAT (ns since 2000-01-01 UTC); transient, not dumped';

CREATE FUNCTION check_rate_limit(p_scope text DEFAULT 'standard', p_cost int DEFAULT 1) RETURNS boolean
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'check_rate_limit';
COMMENT ON FUNCTION check_rate_limit(text, int) IS
  'Take p_cost tokens from the bucket of (current subject, profile p_scope; unknown scope: standard); true when allowed';

CREATE FUNCTION rate_limit_take(p_key text, p_capacity int, p_period interval, p_cost int DEFAULT 1)
  RETURNS TABLE (allowed boolean, remaining int, retry_after_ms bigint, reset_after_ms bigint)
  LANGUAGE c VOLATILE ROWS 1 AS 'MODULE_PATHNAME', 'rate_limit_take';
COMMENT ON FUNCTION rate_limit_take(text, int, interval, int) IS
  'service_role: token bucket on p_key (capacity per period), CL.THROTTLE style; cost 0 peeks';

CREATE FUNCTION rate_limit_reset(p_key text) RETURNS boolean
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'rate_limit_reset';
COMMENT ON FUNCTION rate_limit_reset(text) IS
  'service_role: refill the bucket of p_key; true when it was not full';

REVOKE EXECUTE ON FUNCTION rate_limit_take(text, int, interval, int), rate_limit_reset(text) FROM PUBLIC;

-- Profile cache invalidation: each backend caches rate_limit_profiles; this trigger
-- sends a relcache invalidation that every backend sees once the change commits.
CREATE FUNCTION _ff_rate_limit_profiles_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'ff_rate_limit_profiles_changed';
CREATE TRIGGER rate_limit_profiles_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_limit_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_rate_limit_profiles_changed();

CREATE FUNCTION _ff_rate_limiter_info(OUT mode text, OUT detail jsonb)
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_rate_limiter_info';

CREATE FUNCTION _ff_status_rate_limiter() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'rate_limiter'::text, i.mode, i.detail FROM @extschema@._ff_rate_limiter_info() i
$$;

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'anon'),
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'check_rate_limit(text, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rate_limit_take(text, int, interval, int)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rate_limit_reset(text)', 'EXECUTE', 'service_role');

-- ==== sql/ext/50_metrics.sql ====
-- 50_metrics.sql — RPC latency metrics (§7): per-(rpc, minute) aggregates with a
-- mergeable latency sketch, partitioned daily with 30-day retention; the recorder,
-- sketch and flush are C (src/metrics.c, src/sketch.c, src/bgworker.c).

-- Start of the UTC hour of a timestamp (IMMUTABLE: indexable, unlike date_trunc).
CREATE FUNCTION _ff_metrics_hour(p_ts timestamptz) RETURNS timestamptz
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_metrics_hour';

-- One row per (rpc, minute) flushed from shared memory, or per call in table mode;
-- several rows for the same (rpc, bucket_start) are normal and simply add up.
CREATE TABLE rpc_metrics (
  rpc           text NOT NULL CHECK (length(rpc) BETWEEN 1 AND 63),
  bucket_start  timestamptz NOT NULL,
  calls         bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  errors        bigint NOT NULL DEFAULT 0 CHECK (errors >= 0 AND errors <= calls),
  total_ms      float8 NOT NULL DEFAULT 0 CHECK (total_ms >= 0),
  max_ms        float8 NOT NULL DEFAULT 0 CHECK (max_ms >= 0),
  sketch        bytea                      -- sparse latency sketch (see docs/metrics.md)
) PARTITION BY RANGE (bucket_start);
CREATE INDEX rpc_metrics_rpc_bucket_idx ON rpc_metrics (rpc, bucket_start);
COMMENT ON TABLE rpc_metrics IS
  'RPC latency aggregates per (rpc, minute): calls, errors, total/max ms and a mergeable sketch';

SELECT _ff_partition('rpc_metrics', 'bucket_start', '1 day', date_trunc('day', now() - interval '7 days'), 4, interval '30 days');

-- Sketch functions: quantile, count, and two aggregates (merge sketches; build from ms values).
CREATE FUNCTION ff_sketch_quantile(p_sketch bytea, p_q float8) RETURNS float8
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantile';
COMMENT ON FUNCTION ff_sketch_quantile(bytea, float8) IS
  'Nearest-rank quantile (0..1) in ms of a latency sketch, within 1 % of the exact value; NULL if empty';
CREATE FUNCTION ff_sketch_count(p_sketch bytea) RETURNS bigint
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_count';
COMMENT ON FUNCTION ff_sketch_count(bytea) IS 'Number of samples in a latency sketch';

CREATE FUNCTION _ff_sketch_merge_trans(internal, bytea) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_merge_trans';
CREATE FUNCTION _ff_sketch_add_trans(internal, float8) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_add_trans';
CREATE FUNCTION _ff_sketch_final(internal) RETURNS bytea
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_final';

CREATE AGGREGATE ff_sketch_merge(bytea) (
  SFUNC = _ff_sketch_merge_trans, STYPE = internal, FINALFUNC = _ff_sketch_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_merge(bytea) IS
  'Merge latency sketches by adding their counts (= the sketch of all their samples)';
CREATE AGGREGATE ff_sketch_agg(float8) (
  SFUNC = _ff_sketch_add_trans, STYPE = internal, FINALFUNC = _ff_sketch_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_agg(float8) IS 'Latency sketch of durations in milliseconds';
CREATE FUNCTION _ff_sketch_merge_q_trans(internal, bytea, float8[]) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_merge_q_trans';
CREATE FUNCTION _ff_sketch_quantiles_final(internal) RETURNS float8[]
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantiles_final';
CREATE AGGREGATE ff_sketch_merge_quantiles(bytea, float8[]) (
  SFUNC = _ff_sketch_merge_q_trans, STYPE = internal, FINALFUNC = _ff_sketch_quantiles_final,
  SSPACE = 2048, PARALLEL = SAFE);
COMMENT ON AGGREGATE ff_sketch_merge_quantiles(bytea, float8[]) IS
  'Nearest-rank quantiles (array of q in 0..1) of the merge of latency sketches, in one pass';
CREATE FUNCTION ff_sketch_quantiles(p_sketch bytea, p_qs float8[]) RETURNS float8[]
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_quantiles';
COMMENT ON FUNCTION ff_sketch_quantiles(bytea, float8[]) IS
  'Several nearest-rank quantiles (q in 0..1) of a latency sketch with one decode';
CREATE FUNCTION ff_sketch_union(p_a bytea, p_b bytea) RETURNS bytea
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'ff_sketch_union';
COMMENT ON FUNCTION ff_sketch_union(bytea, bytea) IS 'Merge of two latency sketches (NULL counts as empty)';

-- Hourly rollup of rpc_metrics, kept exact by statement triggers on rpc_metrics, so
-- rpc_metrics_hourly reads one row per (rpc, hour) instead of 60 (30 days x 20 RPCs:
-- 14,400 rows, not 864,000).  Rows inserted straight into a partition bypass the
-- triggers (pg_restore does that, and restores this table from the dump as well).
CREATE TABLE rpc_metrics_rollup (
  rpc       text NOT NULL,
  hour      timestamptz NOT NULL,
  calls     bigint NOT NULL,
  errors    bigint NOT NULL,
  total_ms  float8 NOT NULL,
  max_ms    float8 NOT NULL,
  sketch    bytea,
  quantiles float8[],               -- {p50, p95, p99} of sketch, stored by the triggers
  PRIMARY KEY (rpc, hour)
);
CREATE INDEX rpc_metrics_rollup_hour_idx ON rpc_metrics_rollup (hour);
ALTER TABLE rpc_metrics_rollup ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE rpc_metrics_rollup IS
  'rpc_metrics summed per (rpc, UTC hour); maintained by triggers, read by rpc_metrics_hourly';

-- Closed hours are read without decoding their sketch: every write below also
-- stores quantiles = {p50, p95, p99} of the row's sketch.
-- Rows added to rpc_metrics are added to their hours.
CREATE FUNCTION _ff_metrics_rollup_ins() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO @extschema@.rpc_metrics_rollup AS r (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.rpc, a.hour, a.calls, a.errors, a.total_ms, a.max_ms, a.sketch,
         @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT n.rpc, @extschema@._ff_metrics_hour(n.bucket_start) AS hour, sum(n.calls) AS calls,
               sum(n.errors) AS errors, sum(n.total_ms) AS total_ms, max(n.max_ms) AS max_ms,
               @extschema@.ff_sketch_merge(n.sketch) AS sketch
        FROM ff_new_rows n GROUP BY 1, 2) a
  ORDER BY 1, 2
  ON CONFLICT (rpc, hour) DO UPDATE
    SET calls = r.calls + excluded.calls, errors = r.errors + excluded.errors,
        total_ms = r.total_ms + excluded.total_ms, max_ms = greatest(r.max_ms, excluded.max_ms),
        sketch = @extschema@.ff_sketch_union(r.sketch, excluded.sketch),
        quantiles = @extschema@.ff_sketch_quantiles(@extschema@.ff_sketch_union(r.sketch, excluded.sketch),
                                                     '{0.5,0.95,0.99}'::float8[]);
  RETURN NULL;
END $$;

-- Hours touched by an UPDATE or DELETE are recomputed from rpc_metrics (exact max).
CREATE FUNCTION _ff_metrics_rollup_recompute(p_keys jsonb) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup r
  USING jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
  WHERE r.rpc = k.rpc AND r.hour = k.hour;
  INSERT INTO @extschema@.rpc_metrics_rollup (rpc, hour, calls, errors, total_ms, max_ms, sketch, quantiles)
  SELECT a.*, @extschema@.ff_sketch_quantiles(a.sketch, '{0.5,0.95,0.99}'::float8[])
  FROM (SELECT m.rpc, k.hour, sum(m.calls) AS calls, sum(m.errors) AS errors, sum(m.total_ms) AS total_ms,
               max(m.max_ms) AS max_ms, @extschema@.ff_sketch_merge(m.sketch) AS sketch
        FROM jsonb_to_recordset(p_keys) AS k(rpc text, hour timestamptz)
        JOIN @extschema@.rpc_metrics m
          ON m.rpc = k.rpc AND m.bucket_start >= k.hour AND m.bucket_start < k.hour + interval '1 hour'
        GROUP BY 1, 2) a;
END $$;
CREATE FUNCTION _ff_metrics_rollup_del() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_metrics_rollup_recompute(
    (SELECT jsonb_agg(DISTINCT jsonb_build_object('rpc', o.rpc, 'hour', @extschema@._ff_metrics_hour(o.bucket_start)))
     FROM ff_old_rows o));
  RETURN NULL;
END $$;
CREATE FUNCTION _ff_metrics_rollup_upd() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@._ff_metrics_rollup_recompute(
    (SELECT jsonb_agg(DISTINCT jsonb_build_object('rpc', x.rpc, 'hour', @extschema@._ff_metrics_hour(x.bucket_start)))
     FROM (SELECT rpc, bucket_start FROM ff_old_rows UNION ALL SELECT rpc, bucket_start FROM ff_new_rows) x));
  RETURN NULL;
END $$;
CREATE FUNCTION _ff_metrics_rollup_trunc() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup;
  RETURN NULL;
END $$;
CREATE TRIGGER rpc_metrics_rollup_ins AFTER INSERT ON rpc_metrics
  REFERENCING NEW TABLE AS ff_new_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_ins();
CREATE TRIGGER rpc_metrics_rollup_del AFTER DELETE ON rpc_metrics
  REFERENCING OLD TABLE AS ff_old_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_del();
CREATE TRIGGER rpc_metrics_rollup_upd AFTER UPDATE ON rpc_metrics
  REFERENCING OLD TABLE AS ff_old_rows NEW TABLE AS ff_new_rows FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_upd();
CREATE TRIGGER rpc_metrics_rollup_trunc AFTER TRUNCATE ON rpc_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION _ff_metrics_rollup_trunc();

-- Retention drops whole partitions (no trigger fires): forget rollup hours whose
-- minutes are gone.  Run by the metrics worker after ff_run_maintenance().
CREATE FUNCTION _ff_metrics_prune_rollup() RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE n bigint;
BEGIN
  DELETE FROM @extschema@.rpc_metrics_rollup r
  WHERE r.hour < now() - interval '1 day'
    AND NOT EXISTS (SELECT 1 FROM @extschema@.rpc_metrics m
                    WHERE m.rpc = r.rpc AND m.bucket_start >= r.hour AND m.bucket_start < r.hour + interval '1 hour');
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Recording and flushing.
CREATE FUNCTION _log_rpc(p_rpc text, p_duration_ms float8, p_ok boolean DEFAULT true) RETURNS void
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_log_rpc';
COMMENT ON FUNCTION _log_rpc(text, float8, boolean) IS
  'Record one call of RPC p_rpc taking p_duration_ms (p_ok false: it failed)';
CREATE FUNCTION _ff_log_rpc_at(p_rpc text, p_duration_ms float8, p_ok boolean, p_at timestamptz) RETURNS void
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_log_rpc_at';
COMMENT ON FUNCTION _ff_log_rpc_at(text, float8, boolean, timestamptz) IS
  'Record one call into the minute of p_at (backfill, tests, benchmarks); service_role only';
CREATE FUNCTION rpc_metrics_flush() RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_rpc_metrics_flush';
COMMENT ON FUNCTION rpc_metrics_flush() IS
  'Move closed minutes of RPC metrics from shared memory into rpc_metrics; returns rows written';
CREATE FUNCTION _ff_metrics_flush_all() RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_flush_all';
COMMENT ON FUNCTION _ff_metrics_flush_all() IS
  'Like rpc_metrics_flush(), including the open minute (what a clean shutdown does)';
CREATE FUNCTION _ff_metrics_pending()
  RETURNS TABLE (rpc text, bucket_start timestamptz, calls bigint, errors bigint,
                 total_ms float8, max_ms float8, sketch bytea)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'ff_metrics_pending';
COMMENT ON FUNCTION _ff_metrics_pending() IS
  'Not-yet-flushed RPC metrics of this database from shared memory (empty in table mode)';
CREATE FUNCTION _ff_metrics_status() RETURNS jsonb
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_status';
CREATE FUNCTION _ff_metrics_selftest(p_fail boolean DEFAULT false, p_sleep_ms float8 DEFAULT 0) RETURNS int
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'ff_metrics_selftest';
COMMENT ON FUNCTION _ff_metrics_selftest(boolean, float8) IS
  'Test hook: an RPC wrapped by ff_tracked_call that sleeps p_sleep_ms and fails if p_fail';

-- Flushed and not-yet-flushed data together, per rpc and UTC hour.
-- Lower bound (UTC hour) of the not-yet-flushed data; hours before it come straight
-- from the rollup (stored quantiles), hours from it on are merged with shared memory.
CREATE FUNCTION _ff_metrics_pending_from() RETURNS timestamptz
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(min(@extschema@._ff_metrics_hour(p.bucket_start)), 'infinity'::timestamptz)
  FROM @extschema@._ff_metrics_pending() p
$$;

CREATE VIEW rpc_metrics_hourly AS
SELECT r.rpc, r.hour, r.calls, r.errors,
       (r.errors::float8 / nullif(r.calls, 0)::float8) AS error_rate,
       (r.total_ms / nullif(r.calls, 0)::float8) AS mean_ms,
       least(r.quantiles[1], r.max_ms) AS p50_ms,
       least(r.quantiles[2], r.max_ms) AS p95_ms,
       least(r.quantiles[3], r.max_ms) AS p99_ms,
       r.max_ms
FROM @extschema@.rpc_metrics_rollup r
WHERE r.hour < (SELECT @extschema@._ff_metrics_pending_from())
UNION ALL
SELECT g.rpc, g.hour, g.calls, g.errors,
       (g.errors::float8 / nullif(g.calls, 0)::float8),
       (g.total_ms / nullif(g.calls, 0)::float8),
       least(g.q[1], g.max_ms), least(g.q[2], g.max_ms), least(g.q[3], g.max_ms),
       g.max_ms
FROM (SELECT m.rpc, m.hour, sum(m.calls)::bigint AS calls, sum(m.errors)::bigint AS errors,
             sum(m.total_ms) AS total_ms, max(m.max_ms) AS max_ms,
             @extschema@.ff_sketch_merge_quantiles(m.sketch, '{0.5,0.95,0.99}'::float8[]) AS q
      FROM (SELECT r.rpc, r.hour, r.calls, r.errors, r.total_ms, r.max_ms, r.sketch
            FROM @extschema@.rpc_metrics_rollup r
            WHERE r.hour >= (SELECT @extschema@._ff_metrics_pending_from())
            UNION ALL
            SELECT p.rpc, @extschema@._ff_metrics_hour(p.bucket_start), p.calls, p.errors,
                   p.total_ms, p.max_ms, p.sketch
            FROM @extschema@._ff_metrics_pending() p
            WHERE @extschema@._ff_metrics_hour(p.bucket_start) >= (SELECT @extschema@._ff_metrics_pending_from())) m
      GROUP BY m.rpc, m.hour) g;
COMMENT ON VIEW rpc_metrics_hourly IS
  'RPC calls, errors, mean and p50/p95/p99/max latency per rpc and UTC hour (flushed + pending)';

CREATE FUNCTION _ff_status_metrics() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'metrics'::text, s.d ->> 'mode', s.d FROM (SELECT @extschema@._ff_metrics_status() AS d) s
$$;

-- Privileges: apps log their RPCs; reading and flushing metrics is service_role's.
REVOKE EXECUTE ON FUNCTION _log_rpc(text, float8, boolean), _ff_log_rpc_at(text, float8, boolean, timestamptz),
  rpc_metrics_flush(), _ff_metrics_flush_all(), _ff_metrics_pending(),
  _ff_metrics_selftest(boolean, float8), _ff_metrics_pending_from(), _ff_metrics_prune_rollup(), _ff_metrics_rollup_recompute(jsonb) FROM PUBLIC;
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'authenticated'),
  ('FUNCTION', '_log_rpc(text, double precision, boolean)', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_log_rpc_at(text, double precision, boolean, timestamp with time zone)', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'rpc_metrics_flush()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_flush_all()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_pending()', 'EXECUTE', 'service_role'),
  ('FUNCTION', '_ff_metrics_pending_from()', 'EXECUTE', 'service_role'),
  ('VIEW', 'rpc_metrics_hourly', 'SELECT', 'service_role');

-- ==== sql/ext/60_feed.sql ====
-- 60_feed.sql — feed fusion RPCs (§5): home feed, profile feed, next best actions,
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

CREATE FUNCTION _ff_status_feed() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'feed'::text, 'table'::text, jsonb_build_object(
    'cursor_version', 1,
    'cursor_secret', EXISTS (SELECT 1 FROM @extschema@._ff_feed_secret),
    'lanes', (SELECT coalesce(jsonb_agg(l.lane ORDER BY l.lane), '[]') FROM @extschema@.feed_lanes l),
    'network_strategy', coalesce(current_setting('feed_fusion.feed_network_strategy', true), 'auto'),
    'merge_max_follows', current_setting('feed_fusion.feed_merge_max_follows', true))
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
  ('FUNCTION', 'rocker_next_best_actions(int)', 'EXECUTE', 'service_role');

-- ==== sql/ext/80_rls.sql ====
-- 80_rls.sql — row-level security (§3).
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

-- ==== sql/ext/85_status.sql ====
-- 85_status.sql — ff_status(): one row per component with its mode and details.
-- Each component owns its _ff_status_<component>() function.

CREATE FUNCTION ff_status() RETURNS TABLE (component text, mode text, detail jsonb)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT * FROM @extschema@._ff_status_rate_limiter()
  UNION ALL SELECT * FROM @extschema@._ff_status_metrics()
  UNION ALL SELECT * FROM @extschema@._ff_status_flags()
  UNION ALL SELECT * FROM @extschema@._ff_status_feed()
$$;
COMMENT ON FUNCTION ff_status() IS
  'One row per component (rate_limiter, metrics, flags, feed): mode (shared_memory|table) and details';

-- ==== sql/ext/90_grants.sql ====
-- 90_grants.sql — privileges for the Supabase roles, and what pg_dump must keep.

INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name) VALUES
  -- identity and status
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_current_user()', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'anon'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'authenticated'),
  ('FUNCTION', 'ff_status()', 'EXECUTE', 'service_role'),
  ('FUNCTION', 'ff_run_maintenance()', 'EXECUTE', 'service_role'),
  -- public content: everyone reads, owners write (RLS decides which rows)
  ('TABLE', 'entities', 'SELECT', 'anon'),
  ('TABLE', 'entities', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'follows', 'SELECT', 'anon'),
  ('TABLE', 'follows', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'posts', 'SELECT', 'anon'),
  ('TABLE', 'posts', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'listings', 'SELECT', 'anon'),
  ('TABLE', 'listings', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'events', 'SELECT', 'anon'),
  ('TABLE', 'events', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  -- per-user tables: authenticated users, their own rows only
  ('TABLE', 'feed_hides', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'shopping_cart_items', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  ('TABLE', 'usage_events', 'SELECT, INSERT, UPDATE, DELETE', 'authenticated'),
  -- configuration: read by authenticated, written by service_role
  ('TABLE', 'feature_flags', 'SELECT', 'authenticated'),
  ('TABLE', 'rate_limit_profiles', 'SELECT', 'authenticated'),
  ('TABLE', 'feed_lanes', 'SELECT', 'authenticated');

-- service_role: everything on every table and sequence (it bypasses RLS).
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname,
       CASE WHEN c.relkind = 'S' THEN 'USAGE, SELECT, UPDATE' ELSE 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE' END,
       'service_role'
FROM pg_class c
WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p', 'S')
  AND c.relname NOT LIKE '\_ff\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
  AND EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
              AND x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'));

-- Identity sequences writable by authenticated where it inserts rows.
INSERT INTO _ff_grants (object_kind, object_name, privileges, role_name)
SELECT 'SEQUENCE', s.relname, 'USAGE, SELECT', 'authenticated'
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class t ON t.oid = d.refobjid
WHERE d.deptype = 'i' AND t.relnamespace = '@extschema@'::regnamespace
  AND t.relname IN ('posts', 'listings', 'events', 'usage_events');

-- No app role reaches internal helpers, storage or maintenance by default.

REVOKE EXECUTE ON FUNCTION ff_run_maintenance(), ff_apply_grants(),
  _ff_restore_withhold_indexes(), _ff_restore_indexes(),
  _ff_partition(text, text, text, timestamptz, int, interval, text),
  _ff_run_maintenance(text) FROM PUBLIC;

-- pg_dump keeps the rows of every table that holds user data or editable
-- configuration (seeds are skipped on restore, so they are never doubled), and
-- the identity sequences' positions.
DO $$
DECLARE t regclass;
BEGIN
  FOR t IN SELECT c.oid::regclass
FROM pg_class c
WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'S')
  AND c.relname NOT LIKE '\_ff\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
  AND EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
              AND x.deptype = 'e' AND x.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'))
  AND c.relname NOT IN ('rate_limit_counters')
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(t, '');   -- one call per statement
  END LOOP;
END $$;

SELECT ff_apply_grants();
SELECT pg_catalog.pg_extension_config_dump('_ff_partman_config', '');

-- Restore mode (see 05_partitions.sql): withhold the partitioned parents' indexes and
-- key constraints until pg_dump's partitions and their indexes exist, then put them
-- back through a one-shot event trigger that removes itself.
DO $$
BEGIN
  IF @extschema@._ff_restoring() THEN
    PERFORM @extschema@._ff_restore_withhold_indexes();
    CREATE EVENT TRIGGER _ff_restore_indexes_trg ON ddl_command_start
      WHEN TAG IN ('ALTER INDEX') EXECUTE FUNCTION @extschema@._ff_restore_indexes_evt();
    -- also under session_replication_role = replica (the documented parallel restore)
    ALTER EVENT TRIGGER _ff_restore_indexes_trg ENABLE ALWAYS;
  END IF;
END $$;
