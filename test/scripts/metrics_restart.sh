#!/usr/bin/env bash
# RPC metrics on a cluster of its own (preloaded): the background worker flushes
# closed minutes and runs partition maintenance; a clean restart keeps every number
# of rpc_metrics_hourly (the shutdown flush includes the open minute); name flooding
# ends in '_overflow'; a crash loses only what was not flushed yet.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1           # each step builds on the one before
C=metrics_rs
trap 'ff_cluster_stop $C' EXIT
q() { ff_psql $C -d mtest -At -c "$1"; }
# wait_for SQL: poll up to 20 s until SQL returns 't'
wait_for() { local i; for i in $(seq 1 80); do [ "$(q "$1")" = t ] && return 0; sleep 0.25; done; return 1; }

ff_cluster_start $C 1 "feed_fusion.database = 'mtest'" "feed_fusion.metrics_flush_interval = 1" \
  "feed_fusion.maintenance_interval = 2" "feed_fusion.metrics_max_rpcs = 8" "feed_fusion.metrics_slots = 64"
ff_psql $C -d postgres -c "CREATE DATABASE mtest" >/dev/null
ff_psql $C -d mtest -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
ff_cluster_restart $C            # the launcher starts the mtest worker at once
check_true "one worker, for the database the allow-list feed_fusion.database names" \
  wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'feed_fusion maintenance worker' AND datname = 'mtest'"

# 1. The worker flushes closed minutes by itself.
q "SELECT _ff_log_rpc_at('rs_closed', x, x % 10 <> 0, now() - interval '3 minutes') FROM generate_series(1, 200) x" >/dev/null
check_true "worker flushed a closed minute into rpc_metrics" \
  wait_for "SELECT coalesce(sum(calls), 0) = 200 FROM rpc_metrics WHERE rpc = 'rs_closed'"
check "flushed minute no longer pending" 0 "$(q "SELECT count(*) FROM _ff_metrics_pending() WHERE rpc = 'rs_closed'")"

# 2. The worker runs partition maintenance: an expired partition disappears.
OLD="SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'rpc_metrics'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || to_char(now() - interval '45 days', 'YYYY-MM-DD') || '%')"
# create and check in one transaction: the worker may drop it right after the commit
# (named the way pg_partman names daily children, so its retention recognises it)
MK="DO \$\$ DECLARE d timestamptz := date_trunc('day', now() - interval '45 days'); BEGIN EXECUTE format('CREATE TABLE %I PARTITION OF rpc_metrics FOR VALUES FROM (%L) TO (%L)', 'rpc_metrics_p' || to_char(d, 'YYYY_MM_DD'), d, d + interval '1 day'); END \$\$"
check "an expired partition created" t "$(q "$MK; $OLD" | tail -1)"
check_true "worker ran ff_run_maintenance (retention dropped the expired partition)" wait_for "SELECT NOT ($OLD)"

# 3. A clean restart keeps every number, including the open minute.
q "SELECT _log_rpc('rs_open', (x % 97) + 0.5, x % 50 <> 0) FROM generate_series(1, 5000) x" >/dev/null
VIEW="SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', rpc, hour, calls, errors, p50_ms, p95_ms, p99_ms, max_ms), ';' ORDER BY rpc, hour) FROM rpc_metrics_hourly"
before="$(q "$VIEW")"
check "rs_open pending before restart" t "$(q "SELECT count(*) > 0 FROM _ff_metrics_pending() WHERE rpc = 'rs_open'")"
ff_cluster_restart $C
after="$(q "$VIEW")"
check_true "view not empty before restart" test -n "$before"
check "clean restart: shutdown flush kept every number of the view" "$before" "$after"
check "rs_open rows in rpc_metrics after restart" 5000 "$(q "SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'rs_open'")"
check "nothing pending after restart" 0 "$(q "SELECT count(*) FROM _ff_metrics_pending()")"

# 4. Name flooding: 8 names allowed, the rest goes to '_overflow' (counted).
q "SELECT _log_rpc('flood_' || x, 1) FROM generate_series(1, 20) x" >/dev/null
q "SELECT _log_rpc('flood_1', 1)" >/dev/null
check "name flooding: 8 names kept" 8 "$(q "SELECT count(DISTINCT rpc) FROM rpc_metrics_hourly WHERE rpc LIKE 'flood\_%'")"
check "name flooding: a known name keeps counting" 2 "$(q "SELECT sum(calls) FROM rpc_metrics_hourly WHERE rpc = 'flood_1'")"
check "name flooding: the rest in _overflow" 12 "$(q "SELECT sum(calls) FROM rpc_metrics_hourly WHERE rpc = '_overflow'")"
check "name flooding: overflow_calls in ff_status" 12 "$(q "SELECT detail ->> 'overflow_calls' FROM ff_status() WHERE component = 'metrics'")"

# 5. A crash loses at most what was not flushed; flushed rows stay.
q "SELECT _log_rpc('rs_crash', 1) FROM generate_series(1, 10)" >/dev/null
ff_as_pg "$FF_PGBIN/psql" -X -h "$FF_STAGE/$C" -U postgres -d mtest -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
SLEEPER=$!
check_true "a backend to kill" wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'"
kill -9 "$(q "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")"
wait "$SLEEPER" 2>/dev/null || true
for i in $(seq 1 60); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
check "crash: flushed rows kept" 5000 "$(q "SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'rs_open'")"
check "crash: unflushed minute lost (as documented)" 0 "$(q "SELECT count(*) FROM rpc_metrics_hourly WHERE rpc = 'rs_crash'")"
check_done
