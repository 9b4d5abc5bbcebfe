#!/usr/bin/env bash
# pg_dump / pg_restore round trip of a feed_fusion database with data in every table
# (docs/operations.md): plain format through psql and custom format through pg_restore (also
# parallel), each into a fresh database.  Checks that every row of every partition,
# the added and edited config rows and the sequences come back, seeds are not
# doubled, the restore reports no error at all, and the extension still works; restored
# into a database with Supabase's default privileges, partitions give app roles nothing.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set +e -uo pipefail
# Run once on a cluster without shared_preload_libraries, then once with it (FND_PRELOAD).
P="${FND_PRELOAD:-0}"
C="fnd_dump$P"
ff_cluster_start "$C" "$P" || { echo "cannot start cluster"; exit 1; }
trap 'ff_cluster_stop "$C"' EXIT
ff_psql "$C" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null || exit 1
W="$FF_STAGE/$C/work"; mkdir -p "$W"; [ "$(id -u)" -eq 0 ] && chown postgres: "$W"
echo "# preload=$P"
q() { local db="$1"; shift; ff_psql "$C" -d "$db" -At "$@"; }

# ---- source database ---------------------------------------------------------------
ff_psql "$C" -d postgres -c "CREATE DATABASE src" >/dev/null
out="$(q src -c "SET client_min_messages = warning; CREATE EXTENSION feed_fusion CASCADE" 2>&1)" \
  || { echo "CREATE EXTENSION failed: $out"; exit 1; }
q src >/dev/null <<'SQL' || { echo "loading data failed"; exit 1; }
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
 ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'person', 'alice'),
 ('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-000000000002', 'business', 'bobshop');
INSERT INTO follows VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a1', now());
-- posts over 14 months: several monthly partitions plus old months in the default partition
INSERT INTO posts (author_entity_id, kind, body, base_score, created_at, deleted_at)
SELECT '00000000-0000-4000-8000-0000000000a1', CASE WHEN g % 3 = 0 THEN 'reel' ELSE 'post' END,
       'post ' || g, 0.1 + (g % 9) / 10.0, now() - g * interval '5 days',
       CASE WHEN g % 7 = 0 THEN now() END
FROM generate_series(0, 85) g;
INSERT INTO listings (seller_entity_id, title, price_cents, status)
SELECT '00000000-0000-4000-8000-0000000000b2', 'thing ' || g, 100 * g,
       (ARRAY['draft', 'active', 'sold', 'removed'])[1 + g % 4] FROM generate_series(1, 8) g;
INSERT INTO events (host_entity_id, title, starts_at, ends_at)
VALUES ('00000000-0000-4000-8000-0000000000b2', 'launch', now(), now() + interval '1 hour');
INSERT INTO feed_hides VALUES ('00000000-0000-4000-8000-000000000001', 'post', 3, now());
INSERT INTO shopping_cart_items (user_id, listing_id, quantity)
SELECT '00000000-0000-4000-8000-000000000001', id, 2 FROM listings WHERE status = 'active';
INSERT INTO usage_events (user_id, event, props, occurred_at)
SELECT '00000000-0000-4000-8000-000000000001', 'open', jsonb_build_object('n', g), now() - g * interval '1 day'
FROM generate_series(0, 40) g;
INSERT INTO rpc_metrics (rpc, bucket_start, calls, errors, total_ms, max_ms)
SELECT 'feed_fusion_home', date_trunc('minute', now()) - g * interval '1 hour', 10 + g, g % 2, 5.5 * g, 2.0 * g
FROM generate_series(0, 50) g;
INSERT INTO rate_limit_counters (key, tat) VALUES ('u:x:standard', 0);
-- configuration: a flag the user added, a seeded flag the user edited, an edited lane,
-- an added rate-limit profile
INSERT INTO feature_flags (key, enabled, rollout_percent, description) VALUES ('my_new_flag', true, 42, 'mine');
UPDATE feature_flags SET enabled = true, rollout_percent = 100 WHERE key = 'payments_real';
UPDATE feed_lanes SET window_size = 33, w_listings = 0.5 WHERE lane = 'shop';
INSERT INTO rate_limit_profiles VALUES ('partner', 77, interval '7 seconds');
-- a partition created later by maintenance (premake raised from 4 to 6 months)
UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '6') WHERE parent_table = 'posts';
SELECT ff_run_maintenance();
INSERT INTO posts (author_entity_id, body, created_at)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'future', now() + interval '5 months');
SQL
check "maintenance created a later partition (non-member)" 1 \
  "$(q src -c "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = 'posts'::regclass AND c.relname = to_char(now() + interval '6 months', '\"posts_p\"YYYY_MM')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')")"
