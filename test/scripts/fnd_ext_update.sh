#!/usr/bin/env bash
# ALTER EXTENSION feed_fusion UPDATE from every frozen release in test/upgrade/ to the
# version being built: the old install script (copied into the private install, run with
# the NEW library, so the new .so still has every C symbol it names) plus the upgrade
# scripts must give exactly what a fresh CREATE EXTENSION gives — members, function
# definitions and ACLs, columns in order, constraints, indexes, triggers, policies,
# grants, RLS flags, comments, views, init privileges, dependencies, config-dump
# registrations and seed rows — while every row the database held before the update
# (user data, partitions, edited and added config rows, sequences) is still there.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set +e -uo pipefail
C=fnd_ext_update
EXTDIR="$FF_INST$("$FF_PG_CONFIG" --sharedir)/extension"
W="$FF_STAGE/$C/work"   # inside the cluster directory (made afresh below)
STAGED=()
cleanup() {
  ff_cluster_stop "$C"
  local f; for f in "${STAGED[@]}"; do rm -f "$f"; done
}
trap cleanup EXIT
q() { local db="$1"; shift; ff_psql "$C" -d "$db" -At "$@" 2>&1; }
# snap DB FILE < SQL: query output into FILE; on any error, "not ok" and an empty FILE.
snap() {
  if ! ff_psql "$C" -d "$1" -At > "$2" 2> "$2.err" || [ -s "$2.err" ]; then
    fail "query on $1 for $(basename "$2")" "$(sed 's/^/#   /' "$2.err")"; : > "$2"
  fi
}

NEW="$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$EXTDIR/feed_fusion.control")"
[ -n "$NEW" ] || { echo "no default_version in $EXTDIR/feed_fusion.control"; exit 1; }
OLDS=()
for f in "$FF_SRC"/test/upgrade/feed_fusion--*.sql; do
  [ -e "$f" ] || continue
  v="$(basename "$f" .sql)"; v="${v#feed_fusion--}"
  [ "$v" = "$NEW" ] && continue
  cp "$f" "$EXTDIR/"; chmod 644 "$EXTDIR/$(basename "$f")"; STAGED+=("$EXTDIR/$(basename "$f")")
  OLDS+=("$v")
