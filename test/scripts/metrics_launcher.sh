#!/usr/bin/env bash
# The launcher (docs/metrics.md, "Launcher and maintenance workers") on a preloaded
# cluster with feed_fusion.database left at its default: the app database `appdb` gets
# a worker that flushes closed minutes and runs maintenance by itself; CREATE EXTENSION
# in another database is picked up within the discovery interval; DROP EXTENSION ends
# its worker; ALTER DATABASE RENAME and DROP DATABASE of a served database work without
# FORCE; a clean restart still flushes the open minute; too few worker slots give one
# WARNING per database.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1           # each step builds on the one before
C=metrics_ln
trap 'ff_cluster_stop $C' EXIT
q() { local db="$1"; shift; ff_psql $C -d "$db" -At -c "$1"; }
# wait_for DB SQL: poll up to 20 s until SQL returns 't'
wait_for() { local i; for i in $(seq 1 80); do [ "$(q "$1" "$2")" = t ] && return 0; sleep 0.25; done; return 1; }
# "$WORKERS AND <condition>)" counts the maintenance workers that match
WORKERS="SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'feed_fusion maintenance worker'"

ff_cluster_start $C 1 "feed_fusion.discovery_interval = 2" "feed_fusion.metrics_flush_interval = 1" \
  "feed_fusion.maintenance_interval = 2"
check "feed_fusion.database defaults to every database" '*' "$(q postgres "SHOW feed_fusion.database")"
check_true "the launcher runs, connected to no database" \
  wait_for postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'feed_fusion launcher' AND datid IS NULL"
ff_psql $C -d postgres -c "CREATE DATABASE appdb" >/dev/null
ff_psql $C -d appdb -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null

# 1. appdb (not named in any setting) gets its worker; postgres (no extension) gets none.
check_true "a worker for appdb within the discovery interval" \
  wait_for postgres "$WORKERS AND datname = 'appdb') = 1"
check_true "no lasting worker where the extension is not installed" \
  wait_for postgres "$WORKERS AND datname IS DISTINCT FROM 'appdb') = 0"
sleep 3
check_true "still none after a few discovery intervals" wait_for postgres "$WORKERS AND datname = 'postgres') = 0"

# 2. It flushes closed minutes by itself (no rpc_metrics_flush call).
q appdb "SELECT _ff_log_rpc_at('ln_closed', x, x % 10 <> 0, now() - interval '3 minutes') FROM generate_series(1, 100) x" >/dev/null
check_true "the appdb worker flushed a closed minute into rpc_metrics" \
  wait_for appdb "SELECT coalesce(sum(calls), 0) = 100 FROM rpc_metrics WHERE rpc = 'ln_closed'"

# 3. It runs partition maintenance: an expired partition disappears.
OLD="SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'rpc_metrics'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || to_char(now() - interval '45 days', 'YYYY-MM-DD') || '%')"
MK="DO \$\$ DECLARE d timestamptz := date_trunc('day', now() - interval '45 days'); BEGIN EXECUTE format('CREATE TABLE %I PARTITION OF rpc_metrics FOR VALUES FROM (%L) TO (%L)', 'rpc_metrics_p' || to_char(d, 'YYYY_MM_DD'), d, d + interval '1 day'); END \$\$"
check "an expired partition created" t "$(q appdb "$MK; $OLD" | tail -1)"
check_true "the appdb worker ran ff_run_maintenance (retention dropped it)" wait_for appdb "SELECT NOT ($OLD)"

# 4. A database that gets the extension later is served within the discovery interval.
ff_psql $C -d postgres -c "CREATE DATABASE db2" >/dev/null
sleep 3
check_true "db2 without the extension: no worker" wait_for postgres "$WORKERS AND datname = 'db2') = 0"
ff_psql $C -d db2 -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
check_true "CREATE EXTENSION in db2: a worker within the discovery interval" \
  wait_for postgres "$WORKERS AND datname = 'db2') = 1"

