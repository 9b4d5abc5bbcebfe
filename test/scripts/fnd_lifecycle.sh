#!/usr/bin/env bash
# Install / uninstall / re-install (docs/operations.md), on a cluster without and one with
# shared_preload_libraries:
# * CREATE EXTENSION feed_fusion CASCADE in a fresh database works; after using it
#   (rows, maintenance-made partitions) DROP EXTENSION feed_fusion leaves nothing of
#   ours behind: the database catalog snapshot after DROP EXTENSION pg_partman equals
#   the one taken before, and pg_partman's part_config holds no row of ours;
# * CREATE EXTENSION again works (seeds once, partitions, functions);
# * installing into a non-default schema (CREATE EXTENSION ... SCHEMA app CASCADE) and
#   next to a pg_partman installed in its own schema works, and uninstalls cleanly.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set +e -uo pipefail

# Every object a database can hold outside the system schemas, one line each.
SNAP="SELECT x FROM (
  SELECT 'schema ' || nspname || ' ' || coalesce((SELECT array_agg(a ORDER BY a::text)::text FROM unnest(nspacl) a), '') x FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname !~ '^pg_temp|^pg_toast_temp'
  UNION ALL SELECT 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL SELECT 'proc ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL SELECT 'operator ' || o.oid::regoperator::text FROM pg_operator o
    WHERE o.oprnamespace <> 'pg_catalog'::regnamespace
  UNION ALL SELECT 'policy ' || polname || ' on ' || polrelid::regclass::text FROM pg_policy
  UNION ALL SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'event trigger ' || evtname FROM pg_event_trigger
  UNION ALL SELECT 'extension ' || extname FROM pg_extension
  UNION ALL SELECT 'init privs ' || pg_describe_object(classoid, objoid, objsubid) FROM pg_init_privs
    WHERE objoid >= 16384
  UNION ALL SELECT 'default acl ' || defaclobjtype::text FROM pg_default_acl
  UNION ALL SELECT 'cast ' || castsource::regtype || '->' || casttarget::regtype FROM pg_cast WHERE oid >= 16384
  UNION ALL SELECT 'publication ' || pubname FROM pg_publication
) s ORDER BY 1"

ROWS_SQL="
INSERT INTO entities (id, owner_user_id, handle) VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'alice');
INSERT INTO posts (author_entity_id, body, created_at)
  SELECT '00000000-0000-4000-8000-0000000000a1', 'p', now() - g * interval '40 days' FROM generate_series(0, 15) g;
INSERT INTO usage_events (user_id, event) VALUES ('00000000-0000-4000-8000-000000000001', 'x');
INSERT INTO rpc_metrics (rpc, bucket_start) VALUES ('x', date_trunc('minute', now()));
INSERT INTO feature_flags (key, enabled) VALUES ('mine', true);
UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '6');
SELECT ff_run_maintenance();"