done
[ ${#OLDS[@]} -gt 0 ] || { echo "no frozen install script in test/upgrade/"; exit 1; }
echo "# new version $NEW, updating from: ${OLDS[*]}"

ff_cluster_start "$C" 1 || { echo "cannot start cluster"; exit 1; }
mkdir -p "$W"
ff_psql "$C" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null || exit 1

# Relations of ours: the extension's member relations, their partitions (recursively),
# indexes and owned sequences.  Created (temporary) in each session that needs it.
SCOPE="SET client_min_messages = warning;
SET search_path = pg_catalog, pg_temp;
CREATE TEMP VIEW ff_member AS
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
  WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'feed_fusion' AND d.deptype = 'e';
CREATE TEMP VIEW ff_scope AS
  WITH RECURSIVE tree AS (
    SELECT objid AS oid FROM ff_member WHERE classid = 'pg_class'::regclass
    UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
  SELECT oid FROM tree
  UNION SELECT i.indexrelid FROM pg_index i JOIN tree t ON i.indrelid = t.oid
  UNION SELECT d.objid FROM pg_depend d JOIN tree t ON d.refobjid = t.oid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S';
-- An ACL as 'grantee:privilege[*] by grantor, ...' with role names; NULL: (default).
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql AS \$\$
  SELECT CASE WHEN a IS NULL THEN '(default)' ELSE coalesce((
    SELECT string_agg(s, ', ' ORDER BY s) FROM (
      SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END || ':'
             || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END
             || ' by ' || pg_get_userbyid(x.grantor) AS s
      FROM aclexplode(a) x) y), '(none)') END
\$\$;"

# Config rows the test adds or edits in the updated database; seeds are compared on the
# other keys (the same filter runs on both databases).
TOUCHED_FLAGS="'payments_real', 'upd_my_flag'"
TOUCHED_PROFILES="'auth', 'upd_partner'"
TOUCHED_LANES="'shop', 'upd_lane'"

# The catalog as text, one record per object, sorted; multi-line values indented.
CATALOG="$SCOPE
SELECT '[' || sec || '] ' || key || E'\n' || regexp_replace(coalesce(val, '(null)'), '^', '    ', 'gn')
FROM (
  SELECT 'extension' AS sec, e.extname::text AS key,
         format('version=%s relocatable=%s schema=%s owner=%s', e.extversion, e.extrelocatable,
                e.extnamespace::regnamespace, pg_get_userbyid(e.extowner)) AS val
  FROM pg_extension e
  UNION ALL
  SELECT 'extconfig', u.c::regclass::text, coalesce(u.cond, '(null)')
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u (c, cond) WHERE e.extname = 'feed_fusion'
  UNION ALL
  SELECT 'member', pg_describe_object(m.classid, m.objid, m.objsubid), (pg_identify_object(m.classid, m.objid, m.objsubid)).type
  FROM ff_member m
  UNION ALL
  SELECT 'function', p.oid::regprocedure::text,
         CASE WHEN p.prokind = 'a' THEN (
           SELECT format('AGGREGATE sfunc=%s stype=%s finalfunc=%s combinefunc=%s sspace=%s kind=%s parallel=%s',
                         a.aggtransfn, format_type(a.aggtranstype, NULL), a.aggfinalfn, a.aggcombinefn,
                         a.aggtransspace, a.aggkind, p.proparallel)
           FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
         ELSE pg_get_functiondef(p.oid) END
         || E'\nowner ' || pg_get_userbyid(p.proowner) || E'\nacl ' || pg_temp.acl(p.proacl)
  FROM ff_member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  UNION ALL
  SELECT 'schema relation', c.oid::regclass::text, c.relkind::text
  FROM pg_class c JOIN pg_extension e ON e.extnamespace = c.relnamespace AND e.extname = 'feed_fusion'
  UNION ALL
  SELECT 'schema function', p.oid::regprocedure::text, p.prokind::text
  FROM pg_proc p JOIN pg_extension e ON e.extnamespace = p.pronamespace AND e.extname = 'feed_fusion'
  UNION ALL
  SELECT 'relation', c.oid::regclass::text,
         format('kind=%s persistence=%s rls=%s force_rls=%s options=%s owner=%s partition=%s bound=%s partkey=%s replident=%s am=%s',
                c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.reloptions,
                pg_get_userbyid(c.relowner), c.relispartition, pg_get_expr(c.relpartbound, c.oid),
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, c.relreplident, am.amname)
         || E'\nacl ' || pg_temp.acl(c.relacl)
  FROM pg_class c JOIN ff_scope s ON s.oid = c.oid LEFT JOIN pg_am am ON am.oid = c.relam
  UNION ALL
  SELECT 'column', a.attrelid::regclass::text || '.' || a.attname,
         format('position=%s type=%s notnull=%s default=%s generated=%s identity=%s collation=%s local=%s inhcount=%s storage=%s compression=%s acl=%s',
                row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated, a.attidentity,
                a.attcollation::regcollation, a.attislocal, a.attinhcount, a.attstorage, a.attcompression,
                pg_temp.acl(a.attacl))
  FROM pg_attribute a JOIN ff_scope s ON s.oid = a.attrelid JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
  UNION ALL
  SELECT 'constraint', con.conrelid::regclass::text || '.' || con.conname,
         format('type=%s %s deferrable=%s deferred=%s validated=%s local=%s inhcount=%s noinherit=%s index=%s',
                con.contype, pg_get_constraintdef(con.oid), con.condeferrable, con.condeferred, con.convalidated,
                con.conislocal, con.coninhcount, con.connoinherit, con.conindid::regclass)
  FROM pg_constraint con JOIN ff_scope s ON s.oid = con.conrelid
  UNION ALL
  SELECT 'index', i.indexrelid::regclass::text,
         pg_get_indexdef(i.indexrelid) || format(' (valid=%s ready=%s live=%s clustered=%s replident=%s)',
                i.indisvalid, i.indisready, i.indislive, i.indisclustered, i.indisreplident)
  FROM pg_index i JOIN ff_scope s ON s.oid = i.indexrelid
  UNION ALL
  SELECT 'trigger', t.tgrelid::regclass::text || '.' || t.tgname, pg_get_triggerdef(t.oid) || ' (enabled=' || t.tgenabled::text || ')'
  FROM pg_trigger t JOIN ff_scope s ON s.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'policy', p.tablename || '.' || p.policyname,
         format('permissive=%s roles=%s cmd=%s using=%s with_check=%s', p.permissive, p.roles, p.cmd, p.qual, p.with_check)
  FROM pg_policies p JOIN pg_extension e ON e.extnamespace::regnamespace::text = p.schemaname AND e.extname = 'feed_fusion'
  UNION ALL
  SELECT 'sequence', s.seqrelid::regclass::text,
         format('type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s', format_type(s.seqtypid, NULL),
                s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
  FROM pg_sequence s JOIN ff_scope sc ON sc.oid = s.seqrelid
  UNION ALL
  SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid, true)
  FROM pg_class c JOIN ff_scope s ON s.oid = c.oid WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'event trigger', evtname::text, format('%s %s enabled=%s tags=%s', evtevent, evtfoid::regproc, evtenabled, evttags)
  FROM pg_event_trigger
  UNION ALL
  SELECT 'init privs', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), ip.privtype::text || ' ' || pg_temp.acl(ip.initprivs)
  FROM pg_init_privs ip WHERE ip.objoid >= 16384
  UNION ALL
  SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
  FROM pg_description d WHERE d.objoid >= 16384
  UNION ALL
  SELECT 'depend', x.obj || ' -> ' || x.ref, x.deptype
  FROM (SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS obj,
               pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) AS ref, d.deptype::text AS deptype
        FROM pg_depend d WHERE d.objid >= 16384 AND d.deptype <> 'e'
          AND NOT (d.classid = 'pg_trigger'::regclass      -- foreign-key triggers: names hold oids
                   AND (SELECT tgisinternal FROM pg_trigger WHERE oid = d.objid))) x
  WHERE x.obj NOT LIKE '%pg_temp%' AND x.obj NOT LIKE '%pg_toast.%'   -- names hold oids
  UNION ALL
  SELECT 'seed feature_flags', x.key, (to_jsonb(x) - 'updated_at')::text
  FROM public.feature_flags x WHERE x.key NOT IN ($TOUCHED_FLAGS)
  UNION ALL
  SELECT 'seed rate_limit_profiles', x.name, to_jsonb(x)::text
  FROM public.rate_limit_profiles x WHERE x.name NOT IN ($TOUCHED_PROFILES)
  UNION ALL
  SELECT 'seed feed_lanes', x.lane, to_jsonb(x)::text
  FROM public.feed_lanes x WHERE x.lane NOT IN ($TOUCHED_LANES)
  UNION ALL
  SELECT 'config _ff_grants', format('%s %s %s', x.object_kind, x.object_name, x.role_name), x.privileges
  FROM public._ff_grants x
  UNION ALL
  SELECT 'config _ff_partman_config', x.parent_table, x.config::text FROM public._ff_partman_config x
  UNION ALL
  SELECT 'config _ff_restore_pending', x.relname || ' ' || x.ord, x.ddl FROM public._ff_restore_pending x
  UNION ALL
  SELECT 'config _ff_feed_secret', 'rows', count(*)::text FROM public._ff_feed_secret
) r
ORDER BY sec COLLATE \"C\", key COLLATE \"C\", val COLLATE \"C\";"

# A query that fingerprints every row of every table of ours (each partition on its
# own, over the columns it has now) and the identity sequences; generated in the old
# database before the update, then run before and after it.  Not _ff_grants: the
# privilege registry is the install script's own (an update brings it to the new
# version's; the catalog comparison below checks it equals a fresh install's).
GEN_FP="$SCOPE
SELECT string_agg(format('SELECT %L AS t, count(*) AS n, md5(coalesce(string_agg(r::text, %L ORDER BY r::text), %L)) AS h FROM (SELECT %s FROM ONLY %s) r',
                         c.oid::regclass::text, E'\n', '', cols.l, c.oid::regclass), E'\nUNION ALL ')
       || E'\nUNION ALL SELECT ''sequence '' || c.oid::regclass, 1, coalesce(pg_sequence_last_value(c.oid), 0)::text FROM pg_class c'
       || E'\n  WHERE c.relkind = ''S'' AND c.relnamespace = (SELECT extnamespace FROM pg_extension WHERE extname = ''feed_fusion'')'
       || E'\nORDER BY 1'
FROM pg_class c JOIN ff_scope s ON s.oid = c.oid,
     LATERAL (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS l FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) cols
WHERE c.relkind = 'r' AND c.relname <> '_ff_grants';"

# Data in every table of ours (superuser, so RLS does not apply).
LOAD="$(cat <<'SQL'
SET client_min_messages = warning;
INSERT INTO entities (id, owner_user_id, kind, handle) VALUES
 ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'person', 'alice'),
 ('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-000000000002', 'business', 'bobshop');
INSERT INTO follows VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a1', now()),
                           ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000b2', now());
-- posts over 14 months: many monthly partitions plus the default one
INSERT INTO posts (author_entity_id, kind, body, base_score, created_at, deleted_at)
SELECT '00000000-0000-4000-8000-0000000000a1', CASE WHEN g % 3 = 0 THEN 'reel' ELSE 'post' END,
       'post ' || g, 0.1 + (g % 9) / 10.0, now() - g * interval '5 days' + interval '1 day',
       CASE WHEN g % 7 = 0 THEN now() END
FROM generate_series(0, 85) g;
INSERT INTO listings (seller_entity_id, title, price_cents, status)
SELECT '00000000-0000-4000-8000-0000000000b2', 'thing ' || g, 100 * g,
       (ARRAY['draft', 'active', 'sold', 'removed'])[1 + g % 4] FROM generate_series(1, 8) g;
INSERT INTO events (host_entity_id, title, starts_at, ends_at)
VALUES ('00000000-0000-4000-8000-0000000000b2', 'launch', now(), now() + interval '1 hour'),
       ('00000000-0000-4000-8000-0000000000a1', 'party', now() + interval '2 days', now() + interval '3 days');
INSERT INTO feed_hides VALUES ('00000000-0000-4000-8000-000000000001', 'post', 3, now()),
                              ('00000000-0000-4000-8000-000000000002', 'listing', 2, now());
INSERT INTO shopping_cart_items (user_id, listing_id, quantity)
SELECT '00000000-0000-4000-8000-000000000001', id, 2 FROM listings WHERE status = 'active';
-- usage_events over 40 days (daily partitions), one far back (default partition)
INSERT INTO usage_events (user_id, event, props, occurred_at)
SELECT '00000000-0000-4000-8000-000000000001', 'open', jsonb_build_object('n', g), now() - g * interval '1 day'
FROM generate_series(0, 40) g;
INSERT INTO usage_events (user_id, event, occurred_at) VALUES (NULL, 'ancient', now() - interval '400 days');
-- rpc_metrics: recorded calls flushed from shared memory, and rows written directly
SELECT count(_ff_log_rpc_at('upd_rpc_' || (g % 3), 1.5 * g, g % 5 <> 0, now() - g * interval '7 hours'))
FROM generate_series(1, 20) g;
SELECT _ff_metrics_flush_all();
INSERT INTO rpc_metrics (rpc, bucket_start, calls, errors, total_ms, max_ms)
SELECT 'feed_fusion_home', date_trunc('minute', now()) - g * interval '3 hours', 10 + g, g % 2, 5.5 * g, 2.0 * g
FROM generate_series(0, 30) g;
INSERT INTO rate_limit_counters (key, tat) VALUES ('u:x:standard', 0), ('ip:1.2.3.4:auth', 12345);
-- configuration: added and edited rows
INSERT INTO feature_flags (key, enabled, rollout_percent, description) VALUES ('upd_my_flag', true, 42, 'mine');
UPDATE feature_flags SET enabled = true, rollout_percent = 50 WHERE key = 'payments_real';
INSERT INTO rate_limit_profiles VALUES ('upd_partner', 77, interval '7 seconds');
UPDATE rate_limit_profiles SET capacity = 7 WHERE name = 'auth';
INSERT INTO feed_lanes (lane, w_network, w_discover, w_listings, listing_cap, window_size, dedup_delta)
VALUES ('upd_lane', 1, 0.5, 0, 0.5, 10, 0.1);
UPDATE feed_lanes SET window_size = 33, w_listings = 0.5 WHERE lane = 'shop';
SQL
)"

