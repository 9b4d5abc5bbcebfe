#!/usr/bin/env bash
# Concurrency: 6 pgbench clients record calls (names from a pool larger than the
# name cap, so '_overflow' and new slots are exercised) while another session
# flushes every 50 ms, sometimes rolling the flush back.  No call may be lost or
# counted twice: the view's total equals pgbench's transaction count.
source "$FF_SRC/scripts/common.sh"
set -euo pipefail
C=metrics_cc
trap 'ff_cluster_stop $C' EXIT
fail() { echo "FAIL: $*"; exit 1; }
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
out="$(cd "$W" && ff_as_pg "$FF_PGBIN/pgbench" -n -c 6 -j 2 -T 6 -h "$FF_STAGE/$C" -U postgres -f "$W/log.sql" cc 2>&1)" || { echo "$out"; fail "pgbench failed"; }
wait "$FLUSHER" || true
n="$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')"
[ -n "$n" ] && [ "$n" -gt 1000 ] || fail "too few transactions: $n"
seen="$(q "SELECT sum(calls) FROM rpc_metrics_hourly")"
dropped="$(q "SELECT detail ->> 'dropped_calls' FROM ff_status() WHERE component = 'metrics'")"
echo "transactions $n, in view $seen, dropped $dropped"
[ "$seen" = "$((n - dropped))" ] || fail "view total $seen != $n - $dropped"
[ "$(q "SELECT count(*) FROM rpc_metrics_hourly WHERE rpc <> '_overflow'")" -le 16 ] || fail "name cap exceeded"
q "SELECT _ff_metrics_flush_all()" >/dev/null
[ "$(q "SELECT sum(calls) FROM rpc_metrics")" = "$seen" ] || fail "after a full flush rpc_metrics does not hold every call"
[ "$(q "SELECT sum(calls) FROM rpc_metrics_hourly")" = "$seen" ] || fail "view changed by the final flush"
rm -rf "$W"
echo "ok: no call lost or double counted under concurrent recording and flushing"
