#!/usr/bin/env bash
# RPC metric names (shared-memory mode): names are counted per database, app roles'
# names draw on their own quota (feed_fusion.metrics_max_app_rpcs, overflowing into
# '_overflow_app'), so an authenticated flood cannot push service_role's names or
# the extension's own tracked names into an overflow bucket, nor touch another
# database; the extension's own RPC names are reserved (42501 from _log_rpc).
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -uo pipefail
CHECK_FATAL=0           # the checks are independent: report every one
C=metrics_names
trap 'ff_cluster_stop $C' EXIT
# q DB [ROLE] SQL: one value; ROLE is taken with SET ROLE first.
q() {
  local db="$1"; shift
  if [ $# -eq 2 ]; then ff_psql $C -d "$db" -At -c "SET ROLE $1" -c "$2" 2>&1 | grep -v '^SET$'
  else ff_psql $C -d "$db" -At -c "$1" 2>&1; fi
}
# sqlstate DB ROLE SQL: the SQLSTATE SQL fails with ('ok' when it succeeds).
sqlstate() {
  local out
  out="$(ff_psql $C -d "$1" -At -v VERBOSITY=verbose -c "SET ROLE $2" -c "$3" 2>&1)"
  if grep -q '^ERROR:' <<<"$out"; then sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' <<<"$out" | head -1; else echo ok; fi
}
st() { q "$1" "SELECT detail ->> '$2' FROM ff_status() WHERE component = 'metrics'"; }
view() { q "$1" "SELECT coalesce(sum(calls), 0) FROM rpc_metrics_hourly WHERE rpc = '$2'"; }

ff_cluster_start $C 1 "feed_fusion.database = 'postgres'" "feed_fusion.metrics_max_rpcs = 8" \
  "feed_fusion.metrics_max_app_rpcs = 4" "feed_fusion.metrics_slots = 256" || { echo "cannot start"; exit 1; }
ff_psql $C -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null
for db in na nb; do
  ff_psql $C -d postgres -c "CREATE DATABASE $db" >/dev/null
  ff_psql $C -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null
done

# 1. The flood: authenticated logs 100,000 distinct names in database na.
q na authenticated "SELECT count(_log_rpc('rpc_' || g, 1)) FROM generate_series(1, 100000) g" >/dev/null
# then service_role, a superuser and the extension's own tracking log new names there
q na service_role "SELECT _log_rpc('svc_a', 1)" >/dev/null
q na "SELECT _log_rpc('svc_b', 2)" >/dev/null
q na "SELECT _ff_metrics_selftest()" >/dev/null
check "service_role's new name recorded under its own name after the flood" 1 "$(view na svc_a)"
check "a superuser's new name recorded under its own name" 1 "$(view na svc_b)"
check "the extension's tracked name recorded under its own name" 1 "$(view na _ff_metrics_selftest)"
check "nothing of service_role went to '_overflow'" 0 "$(view na _overflow)"
check "the app quota (4) kept its first names" 4 "$(q na "SELECT count(DISTINCT rpc) FROM rpc_metrics_hourly WHERE rpc LIKE 'rpc\_%'")"
check "the rest of the flood is in '_overflow_app'" 99996 "$(view na _overflow_app)"
check "status: app names in na" 4 "$(st na app_names_this_db)"
check "status: service names in na" 2 "$(st na service_names_this_db)"
check "status: tracked names in na" 1 "$(st na tracked_names_this_db)"
check "status: max_app_rpcs" 4 "$(st na max_app_rpcs)"

# 2. Database nb is untouched by na's flood: its own quotas.
q nb authenticated "SELECT _log_rpc('b_app', 1)" >/dev/null
q nb service_role "SELECT _log_rpc('b_svc', 1)" >/dev/null
check "nb: an app name recorded under its own name" 1 "$(view nb b_app)"
check "nb: a service name recorded under its own name" 1 "$(view nb b_svc)"
check "nb: nothing in an overflow bucket" 0 "$(q nb "SELECT coalesce(sum(calls), 0) FROM rpc_metrics_hourly WHERE rpc LIKE '\_overflow%'")"
check "status: app names in nb" 1 "$(st nb app_names_this_db)"
check "status: overflow names in nb" 0 "$(st nb overflow_names_this_db)"
check "status: two databases hold names" 2 "$(st nb databases)"

# 3. Reserved names: _log_rpc refuses the extension's own names for every caller.
check "authenticated cannot forge feed_fusion_home" 42501 "$(sqlstate nb authenticated "SELECT _log_rpc('feed_fusion_home', 99999, false)")"
check "authenticated cannot forge flags_for" 42501 "$(sqlstate nb authenticated "SELECT _log_rpc('flags_for', 1)")"
check "service_role cannot forge rocker_next_best_actions either" 42501 "$(sqlstate nb service_role "SELECT _log_rpc('rocker_next_best_actions', 1)")"
check "nor log into '_overflow'" 42501 "$(sqlstate nb service_role "SELECT _log_rpc('_overflow', 1)")"
check "no forged figure recorded" 0 "$(view nb feed_fusion_home)"
check "_ff_log_rpc_at (service_role backfill) may record a tracked name" ok \
  "$(sqlstate nb service_role "SELECT _ff_log_rpc_at('feed_fusion_home', 5, true, now() - interval '2 hours')")"
check "the backfilled call is counted" 1 "$(view nb feed_fusion_home)"
echo "shared memory: $(st na shared_memory_bytes) bytes (metrics_slots = 256)"
check_done