check "posts spread over several partitions" t \
  "$(q src -c "SELECT count(DISTINCT tableoid) >= 10 AND bool_or(tableoid = 'posts_default'::regclass) FROM posts")"

# Fingerprint of every row of user data and config, partition by partition (superuser:
# no RLS), and of the schema the extension should have.
FP="SELECT string_agg(t || ':' || n || ':' || h, E'\n' ORDER BY t) FROM (
  SELECT 'entities' t, count(*) n, md5(string_agg(x::text, ',' ORDER BY x::text)) h FROM entities x
  UNION ALL SELECT 'follows', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM follows x
  UNION ALL SELECT 'posts', count(*), md5(string_agg(tableoid::regclass::text || x::text, ',' ORDER BY x::text)) FROM posts x
  UNION ALL SELECT 'listings', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM listings x
  UNION ALL SELECT 'events', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM events x
  UNION ALL SELECT 'feed_hides', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM feed_hides x
  UNION ALL SELECT 'cart', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM shopping_cart_items x
  UNION ALL SELECT 'usage_events', count(*), md5(string_agg(tableoid::regclass::text || x::text, ',' ORDER BY x::text)) FROM usage_events x
  UNION ALL SELECT 'rpc_metrics', count(*), md5(string_agg(tableoid::regclass::text || x::text, ',' ORDER BY x::text)) FROM rpc_metrics x
  UNION ALL SELECT 'feature_flags', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM feature_flags x
  UNION ALL SELECT 'feed_lanes', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM feed_lanes x
  UNION ALL SELECT 'rate_limit_profiles', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM rate_limit_profiles x
  UNION ALL SELECT 'partman_config', count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM _ff_partman_config x
  UNION ALL SELECT 'sequences', count(*), string_agg(s.relname || '=' || coalesce(pg_sequence_last_value(s.oid), 0), ',' ORDER BY s.relname)
    FROM pg_class s WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'partitions', count(*), md5(string_agg(c.relname || pg_get_expr(c.relpartbound, c.oid), ',' ORDER BY c.relname))
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  UNION ALL SELECT 'indexes', count(*), md5(string_agg(i.indexrelid::regclass::text || ':' || i.indisvalid || ':' || pg_get_indexdef(i.indexrelid), ',' ORDER BY i.indexrelid::regclass::text))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'constraints', count(*), md5(string_agg(conrelid::regclass::text || conname || pg_get_constraintdef(oid), ',' ORDER BY conrelid::regclass::text, conname))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'policies', count(*), md5(string_agg(tablename || policyname || cmd || array_to_string(roles, '+') || coalesce(qual, '') || coalesce(with_check, ''), ',' ORDER BY tablename, policyname))
    FROM pg_policies WHERE schemaname = 'public'
  UNION ALL SELECT 'rls', count(*), string_agg(relname, ',' ORDER BY relname) FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relrowsecurity
      AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = pg_class.oid)
      AND relname NOT IN ('part_config', 'part_config_sub', 'custom_time_partitions')
  UNION ALL SELECT 'members', count(*), md5(string_agg(pg_describe_object(classid, objid, objsubid), ',' ORDER BY pg_describe_object(classid, objid, objsubid)))
    FROM pg_depend WHERE deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion')
  UNION ALL SELECT 'acl', count(*), md5(string_agg(relname || coalesce(relacl::text, ''), ',' ORDER BY relname))
    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'S')
  UNION ALL SELECT 'part_config_rows', count(*), '' FROM part_config
) s"
SRC_FP="$(q src -c "$FP")" || { echo "fingerprint failed"; exit 1; }
echo "$SRC_FP" | grep -q '^partman_config:3:' || { echo "unexpected source fingerprint:"; echo "$SRC_FP"; exit 1; }

