#!/usr/bin/env bash
# Shared-memory rate limiter on its own cluster with feed_fusion.rate_limit_max_keys = 16:
#  * full buckets carry no state: they are dropped before anything is evicted;
#  * a table full of live keys evicts the key whose bucket will be full soonest, and
#    counts it in ff_status();
#  * a clean restart keeps every live bucket (state file), a crash does not.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -u
N=rl_evict
q() { ff_psql "$N" -d rl -Atc "$1"; }
# remaining tokens of key $1 in a bucket of 20 per hour (a peek: takes nothing)
rem() { q "SELECT remaining FROM rate_limit_take('$1', 20, interval '1 hour', 0)"; }
stat() { q "SELECT detail ->> '$1' FROM ff_status() WHERE component = 'rate_limiter'"; }

ff_cluster_start "$N" 1 "feed_fusion.rate_limit_max_keys = 16" || { tail -20 "$FF_STAGE/$N/server.log"; exit 1; }
trap 'ff_cluster_stop "$N"' EXIT
ff_psql "$N" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null
ff_psql "$N" -d postgres -c "CREATE DATABASE rl" >/dev/null
ff_psql "$N" -d rl -f "$FF_SRC/test/setup_db.sql" >/dev/null 2>&1

check "capacity" 16 "$(stat capacity)"
check "partitions" 1 "$(stat partitions)"
# 15 live keys k2..k16, key ki owing i tokens (k2 will be full soonest) ...
q "SELECT count(*) FROM generate_series(2, 16) i, LATERAL rate_limit_take('k' || i, 20, interval '1 hour', i) t WHERE t.allowed" >/dev/null
# ... and one key whose bucket is full again 0.2 s later.
q "SELECT allowed FROM rate_limit_take('short', 1, interval '200 milliseconds')" >/dev/null
check "stored keys" 16 "$(stat stored_keys)"
sleep 0.5
q "SELECT allowed FROM rate_limit_take('k17', 20, interval '1 hour', 17)" >/dev/null
check "full bucket dropped, no eviction" 0 "$(stat evictions)"
check "k2 kept" 18 "$(rem k2)"
q "SELECT allowed FROM rate_limit_take('k18', 20, interval '1 hour', 18)" >/dev/null
check "one eviction" 1 "$(stat evictions)"
check "victim k2 (soonest full) is full" 20 "$(rem k2)"
check "k3 kept" 17 "$(rem k3)"
check "k18 stored" 2 "$(rem k18)"
check "stored keys still 16" 16 "$(stat stored_keys)"
# Many more keys: each costs one eviction, nothing breaks.
q "SELECT count(*) FROM generate_series(100, 199) i, LATERAL rate_limit_take('m' || i, 20, interval '1 hour', 1) t WHERE t.allowed" >/dev/null
check "evictions after 100 more keys" 101 "$(stat evictions)"
q "SELECT count(rate_limit_reset('m' || i)) FROM generate_series(100, 199) i" >/dev/null

# Restart keeps state: spend 5 tokens of a 10-per-hour key and 3 of a user's 'auth' bucket.
q "SELECT count(*) FROM generate_series(1, 5) g, LATERAL rate_limit_take('keep' || repeat('', g), 10, interval '1 hour') t WHERE t.allowed" >/dev/null
ff_psql "$N" -d rl -Atc "SELECT set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-000000000001', false); SELECT check_rate_limit('auth'); SELECT check_rate_limit('auth'); SELECT check_rate_limit('auth')" >/dev/null
before=$(q "SELECT remaining FROM rate_limit_take('keep', 10, interval '1 hour', 0)")
check "before restart" 5 "$before"
ff_cluster_restart "$N"
check "after clean restart" 5 "$(q "SELECT remaining FROM rate_limit_take('keep', 10, interval '1 hour', 0)")"
check_cmp "loaded at start" "$(stat loaded_at_start)" -ge 2
check "user bucket after restart: 2 more then denied" \
  "f t t f " "$(ff_psql "$N" -d rl -Atc "SELECT set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-000000000001', false) IS NULL; SELECT check_rate_limit('auth'); SELECT check_rate_limit('auth'); SELECT check_rate_limit('auth')" | tr '\n' ' ')"
check "state file consumed" gone "$(ff_as_pg test -e "$FF_STAGE/$N/data/pg_stat/feed_fusion_rate_limiter.stat" && echo present || echo gone)"
# A crash (a backend killed: the postmaster re-initialises shared memory) writes
# nothing, so the state does not survive it.
ff_as_pg "$FF_PGBIN/psql" -X -h "$FF_STAGE/$N" -U postgres -d rl -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
sleep 1
pid=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()")
kill -9 "$pid"
wait
for i in $(seq 1 30); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
check "after crash: fresh bucket" 10 "$(q "SELECT remaining FROM rate_limit_take('keep', 10, interval '1 hour', 0)")"
if grep -E "PANIC|TRAP|terminated by signal 11|terminated by signal 6" "$FF_STAGE/$N/server.log"
then fail "server log: no PANIC, TRAP or crash"; else pass "server log: no PANIC, TRAP or crash"; fi
check_done
