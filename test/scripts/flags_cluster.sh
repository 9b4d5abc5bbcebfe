#!/usr/bin/env bash
# Feature-flag cache across clusters and DDL.  On a hot standby: a standby backend that has cached the flags
# sees a change committed on the primary once the commit record is replayed (the
# relcache invalidation travels in WAL), without reconnecting; an unchanged table
# costs it no refill.  Buckets are the same after a server restart.  A backend with
# the old table cached follows a committed DROP + re-CREATE EXTENSION.
source "$FF_SRC/scripts/common.sh"
source "$FF_SRC/test/lib/check.sh"
set -euo pipefail
CHECK_FATAL=1
P=flags_primary; S=flags_standby; SD="$FF_STAGE/$S"
cleanup() { ff_cluster_stop "$S" || true; ff_cluster_stop "$P" || true; }
trap cleanup EXIT

ff_cluster_start "$P" 1 "wal_level = replica" "max_wal_senders = 4" "hot_standby = on"
ff_psql "$P" -d postgres -f "$FF_SRC/test/setup_roles.sql" >/dev/null
ff_psql "$P" -d postgres -c "CREATE DATABASE flags_sb" >/dev/null
ff_psql "$P" -d flags_sb -f "$FF_SRC/test/setup_db.sql" >/dev/null 2>&1
ff_psql "$P" -d flags_sb -c "INSERT INTO feature_flags (key, enabled, rollout_percent) VALUES ('flags_sb', false, 100)"

# Standby from a base backup, with its own socket directory.
ff_cluster_stop "$S" || true
rm -rf "$SD"; mkdir -p "$SD"; chown postgres: "$SD" 2>/dev/null || true
ff_as_pg "$FF_PGBIN/pg_basebackup" -h "$FF_STAGE/$P" -p 5432 -U postgres -D "$SD/data" -R -X stream
echo "unix_socket_directories = '$SD'" | ff_as_pg tee -a "$SD/data/postgresql.conf" >/dev/null
ff_as_pg "$FF_PGBIN/pg_ctl" -D "$SD/data" -l "$SD/server.log" -w -t 60 start >/dev/null
check "standby in recovery" t "$(ff_psql "$S" -d flags_sb -At -c 'SELECT pg_is_in_recovery()')"

# One standby backend: cache, wait for the primary's change to be replayed, ask again.
cat > "$SD/session.sql" <<SQL
SELECT set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-000000000001', false) IS NOT NULL AS claims;
SELECT 'before', flag_enabled('flags_sb'), _ff_flags_cache_info() ->> 'fills';
\! touch $SD/filled; while [ ! -f $SD/replayed ]; do sleep 0.1; done
SELECT 'after', flag_enabled('flags_sb'), _ff_flags_cache_info() ->> 'fills';
SELECT 'again', flag_enabled('flags_sb'), _ff_flags_cache_info() ->> 'fills';
SQL
chown postgres: "$SD/session.sql" 2>/dev/null || true
rm -f "$SD/filled" "$SD/replayed"
ff_psql "$S" -d flags_sb -At -F '|' -f "$SD/session.sql" > "$SD/session.out" 2>&1 &
SESSION=$!
for _ in $(seq 1 100); do [ -f "$SD/filled" ] && break; sleep 0.1; done
[ -f "$SD/filled" ] || { echo "standby session did not start"; cat "$SD/session.out"; exit 1; }

ff_psql "$P" -d flags_sb -c "UPDATE feature_flags SET enabled = true WHERE key = 'flags_sb'"
LSN="$(ff_psql "$P" -d flags_sb -At -c 'SELECT pg_current_wal_lsn()')"
for _ in $(seq 1 200); do
  [ "$(ff_psql "$S" -d flags_sb -At -c "SELECT pg_last_wal_replay_lsn() >= '$LSN'")" = t ] && break; sleep 0.1
done
touch "$SD/replayed"
wait "$SESSION"
cat "$SD/session.out"
check_true "standby: flag off, cache filled once" grep -qx 'before|f|1' "$SD/session.out"
check_true "standby: refilled once, sees the primary's commit" grep -qx 'after|t|2' "$SD/session.out"
check_true "standby: unchanged since, no refill" grep -qx 'again|t|2' "$SD/session.out"

# Stable buckets across a server restart (new backends, new postmaster).
Q="SELECT md5(string_agg(flags_for(md5(i::text)::uuid)::text, ',' ORDER BY i)) FROM generate_series(1, 2000) i"
ff_psql "$P" -d flags_sb -c "INSERT INTO feature_flags (key, enabled, rollout_percent) VALUES ('flags_sb30', true, 30)"
BEFORE="$(ff_psql "$P" -d flags_sb -At -c "$Q")"
ff_cluster_restart "$P"
AFTER="$(ff_psql "$P" -d flags_sb -At -c "$Q")"
echo "before restart $BEFORE, after $AFTER"
check_true "buckets computed" test -n "$BEFORE"
check "same buckets after a server restart" "$BEFORE" "$AFTER"

# DROP + re-CREATE EXTENSION (committed) under a backend that has the old table cached.
PD="$FF_STAGE/$P"
cat > "$PD/session.sql" <<SQL
SELECT 'old', flag_enabled('flags_sb30', true);
\! touch $PD/filled; while [ ! -f $PD/recreated ]; do sleep 0.1; done
SELECT 'new', flag_enabled('flags_sb30', true), flag_enabled('payments_real');
SQL
chown postgres: "$PD/session.sql" 2>/dev/null || true
rm -f "$PD/filled" "$PD/recreated"
ff_psql "$P" -d flags_sb -At -F '|' -f "$PD/session.sql" > "$PD/session.out" 2>&1 &
SESSION=$!
for _ in $(seq 1 100); do [ -f "$PD/filled" ] && break; sleep 0.1; done
ff_psql "$P" -d flags_sb -q -c "DROP EXTENSION feed_fusion CASCADE" \
  -c "DELETE FROM part_config WHERE parent_table LIKE 'public.%'" \
  -c "CREATE EXTENSION feed_fusion CASCADE" \
  -c "UPDATE feature_flags SET enabled = true, rollout_percent = 100 WHERE key = 'payments_real'" 2>&1 | grep -v NOTICE || true
touch "$PD/recreated"
wait "$SESSION"
cat "$PD/session.out"
check_true "old table cached: anonymous, 30 % flag off" grep -qx 'old|f' "$PD/session.out"
check_true "after DROP + CREATE EXTENSION: flags_sb30 gone (default true), new table's change seen" \
  grep -qx 'new|t|t' "$PD/session.out"
check_done