run_suite() {  # run_suite CLUSTER LABEL
  local C="$1" L="$2" db
  q() { local d="$1"; shift; ff_psql "$C" -d "$d" -At "$@" 2>&1; }
  ff_psql "$C" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null || return 1

  # ---- default schema, CASCADE pulls in pg_partman -------------------------------------
  db=lc_default
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  local before after
  before="$(q $db -c "$SNAP")"
  check "$L: catalog snapshot query works" "extension plpgsql" "$(echo "$before" | grep -x 'extension plpgsql')"
  check "$L: CREATE EXTENSION feed_fusion CASCADE" "" "$(q $db -c "SET client_min_messages = warning; CREATE EXTENSION feed_fusion CASCADE")"
  check "$L: both extensions in public" "feed_fusion=public pg_partman=public" \
    "$(q $db -c "SELECT string_agg(extname || '=' || extnamespace::regnamespace, ' ' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'")"
  check "$L: rows and maintenance" "" "$(q $db -c "$ROWS_SQL" | grep -v '^$')"
  check "$L: maintenance made partitions that are not extension members" "t" "$(q $db -c "
    SELECT count(*) > 0 FROM pg_inherits i WHERE i.inhparent = 'posts'::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = i.inhrelid AND d.deptype = 'e')
      AND i.inhrelid::regclass::text = to_char(now() + interval '6 months', '\"posts_p\"YYYY_MM')")"
  check "$L: template tables are ours, part_config holds nothing of ours" "3|0" "$(q $db -c "
    SELECT (SELECT count(*) FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
            WHERE d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion')
              AND c.relname LIKE '\_ff\_template\_%'),
           (SELECT count(*) FROM part_config)")"
  check "$L: DROP EXTENSION feed_fusion" "" "$(q $db -c "DROP EXTENSION feed_fusion")"
  check "$L: after DROP EXTENSION nothing of ours remains" "0|0|0|0|0|0" "$(q $db -c "
    SELECT (SELECT count(*) FROM part_config),
           (SELECT count(*) FROM pg_class WHERE relname ~ '^(posts|usage_events|rpc_metrics|entities|follows|listings|events|feed_|shopping|feature_flags|rate_limit|_ff_|template_)'),
           (SELECT count(*) FROM pg_proc WHERE proname ~ '^(_?ff_|feed_fusion|flags_for|flag_enabled|check_rate_limit|rate_limit_|rpc_metrics|_log_rpc|rocker)'),
           (SELECT count(*) FROM pg_policy),
           (SELECT count(*) FROM pg_event_trigger),
           (SELECT count(*) FROM pg_type WHERE typname ~ '^_?(posts|entities|_ff_)')")"
  # ---- re-create works -------------------------------------------------------------
  check "$L: CREATE EXTENSION again" "" "$(q $db -c "CREATE EXTENSION feed_fusion")"
  check "$L: re-created: seeds once, partitions, identity, config out of part_config" "4|5|3|t|t|0" "$(q $db -c "
    SELECT (SELECT count(*) FROM feature_flags), (SELECT count(*) FROM rate_limit_profiles),
           (SELECT count(*) FROM feed_lanes),
           (SELECT count(*) >= 12 FROM pg_inherits WHERE inhparent = 'posts'::regclass),
           (SELECT count(*) = 4 FROM ff_status()), (SELECT count(*) FROM part_config)")"
  check "$L: re-created extension works" "t" "$(q $db -c "$ROWS_SQL" >/dev/null; q $db -c "SELECT count(*) = 16 FROM posts")"
  check "$L: DROP EXTENSION feed_fusion, pg_partman" "" "$(q $db -c "DROP EXTENSION feed_fusion; DROP EXTENSION pg_partman")"
  after="$(q $db -c "$SNAP")"
  check "$L: catalog snapshot after uninstall works" 1 "$(echo "$after" | grep -c '^schema public')"
  check "$L: catalog snapshot identical to the fresh database" "" "$(diff <(echo "$before") <(echo "$after"))"

  # ---- non-default schema ------------------------------------------------------------
  db=lc_app
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  before="$(q $db -c "$SNAP")"
  check "$L: CREATE EXTENSION feed_fusion SCHEMA app CASCADE" "" \
    "$(q $db -c "SET client_min_messages = warning; CREATE SCHEMA app; CREATE EXTENSION feed_fusion SCHEMA app CASCADE")"
  check "$L: app: everything in app, nothing in public" "feed_fusion=app pg_partman=app|0|t" "$(q $db -c "
    SELECT (SELECT string_agg(extname || '=' || extnamespace::regnamespace, ' ' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'),
           (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
           (SELECT count(*) >= 12 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'app.posts'::regclass AND c.relnamespace = 'app'::regnamespace)")"
  check "$L: app: works with a search_path that does not name app" "00000000-0000-4000-8000-000000000001|1|4|0" "$(q $db -c "
    SET search_path = public;
    SET request.jwt.claims = '{\"sub\": \"00000000-0000-4000-8000-000000000001\"}';
    SELECT app.ff_current_user(), (SELECT count(*) FROM (SELECT app.ff_run_maintenance()) m),
           (SELECT count(*) FROM app.ff_status()), (SELECT count(*) FROM app.part_config)")"
  check "$L: app: roles reach the schema and act through RLS" "x|1|x|1|t" "$(q $db -c "
    SELECT 'x' FROM set_config('request.jwt.claims', '{\"sub\": \"00000000-0000-4000-8000-000000000001\"}', false);
    SET ROLE authenticated;
    INSERT INTO app.entities (owner_user_id, handle) VALUES ('00000000-0000-4000-8000-000000000001', 'me');
    SELECT count(*) FROM app.entities;
    SET ROLE anon; SELECT 'x' FROM set_config('request.jwt.claims', '', false);
    SELECT count(*) FROM app.entities;
    SELECT has_table_privilege('app.feed_lanes', 'SELECT') = false;" | tr '\n' '|' | sed 's/|$//')"
  check "$L: app: DROP EXTENSION feed_fusion, pg_partman" "" "$(q $db -c "DROP EXTENSION feed_fusion; DROP EXTENSION pg_partman")"
  after="$(q $db -c "$SNAP")"
  # The one documented remainder: USAGE on the schema for the app roles (the schema is
  # the user's; DROP EXTENSION cannot revoke it, and PostgreSQL records a grant made by
  # an install script in pg_init_privs).
  check "$L: app: only the schema and its USAGE grants remain" \
    "init privs schema app schema app {anon=U/postgres,authenticated=U/postgres,postgres=UC/postgres,service_role=U/postgres}" \
    "$(diff <(echo "$before") <(echo "$after") | sed -n 's/^> //p' | tr '\n' ' ' | sed 's/ $//')"

  # ---- pg_partman already installed in its own schema --------------------------------
  db=lc_partman
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  check "$L: partman schema: install" "" \
    "$(q $db -c "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman; CREATE EXTENSION feed_fusion")"
  before="$(q $db -c "DROP EXTENSION feed_fusion; $SNAP")"
  q $db -c "CREATE EXTENSION feed_fusion" >/dev/null
  check "$L: partman schema: maintenance, nothing in partman.part_config, no template in partman" "0|0|t" "$(q $db -c "
    SELECT ff_run_maintenance();
    SELECT (SELECT count(*) FROM partman.part_config),
           (SELECT count(*) FROM pg_class WHERE relnamespace = 'partman'::regnamespace AND relname LIKE 'template%'),
           (SELECT count(*) > 0 FROM posts_default WHERE false) IS NOT NULL" | tail -1)"
  q $db -c "DROP EXTENSION feed_fusion" >/dev/null
  check "$L: partman schema: uninstall leaves the catalog as before" "" "$(diff <(echo "$before") <(q $db -c "$SNAP"))"
}

ff_cluster_start fnd_lc0 0 || { echo "cannot start cluster"; exit 1; }
ff_cluster_start fnd_lc1 1 || { ff_cluster_stop fnd_lc0; echo "cannot start preloaded cluster"; exit 1; }
trap 'ff_cluster_stop fnd_lc0; ff_cluster_stop fnd_lc1' EXIT
run_suite fnd_lc0 "no preload"
run_suite fnd_lc1 "preloaded"
check_done
