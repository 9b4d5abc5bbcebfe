#!/usr/bin/env bash
# Concurrency: 6 pgbench clients record calls (names from a pool larger than the
# name cap, so '_overflow' and new slots are exercised) while another session
# flushes every 50 ms, sometimes rolling the flush back.  No call may be lost or
# counted twice: the view's total equals pgbench's transaction count.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1
C=metrics_cc
trap 'ff_cluster_stop $C' EXIT
q() { ff_psql $C -d cc -At -c "$1"; }
ff_cluster_start $C 1 "feed_fusion.database = 'postgres'" "feed_fusion.metrics_max_rpcs = 16" "feed_fusion.metrics_slots = 256"
ff_psql $C -d postgres -c "CREATE DATABASE cc" >/dev/null
ff_psql $C -d cc -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
W="$(mktemp -d)"; chmod 755 "$W"
printf '%s\n' '\set n random(1, 24)' '\set m random(0, 3)' '\set d random(1, 100000)' \
  "SELECT _ff_log_rpc_at('cc_' || :n, :d / 1000.0, :d % 7 <> 0, now() - :m * interval '1 minute');" > "$W/log.sql"
chmod 644 "$W/log.sql"
( for i in $(seq 1 100); do
    if [ $((i % 3)) = 0 ]; then q "BEGIN; SELECT _ff_metrics_flush_all(); ROLLBACK" >/dev/null 2>&1 || true
    else q "SELECT rpc_metrics_flush()" >/dev/null 2>&1 || true; fi
    sleep 0.05
  done ) &
FLUSHER=$!
out="$(cd "$W" && ff_as_pg "$FF_PGBIN/pgbench" -n -c 6 -j 2 -T 6 -h "$FF_STAGE/$C" -U postgres -f "$W/log.sql" cc 2>&1)" || { echo "$out"; fail "pgbench runs"; }
wait "$FLUSHER" || true
n="$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')"
check_cmp "more than 1000 transactions" "$n" -gt 1000
seen="$(q "SELECT sum(calls) FROM rpc_metrics_hourly")"
dropped="$(q "SELECT detail ->> 'dropped_calls' FROM ff_status() WHERE component = 'metrics'")"
echo "transactions $n, in view $seen, dropped $dropped"
check "no call lost or double counted under concurrent recording and flushing (view = transactions - dropped)" \
  "$((n - dropped))" "$seen"
check_cmp "name cap (16) kept" "$(q "SELECT count(DISTINCT rpc) FROM rpc_metrics_hourly WHERE rpc <> '_overflow'")" -le 16
q "SELECT _ff_metrics_flush_all()" >/dev/null
check "after a full flush rpc_metrics holds every call" "$seen" "$(q "SELECT sum(calls) FROM rpc_metrics")"
check "view unchanged by the final flush" "$seen" "$(q "SELECT sum(calls) FROM rpc_metrics_hourly")"
rm -rf "$W"
check_done