# Every table of ours that holds data has rows (templates and the restore list stay empty).
EMPTY_TABLES="$SCOPE
CREATE FUNCTION pg_temp.has_rows(r regclass) RETURNS boolean LANGUAGE plpgsql AS \$\$
DECLARE b boolean;
BEGIN EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', r) INTO b; RETURN b; END \$\$;
SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '')
FROM pg_class c JOIN ff_scope s ON s.oid = c.oid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.relname NOT LIKE '\_ff\_template\_%' AND c.relname <> '_ff_restore_pending'
  AND NOT pg_temp.has_rows(c.oid);"

utc_day() { q postgres -c "SELECT (now() AT TIME ZONE 'UTC')::date"; }

for OLD in "${OLDS[@]}"; do
  A="upd_${OLD//./_}"
  echo "# ---- $OLD -> $NEW (database $A) ----"
  # The old install (A) and a fresh install of the new version (upd_fresh) create their
  # date-dependent partitions alike only on the same UTC day: retry across midnight.
  for attempt in 1 2; do
    day="$(utc_day)"
    for db in "$A" upd_fresh; do
      ff_psql "$C" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    done
    out="$(q "$A" -c "SET client_min_messages = warning; CREATE EXTENSION feed_fusion VERSION '$OLD' CASCADE;
                      SELECT extversion FROM pg_extension WHERE extname = 'feed_fusion'")"
    fresh="$(q upd_fresh -c "SET client_min_messages = warning; CREATE EXTENSION feed_fusion CASCADE;
                             SELECT extversion FROM pg_extension WHERE extname = 'feed_fusion'")"
    [ "$day" == "$(utc_day)" ] && break
  done
  check "fresh: CREATE EXTENSION feed_fusion CASCADE installs $NEW" "$NEW" "$fresh"
  check "$OLD: CREATE EXTENSION feed_fusion VERSION '$OLD' with the new library" "$OLD" "$out"
  [ "$out" == "$OLD" ] || continue
  check "$OLD: there is an update path to $NEW" "t" \
    "$(q "$A" -c "SELECT path IS NOT NULL FROM pg_extension_update_paths('feed_fusion') WHERE source = '$OLD' AND target = '$NEW'")"

  out="$(q "$A" -v ON_ERROR_STOP=1 <<<"$LOAD")"
  check "$OLD: loading data" "" "$(grep -E 'ERROR|FATAL' <<<"$out")"
  check "$OLD: every table of ours has rows" "" "$(q "$A" <<<"$EMPTY_TABLES" | tail -1)"
  check "$OLD: posts, usage_events and rpc_metrics span several partitions each" "t|t|t" "$(q "$A" -c "
    SELECT (SELECT count(DISTINCT tableoid) >= 10 AND bool_or(tableoid = 'posts_default'::regclass) FROM posts),
           (SELECT count(DISTINCT tableoid) >= 10 AND bool_or(tableoid = 'usage_events_default'::regclass) FROM usage_events),
           (SELECT count(DISTINCT tableoid) >= 3 FROM rpc_metrics WHERE rpc LIKE 'upd_rpc_%')")"

  snap "$A" "$W/$A.fpq" <<<"$GEN_FP"
  FPQ="$(cat "$W/$A.fpq")"
  snap "$A" "$W/$A.rows.before" <<<"$FPQ"
  check "$OLD: fingerprint covers the tables, partitions and sequences (> 50 of them)" t \
    "$([ "$(wc -l < "$W/$A.rows.before")" -gt 50 ] && echo t || echo f)"

  # The new library serves a database not yet updated, or refuses clearly (55000 + hint).
  check "$OLD: before the update: flags and the limiter work, the feed asks for the update" \
    "t|t|55000|Run ALTER EXTENSION feed_fusion UPDATE." "$(q "$A" -c "
    CREATE FUNCTION pg_temp.feed_err() RETURNS text LANGUAGE plpgsql AS \$f\$
    DECLARE st text; h text;
    BEGIN PERFORM * FROM feed_fusion_home('for_you'); RETURN 'no error';
    EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT;
      RETURN st || '|' || h; END \$f\$;
    SELECT flag_enabled('discover_reels'), check_rate_limit('high'), pg_temp.feed_err()")"

  out="$(q "$A" -c "SET client_min_messages = warning; ALTER EXTENSION feed_fusion UPDATE")"
  check "$OLD: ALTER EXTENSION feed_fusion UPDATE" "" "$out"
  check "$OLD: extversion is the default version" "$NEW|$NEW" "$(q "$A" -c "
    SELECT e.extversion, a.default_version FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
    WHERE e.extname = 'feed_fusion'")"

  snap "$A" "$W/$A.rows.after" <<<"$FPQ"
  check_same "$OLD: every row of every table and partition, and the sequences, kept by the update" \
    "$W/$A.rows.before" "$W/$A.rows.after"

  snap upd_fresh "$W/fresh.catalog" <<<"$CATALOG"
  snap "$A" "$W/$A.catalog" <<<"$CATALOG"
  check_same "$OLD: catalog after the update = catalog of a fresh install" "$W/fresh.catalog" "$W/$A.catalog"

  # 0.1.1: lane behaviour as data — seeded lanes get the seed values (edits kept),
  # lanes users added get the defaults, and aliases are checked.
  check "$OLD: feed_lanes new columns (seeded lanes, edited shop, user lane)" \
    "following|{personal}|t|f|20