# 5. DROP EXTENSION ends its worker (and the launcher does not bring one back).
# A worker that has just started runs maintenance (pg_partman) on the partitioned tables;
# DROP EXTENSION taking its locks in another order can deadlock with it, and PostgreSQL
# then cancels one of the two (40P01): an application retries, and so does this test.
for _ in 1 2 3 4 5; do
  ff_psql $C -d db2 -c "DROP EXTENSION feed_fusion" >/dev/null 2>&1 && break
  sleep 1
done
check_true "DROP EXTENSION: the db2 worker exits" wait_for postgres "$WORKERS AND datname = 'db2') = 0"
sleep 3
check_true "no db2 worker after a few discovery intervals" wait_for postgres "$WORKERS AND datname = 'db2') = 0"

# 6. RENAME and DROP DATABASE of a served database, without FORCE.
ff_psql $C -d db2 -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
check_true "db2 served again" wait_for postgres "$WORKERS AND datname = 'db2') = 1"
check_true "ALTER DATABASE db2 RENAME while served" ff_psql $C -d postgres -c "ALTER DATABASE db2 RENAME TO db3"
check_true "db3 served after the rename" wait_for postgres "$WORKERS AND datname = 'db3') = 1"
t0=$(date +%s)
check_true "DROP DATABASE of a served database (no FORCE)" ff_psql $C -d postgres -c "DROP DATABASE db3"
check_cmp "DROP DATABASE took less than 5 s" "$(( $(date +%s) - t0 ))" -lt 5
check "db3 gone" 0 "$(q postgres "SELECT count(*) FROM pg_database WHERE datname = 'db3'")"
check_true "no worker left for the dropped database" \
  wait_for postgres "$WORKERS AND datname IS DISTINCT FROM 'appdb') = 0"
check "appdb still served" 1 "$(q postgres "$WORKERS AND datname = 'appdb')")"
check_true "CREATE DATABASE ... TEMPLATE appdb while served" \
  ff_psql $C -d postgres -c "CREATE DATABASE appcopy TEMPLATE appdb"
check_true "the copy gets a worker too" wait_for postgres "$WORKERS AND datname = 'appcopy') = 1"
check_true "appdb served again after the copy" wait_for postgres "$WORKERS AND datname = 'appdb') = 1"
check_true "DROP DATABASE appcopy" ff_psql $C -d postgres -c "DROP DATABASE appcopy"

# 7. A clean restart flushes the open minute (the shutdown flush of a dynamic worker).
q appdb "SELECT _log_rpc('ln_open', x % 50, true) FROM generate_series(1, 1000) x" >/dev/null
check "ln_open pending before restart" t "$(q appdb "SELECT count(*) > 0 FROM _ff_metrics_pending() WHERE rpc = 'ln_open'")"
ff_cluster_restart $C
check "clean restart: the open minute was flushed" 1000 "$(q appdb "SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'ln_open'")"
check_true "appdb served after the restart" wait_for postgres "$WORKERS AND datname = 'appdb') = 1"

# 8. The allow-list: feed_fusion.database names the databases served (reload).
ff_psql $C -d postgres -c "ALTER SYSTEM SET feed_fusion.database = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null
check_true "allow-list without appdb: its worker stops" wait_for postgres "$WORKERS AND datname = 'appdb') = 0"
ff_psql $C -d postgres -c "ALTER SYSTEM RESET feed_fusion.database" -c "SELECT pg_reload_conf()" >/dev/null
check_true "allow-list back to '*': appdb served" wait_for postgres "$WORKERS AND datname = 'appdb') = 1"

# 9. No free worker slot: one WARNING per database, retried later.
ff_cluster_stop $C
echo "max_worker_processes = 2" >> "$FF_STAGE/$C/data/postgresql.conf"
ff_server_start "$FF_STAGE/$C"
sleep 6
check "max_worker_processes = 2 (launcher, logical replication launcher): no worker" 0 "$(q postgres "$WORKERS)")"
check "one WARNING for appdb, not one per retry" 1 \
  "$(grep -c 'could not start the feed_fusion maintenance worker for database "appdb"' "$FF_STAGE/$C/server.log")"
check_done
