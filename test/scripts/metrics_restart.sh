#!/usr/bin/env bash
# RPC metrics on a cluster of its own (preloaded): the background worker flushes
# closed minutes and runs partition maintenance; a clean restart keeps every number
# of rpc_metrics_hourly (the shutdown flush includes the open minute); name flooding
# ends in '_overflow'; a crash loses only what was not flushed yet.
source "$FF_SRC/scripts/common.sh"
set -euo pipefail
C=metrics_rs
trap 'ff_cluster_stop $C' EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
q() { ff_psql $C -d mtest -At -c "$1"; }
# wait_for SQL: poll up to 20 s until SQL returns 't'
wait_for() { local i; for i in $(seq 1 80); do [ "$(q "$1")" = t ] && return 0; sleep 0.25; done; return 1; }

ff_cluster_start $C 1 "feed_fusion.database = 'mtest'" "feed_fusion.metrics_flush_interval = 1" \
  "feed_fusion.maintenance_interval = 2" "feed_fusion.metrics_max_rpcs = 8" "feed_fusion.metrics_slots = 64"
ff_psql $C -d postgres -c "CREATE DATABASE mtest" >/dev/null
ff_psql $C -d mtest -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
ff_cluster_restart $C            # the worker connects to mtest from the start
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'feed_fusion maintenance worker' AND datname = 'mtest'" \
  || fail "maintenance worker not running in mtest"
pass "one worker, connected to feed_fusion.database"

# 1. The worker flushes closed minutes by itself.
q "SELECT _ff_log_rpc_at('rs_closed', x, x % 10 <> 0, now() - interval '3 minutes') FROM generate_series(1, 200) x" >/dev/null
wait_for "SELECT coalesce(sum(calls), 0) = 200 FROM rpc_metrics WHERE rpc = 'rs_closed'" || fail "worker did not flush a closed minute"
[ "$(q "SELECT count(*) FROM _ff_metrics_pending() WHERE rpc = 'rs_closed'")" = 0 ] || fail "flushed minute still pending"
pass "worker flushed a closed minute into rpc_metrics"

# 2. The worker runs partition maintenance: an expired partition disappears.
OLD="SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'rpc_metrics'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || to_char(now() - interval '45 days', 'YYYY-MM-DD') || '%')"
# create and check in one transaction: the worker may drop it right after the commit
# (named the way pg_partman names daily children, so its retention recognises it)
MK="DO \$\$ DECLARE d timestamptz := date_trunc('day', now() - interval '45 days'); BEGIN EXECUTE format('CREATE TABLE %I PARTITION OF rpc_metrics FOR VALUES FROM (%L) TO (%L)', 'rpc_metrics_p' || to_char(d, 'YYYY_MM_DD'), d, d + interval '1 day'); END \$\$"
[ "$(q "$MK; $OLD" | tail -1)" = t ] \
  || fail "could not create an old partition"
wait_for "SELECT NOT ($OLD)" || fail "worker maintenance did not drop the expired partition"
pass "worker ran ff_run_maintenance (retention)"

# 3. A clean restart keeps every number, including the open minute.
q "SELECT _log_rpc('rs_open', (x % 97) + 0.5, x % 50 <> 0) FROM generate_series(1, 5000) x" >/dev/null
VIEW="SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', rpc, hour, calls, errors, p50_ms, p95_ms, p99_ms, max_ms), ';' ORDER BY rpc, hour) FROM rpc_metrics_hourly"
before="$(q "$VIEW")"
[ "$(q "SELECT count(*) > 0 FROM _ff_metrics_pending() WHERE rpc = 'rs_open'")" = t ] || fail "rs_open not pending before restart"
ff_cluster_restart $C
after="$(q "$VIEW")"
[ -n "$before" ] && [ "$before" = "$after" ] || fail "view changed across restart: [$before] vs [$after]"
[ "$(q "SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'rs_open'")" = 5000 ] || fail "rs_open rows not in rpc_metrics after restart"
[ "$(q "SELECT count(*) FROM _ff_metrics_pending()")" = 0 ] || fail "pending data after restart"
pass "clean restart: shutdown flush kept every number of the view"

# 4. Name flooding: 8 names allowed, the rest goes to '_overflow' (counted).
q "SELECT _log_rpc('flood_' || x, 1) FROM generate_series(1, 20) x" >/dev/null
q "SELECT _log_rpc('flood_1', 1)" >/dev/null
[ "$(q "SELECT count(*) FROM rpc_metrics_hourly WHERE rpc LIKE 'flood\_%'")" = 8 ] || fail "more than 8 names kept"
[ "$(q "SELECT sum(calls) FROM rpc_metrics_hourly WHERE rpc = 'flood_1'")" = 2 ] || fail "a known name stopped counting"
[ "$(q "SELECT sum(calls) FROM rpc_metrics_hourly WHERE rpc = '_overflow'")" = 12 ] || fail "overflow bucket does not hold 12 calls"
[ "$(q "SELECT detail ->> 'overflow_calls' FROM ff_status() WHERE component = 'metrics'")" = 12 ] || fail "overflow_calls not 12 in ff_status"
pass "name flooding ends in _overflow, counted in ff_status"

# 5. A crash loses at most what was not flushed; flushed rows stay.
q "SELECT _log_rpc('rs_crash', 1) FROM generate_series(1, 10)" >/dev/null
ff_as_pg "$FF_PGBIN/psql" -X -h "$FF_STAGE/$C" -U postgres -d mtest -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
SLEEPER=$!
wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'" || fail "no sleeper"
kill -9 "$(q "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")"
wait "$SLEEPER" 2>/dev/null || true
for i in $(seq 1 60); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
[ "$(q "SELECT sum(calls) FROM rpc_metrics WHERE rpc = 'rs_open'")" = 5000 ] || fail "flushed rows lost in crash"
[ "$(q "SELECT count(*) FROM rpc_metrics_hourly WHERE rpc = 'rs_crash'")" = 0 ] || fail "unflushed data survived a crash?"
pass "crash: flushed rows kept, unflushed minute lost (as documented)"
echo "all metrics restart checks passed"