for_you|{combined}|t|t|20
shop|{}|f|t|33
upd_lane|{}|t|t|10" "$(q "$A" -c "SELECT lane, aliases, honors_shop_blend, serves_anonymous, window_size FROM feed_lanes ORDER BY lane")"
  for db in "$A" upd_fresh; do
    check "$db: an alias that is not a lane name is rejected, a valid one accepted" \
      "23514|23514|23514|ok" "$(q "$db" -c "
      CREATE FUNCTION pg_temp.try(s text) RETURNS text LANGUAGE plpgsql AS \$\$
      BEGIN EXECUTE s; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END \$\$;
      BEGIN;
      SELECT pg_temp.try(\$q\$UPDATE feed_lanes SET aliases = '{Bad}' WHERE lane = 'shop'\$q\$),
             pg_temp.try(\$q\$UPDATE feed_lanes SET aliases = '{ok,NULL}' WHERE lane = 'shop'\$q\$),
             pg_temp.try(\$q\$UPDATE feed_lanes SET aliases = '{{a},{b}}' WHERE lane = 'shop'\$q\$),
             pg_temp.try(\$q\$UPDATE feed_lanes SET aliases = '{market,store_2}' WHERE lane = 'shop'\$q\$);
      ROLLBACK;" | grep '|')"
  done

  # The updated extension works.
  check "$OLD: ff_status, the feed, the limiter, flags and maintenance work after the update" "4|t|t|t|0" "$(q "$A" -c "
    SELECT (SELECT count(*) FROM ff_status()),
           (SELECT count(*) > 0 FROM feed_fusion_home_for('00000000-0000-4000-8000-000000000001', 'for_you', NULL, 10)),
           check_rate_limit('standard'),
           flag_enabled('feed_shop_blend');
    SELECT ff_run_maintenance();
    SELECT count(*) FROM part_config;" | grep -v '^$' | tr '\n' '|' | sed 's/|$//')"
  check "$OLD: DROP EXTENSION after the update leaves nothing of ours" "0|0" "$(q "$A" -c "
    DROP EXTENSION feed_fusion;
    SELECT (SELECT count(*) FROM pg_class WHERE relname ~ '^(posts|usage_events|rpc_metrics|entities|feed_lanes|feature_flags|_ff_)'),
           (SELECT count(*) FROM pg_proc WHERE proname ~ '^(_?ff_|feed_fusion_|flag)')" | tail -1)"
done

check_done