ff_as_pg "$FF_PGBIN/pg_dump" -h "$FF_STAGE/$C" -U postgres -d src -f "$W/plain.sql" || exit 1
ff_as_pg "$FF_PGBIN/pg_dump" -h "$FF_STAGE/$C" -U postgres -d src -Fc -f "$W/custom.dump" || exit 1

verify() {  # verify DB LABEL
  local db="$1" l="$2"
  check "$l: every row, partition, index, policy, sequence and config row as in the source" \
    "$SRC_FP" "$(q "$db" -c "$FP")"
  check "$l: seeds not doubled, added and edited config kept" "5|t|t|33|6|partner=77" "$(q "$db" -c "
    SELECT (SELECT count(*) FROM feature_flags),
           (SELECT enabled AND rollout_percent = 100 FROM feature_flags WHERE key = 'payments_real'),
           (SELECT enabled AND rollout_percent = 42 FROM feature_flags WHERE key = 'my_new_flag'),
           (SELECT window_size FROM feed_lanes WHERE lane = 'shop'),
           (SELECT count(*) FROM rate_limit_profiles),
           (SELECT name || '=' || capacity FROM rate_limit_profiles WHERE name = 'partner')")"
  check "$l: parent indexes valid, nothing pending, no event trigger left" "0|0|0" "$(q "$db" -c "
    SELECT (SELECT count(*) FROM pg_index WHERE NOT indisvalid),
           (SELECT count(*) FROM _ff_restore_pending),
           (SELECT count(*) FROM pg_event_trigger)")"
  check "$l: posts keep their primary key on the parent" "posts_pkey" \
    "$(q "$db" -c "SELECT conname FROM pg_constraint WHERE conrelid = 'posts'::regclass AND contype = 'p'")"
  # The extension works: new rows get fresh ids (no collision), through RLS too.
  check "$l: new rows continue the identity sequences" "t|t|t" "$(q "$db" -c "
    WITH p AS (INSERT INTO posts (author_entity_id, body) VALUES ('00000000-0000-4000-8000-0000000000a1', 'after') RETURNING id),
         u AS (INSERT INTO usage_events (user_id, event) VALUES (NULL, 'after') RETURNING id),
         l AS (INSERT INTO listings (seller_entity_id, title, price_cents) VALUES ('00000000-0000-4000-8000-0000000000b2', 'after', 1) RETURNING id)
    SELECT (SELECT id FROM p) > 87, (SELECT id FROM u) > 41, (SELECT id FROM l) > 8")"
  check "$l: owner writes through RLS" "1" "$(q "$db" -c "
    SELECT tests_login('00000000-0000-4000-8000-000000000001');
    SET ROLE authenticated;
    INSERT INTO posts (author_entity_id, body) VALUES ('00000000-0000-4000-8000-0000000000a1', 'rls') RETURNING 1;
    RESET ROLE;" 2>&1 | tail -1)"
  check "$l: ff_current_user, ff_status, ff_apply_grants work" "00000000-0000-4000-8000-000000000009|4|t" "$(q "$db" -c "
    SET request.jwt.claims = '{\"sub\": \"00000000-0000-4000-8000-000000000009\"}';
    SELECT ff_current_user(), (SELECT count(*) FROM ff_status()), ff_apply_grants() > 0")"
  check "$l: ff_run_maintenance works and leaves part_config empty" "0" "$(q "$db" -c "
    UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '7') WHERE parent_table = 'posts';
    SELECT ff_run_maintenance();
    SELECT count(*) FROM part_config;" | tail -1)"
  check "$l: maintenance after restore premakes a new partition" 1 "$(q "$db" -c "
    SELECT count(*) FROM pg_class WHERE relname = to_char(now() + interval '7 months', '\"posts_p\"YYYY_MM')")"
  check "$l: DROP EXTENSION on the restored database leaves none of our tables" "0" "$(q "$db" -c "
    DROP EXTENSION feed_fusion;
    SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind NOT IN ('i', 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                      WHERE d.objid = c.oid AND d.deptype = 'e' AND e.extname = 'pg_partman')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                      WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND t.relname ~ '^(part_config|custom_time)');" | tail -1)"
}
# helper used inside verify (session-local claims)
LOGIN_FN="CREATE FUNCTION tests_login(u uuid) RETURNS void LANGUAGE sql AS \$\$
  SELECT set_config('request.jwt.claims', json_build_object('sub', u)::text, false) \$\$;"

