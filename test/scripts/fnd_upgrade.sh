#!/usr/bin/env bash
# pg_upgrade of a cluster holding a feed_fusion database (binary upgrade re-creates
# the extension's objects one by one instead of running the install script): rows of
# every table and partition, config edits, valid indexes and a working extension
# afterwards; DROP EXTENSION still cleans up.  15 -> 15 here (same binaries), which
# exercises the same pg_dump --binary-upgrade path as a major-version upgrade.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set +e -uo pipefail
OLD=fnd_upold NEW=fnd_upnew
ND="$FF_STAGE/$NEW"
stop_new() { [ -f "$ND/data/postmaster.pid" ] && ff_as_pg "$FF_PGBIN/pg_ctl" -D "$ND/data" -m fast -w stop >/dev/null 2>&1; return 0; }
trap 'ff_cluster_stop $OLD; stop_new' EXIT

ff_cluster_start "$OLD" 0 || { echo "cannot start cluster"; exit 1; }
ff_psql "$OLD" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null || exit 1
ff_psql "$OLD" -d postgres -c "CREATE DATABASE src" >/dev/null
ff_psql "$OLD" -d src >/dev/null <<'SQL' || { echo "loading failed"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION feed_fusion CASCADE;
INSERT INTO entities (id, owner_user_id, handle) VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'alice');
INSERT INTO posts (author_entity_id, body, created_at)
  SELECT '00000000-0000-4000-8000-0000000000a1', 'p' || g, now() - g * interval '9 days' FROM generate_series(0, 60) g;
INSERT INTO usage_events (user_id, event, occurred_at)
  SELECT '00000000-0000-4000-8000-000000000001', 'e' || g, now() - g * interval '1 day' FROM generate_series(0, 20) g;
INSERT INTO feature_flags (key, enabled) VALUES ('mine', true);
UPDATE feature_flags SET enabled = true WHERE key = 'payments_real';
UPDATE _ff_partman_config SET config = jsonb_set(config, '{premake}', '6') WHERE parent_table = 'posts';
SELECT ff_run_maintenance();
SQL
FP="SELECT (SELECT count(*) || md5(string_agg(tableoid::regclass::text || x::text, ',' ORDER BY x::text)) FROM posts x)
        || (SELECT count(*) || md5(string_agg(tableoid::regclass::text || x::text, ',' ORDER BY x::text)) FROM usage_events x)
        || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM feature_flags x)
        || (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM _ff_partman_config x)
        || (SELECT count(*) FROM pg_depend WHERE deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feed_fusion'))
        || '/' || (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace)
        || '/' || (SELECT count(*) FROM pg_policies WHERE schemaname = 'public')"
SRC_FP="$(ff_psql "$OLD" -d src -At -c "$FP")"
ff_cluster_stop "$OLD"

rm -rf "$ND"; mkdir -p "$ND"; [ "$(id -u)" -eq 0 ] && chown postgres: "$ND"
ff_as_pg "$FF_PGBIN/initdb" -D "$ND/data" -U postgres --auth=trust -E UTF8 --locale=C >"$ND/initdb.log" 2>&1
OPTS="-c unix_socket_directories=$ND -c listen_addresses='' -c port=5432"
(cd "$ND" && ff_as_pg "$FF_PGBIN/pg_upgrade" -b "$FF_PGBIN" -B "$FF_PGBIN" -d "$FF_STAGE/$OLD/data" -D "$ND/data" \
   -U postgres -o "-c unix_socket_directories=$ND -c listen_addresses=''" \
   -O "-c unix_socket_directories=$ND -c listen_addresses=''") >"$ND/upgrade.log" 2>&1
rc=$?
check "pg_upgrade succeeds" 0 "$rc"
[ "$rc" -eq 0 ] || tail -30 "$ND/upgrade.log"
ff_as_pg "$FF_PGBIN/pg_ctl" -D "$ND/data" -o "$OPTS" -l "$ND/server.log" -w start >/dev/null || { echo "new cluster does not start"; exit 1; }
q() { ff_psql "$NEW" -d src -At "$@" 2>&1; }
check "every row, partition, config row, member, index and policy carried over" "$SRC_FP" "$(q -c "$FP")"
check "indexes valid, no event trigger" "0|0" "$(q -c "SELECT (SELECT count(*) FROM pg_index WHERE NOT indisvalid), (SELECT count(*) FROM pg_event_trigger)")"
check "the extension works after the upgrade" "t|0|4" "$(q -c "
  INSERT INTO posts (author_entity_id, body) VALUES ('00000000-0000-4000-8000-0000000000a1', 'after') RETURNING id > 61;
  SELECT ff_run_maintenance();
  SELECT count(*) FROM part_config;
  SELECT count(*) FROM ff_status();" | grep -v '^$' | tr '\n' '|' | sed 's/|$//')"
check "DROP EXTENSION after the upgrade leaves no table of ours" "0" "$(q -c "
  DROP EXTENSION feed_fusion;
  SELECT count(*) FROM pg_class WHERE relname ~ '^(posts|usage_events|rpc_metrics|entities|feature_flags|_ff_)';" | tail -1)"
check_done
