#!/usr/bin/env bash
# ff_apply_grants() (docs/operations.md): on a cluster where the Supabase roles do not exist at
# install time, CREATE EXTENSION grants nothing (and fails on nothing); roles created
# afterwards get exactly the registered privileges once ff_apply_grants() is called,
# which is idempotent; then they work through RLS.  Also with the extension in a schema
# of its own (USAGE granted there).
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set +e -uo pipefail
C=fnd_grants
ff_cluster_start "$C" 0 || { echo "cannot start cluster"; exit 1; }
trap 'ff_cluster_stop "$C"' EXIT
q() { local d="$1"; shift; ff_psql "$C" -d "$d" -At "$@" 2>&1; }

for schema in public app; do
  db="g_$schema"
  ff_psql "$C" -d postgres -c "CREATE DATABASE $db" >/dev/null
  check "$schema: install without the roles" "" "$(q $db -c "SET client_min_messages = warning;
    CREATE SCHEMA IF NOT EXISTS $schema; CREATE EXTENSION feed_fusion SCHEMA $schema CASCADE")"
  if [ "$schema" = public ]; then
    check "$schema: no grants to absent roles, apply_grants counts 0" "0|0" "$(q $db -c "
      SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = '$schema'::regnamespace AND relacl::text ~ 'anon|authenticated|service_role'),
             $schema.ff_apply_grants()")"
    # The roles arrive later (they are cluster-wide).
    ff_psql "$C" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null
    check "$schema: new roles have nothing yet" "f|f|f" "$(q $db -c "
      SELECT has_table_privilege('anon', '$schema.posts', 'SELECT'),
             has_table_privilege('authenticated', '$schema.feed_hides', 'INSERT'),
             has_table_privilege('service_role', '$schema.rate_limit_counters', 'SELECT')")"
  else
    check "$schema: roles that exist at install time get their grants at once" "t|t|t|t" "$(q $db -c "
      SELECT has_table_privilege('anon', '$schema.posts', 'SELECT'),
             has_table_privilege('authenticated', '$schema.feed_hides', 'INSERT'),
             has_table_privilege('service_role', '$schema.rate_limit_counters', 'SELECT'),
             has_schema_privilege('anon', '$schema', 'USAGE')")"
  fi
  n1="$(q $db -c "SELECT $schema.ff_apply_grants()")"
  n2="$(q $db -c "SELECT $schema.ff_apply_grants()")"
  check "$schema: ff_apply_grants applies every registered grant, idempotently" \
    "$(q $db -c "SELECT count(*) FROM $schema._ff_grants")|$n1" "$n1|$n2"
  # Every registered privilege is now held, role by role.
  check "$schema: every registered privilege is held" "0" "$(q $db -c "
    SELECT count(*) FROM $schema._ff_grants g, LATERAL unnest(string_to_array(g.privileges, ', ')) p
    WHERE g.object_kind <> 'POLICY' AND NOT CASE g.object_kind
      WHEN 'FUNCTION' THEN has_function_privilege(g.role_name, '$schema.' || g.object_name, p)
      WHEN 'SEQUENCE' THEN has_sequence_privilege(g.role_name, '$schema.' || g.object_name, p)
      ELSE has_table_privilege(g.role_name, '$schema.' || g.object_name, p) END")"
  check "$schema: the documented grants (anon reads content, not config; authenticated reads config; only service_role reaches counters)" \
    "t|f|f|t|f|t|t|t|f|t" "$(q $db -c "
    SELECT has_table_privilege('anon', '$schema.posts', 'SELECT'),
           has_table_privilege('anon', '$schema.posts', 'INSERT'),
           has_table_privilege('anon', '$schema.feature_flags', 'SELECT'),
           has_table_privilege('authenticated', '$schema.feature_flags', 'SELECT'),
           has_table_privilege('authenticated', '$schema.feature_flags', 'UPDATE'),
           has_table_privilege('service_role', '$schema.feature_flags', 'UPDATE'),
           has_table_privilege('service_role', '$schema.rate_limit_counters', 'SELECT'),
           has_schema_privilege('anon', '$schema', 'USAGE'),
           has_table_privilege('authenticated', '$schema.rate_limit_counters', 'SELECT'),
           has_function_privilege('service_role', '$schema.ff_run_maintenance()', 'EXECUTE')")"
  check "$schema: every policy is scoped TO its roles" "0|0" "$(q $db -c "
    SELECT (SELECT count(*) FROM pg_policies WHERE schemaname = '$schema' AND roles = '{public}'),
           (SELECT count(*) FROM $schema._ff_grants g WHERE g.object_kind = 'POLICY'
            AND NOT EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = '$schema'
                            AND p.tablename || '.' || p.policyname = g.object_name AND g.role_name = ANY (p.roles)))")"
  check "$schema: internal functions are not executable by app roles" "0" "$(q $db -c "
    SELECT count(*) FROM pg_proc p, (VALUES ('anon'), ('authenticated')) r(role)
    WHERE p.pronamespace = '$schema'::regnamespace
      AND p.proname IN ('ff_run_maintenance', 'ff_apply_grants', '_ff_partition', '_ff_run_maintenance',
                        '_ff_restore_indexes', '_ff_restore_withhold_indexes')
      AND has_function_privilege(r.role, p.oid, 'EXECUTE')")"
  check "$schema: the roles now work through RLS" "1|1|err" "$(q $db -c "
    SELECT set_config('request.jwt.claims', '{\"sub\": \"00000000-0000-4000-8000-000000000001\"}', false) IS NOT NULL;
    SET ROLE authenticated;
    INSERT INTO $schema.entities (owner_user_id, handle) VALUES ('00000000-0000-4000-8000-000000000001', 'me') RETURNING 1;
    INSERT INTO $schema.feed_hides (user_id, item_kind, item_id) VALUES ('00000000-0000-4000-8000-000000000001', 'post', 1) RETURNING 1;
    SET ROLE anon;
    SELECT count(*) FROM $schema.feed_hides;" | grep -v '^t$' | sed 's/^ERROR:  permission denied.*/err/' | tr '\n' '|' | sed 's/|$//')"
done
check_done