# ---- plain format through psql (autocommit, then --single-transaction) ---------------
for mode in auto single; do
  db="dst_plain_$mode"
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  opt=""; [ "$mode" = single ] && opt="--single-transaction"
  ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 $opt -h "$FF_STAGE/$C" -U postgres -d "$db" \
    -f "$W/plain.sql" >"$W/$db.out" 2>"$W/$db.err"
  check "plain $mode: psql exit status" 0 "$?"
  check "plain $mode: nothing on stderr" "" "$(cat "$W/$db.err")"
  q "$db" -c "$LOGIN_FN" >/dev/null
  verify "$db" "plain $mode"
done

# ---- custom format through pg_restore (serial, then parallel) -------------------------
# A parallel restore loads the extension's tables concurrently while their foreign keys
# (made by CREATE EXTENSION) are in place, so it runs with session_replication_role =
# replica, as docs/operations.md says.
for jobs in 1 2; do
  db="dst_custom_$jobs"
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  opts=""; [ "$jobs" -gt 1 ] && opts="-c session_replication_role=replica"
  PGOPTIONS="$opts" ff_as_pg env PGOPTIONS="$opts" "$FF_PGBIN/pg_restore" -h "$FF_STAGE/$C" -U postgres -d "$db" -j "$jobs" --exit-on-error \
    "$W/custom.dump" >"$W/$db.out" 2>"$W/$db.err"
  check "custom -j$jobs: pg_restore exit status" 0 "$?"
  check "custom -j$jobs: nothing on stderr" "" "$(cat "$W/$db.err")"
  q "$db" -c "$LOGIN_FN" >/dev/null
  verify "$db" "custom -j$jobs"
done

# ---- into a database with Supabase's default privileges -------------------------------
# There pg_restore creates the partitions with ALL for anon, authenticated and
# service_role (ALTER DEFAULT PRIVILEGES IN SCHEMA public, set before the restore): the
# restore takes that away (_ff_restore_indexes), and CREATE EXTENSION does for members.
db=dst_supabase
ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
q "$db" >/dev/null <<'SQL'
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
SQL
ff_as_pg "$FF_PGBIN/pg_restore" -h "$FF_STAGE/$C" -U postgres -d "$db" --exit-on-error \
  "$W/custom.dump" >"$W/$db.out" 2>"$W/$db.err"
check "supabase defaults: pg_restore exit status" 0 "$?"
check "supabase defaults: nothing on stderr" "" "$(cat "$W/$db.err")"
check "supabase defaults: every row, partition, index, policy and config row as in the source" \
  "$(grep -v '^acl:' <<<"$SRC_FP")" "$(q "$db" -c "$FP" | grep -v '^acl:')"
check "supabase defaults: app roles hold nothing on partitions, no TRUNCATE/TRIGGER/REFERENCES on ours" "0|0" \
  "$(q "$db" -c "
  WITH RECURSIVE tree AS (
    SELECT d.objid AS oid, false AS part FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE e.extname = 'feed_fusion' AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
    UNION SELECT i.inhrelid, true FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid),
  held AS (
    SELECT t.part, x.privilege_type FROM tree t JOIN pg_class c ON c.oid = t.oid, aclexplode(c.relacl) x
    WHERE x.grantee = 0 OR pg_get_userbyid(x.grantee) IN ('anon', 'authenticated', 'service_role'))
  SELECT count(*) FILTER (WHERE part), count(*) FILTER (WHERE privilege_type IN ('TRUNCATE', 'TRIGGER', 'REFERENCES'))
  FROM held")"

ff_cluster_stop "$C"; trap - EXIT
if [ "$P" = 0 ]; then
  echo "# preload=$P: $CHECK_PASSED passed, $CHECK_FAILED failed"
  check_true "the same on a cluster with shared_preload_libraries (FND_PRELOAD=1)" env FND_PRELOAD=1 bash "$0"
fi
check_done
