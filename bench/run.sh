#!/usr/bin/env bash
# `make bench` (FF_BENCH_SMOKE=1: `make bench-smoke`, run by CI).
# Installs what is missing, builds warning-free, stages a private install, then starts
#   bench_shm — feed_fusion in shared_preload_libraries (shared-memory mode)
#   bench_tbl — no preload (table mode)
# both with database ff_bench (extension, Supabase roles, generated data set), and runs
# every bench/*/run.sh with
#   FF_BENCH_HOST_SHM, FF_BENCH_HOST_TBL  socket directories (port 5432, user postgres)
#   FF_BENCH_DB=ff_bench                  scale $FF_BENCH_SCALE (50 = benchmark preset, 1 in smoke)
#   FF_BENCH_DB_SMALL=ff_bench_small      the same generator at a tenth of that scale
#   FF_BENCH_USERS, FF_BENCH_SCALE        users (person entities) and scale of ff_bench;
#   FF_PGBIN, FF_BENCH_SMOKE, FF_BENCH_LIB
# The loaded data directory is cached in $FF_STAGE/bench_cache/s<scale> (keyed by scale,
# seed, generator and install script) and copied into both clusters, so every run starts
# from the same pristine rows and only the first run at a scale pays the load.
# Env: FF_BENCH_SCALE, FF_SEED, FF_BENCH_ONLY (comma list of components), FF_BENCH_KEEP=1
# (leave the clusters running), FF_BENCH_RELOAD=1 (ignore the cache).
source "$(dirname "$0")/../scripts/common.sh"
source "$FF_ROOT/bench/lib.sh"
set +e
T0=$SECONDS
export FF_BENCH_SMOKE="${FF_BENCH_SMOKE:-0}"
if [ "$FF_BENCH_SMOKE" = 1 ]; then SCALE="${FF_BENCH_SCALE:-1}"; else SCALE="${FF_BENCH_SCALE:-50}"; fi
SMALL_SCALE="$(awk -v s="$SCALE" 'BEGIN { printf "%g", s / 10 }')"
SEED="${FF_SEED:-42}"

ff_deps || exit 1
ff_build || exit 1
ff_private_install || exit 1

# Benchmark settings on top of scripts/common.sh's: durable commits as in production.
BENCH_CONF=("shared_buffers = 1GB" "fsync = on" "full_page_writes = on" "synchronous_commit = on"
            "max_wal_size = 4GB" "checkpoint_timeout = 30min" "effective_cache_size = 8GB"
            "jit = off" "max_connections = 100")

CACHE="$FF_STAGE/bench_cache/s$SCALE"
KEY="$( { echo "scale=$SCALE seed=$SEED small=$SMALL_SCALE"; "$FF_PG_CONFIG" --version;
          cat "$FF_ROOT"/feed_fusion--*.sql "$FF_ROOT/feed_fusion.control" "$FF_ROOT"/bench/gen/* \
              "$FF_ROOT/test/setup_roles.sql"; } | md5sum | cut -c1-32)"

# Load both databases into a scratch cluster and keep its stopped data directory.
load_cache() {
  local c=bench_load db sc t asof secs=0
  asof="$(date -u +%Y-%m-%d) 00:00:00+00"
  ff_log "loading the data set (scale $SCALE and $SMALL_SCALE) into a fresh cluster"
  ff_cluster_start "$c" 0 "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_wal_size = 8GB" \
    "checkpoint_timeout = 30min" "jit = off" || { tail -20 "$FF_STAGE/$c/server.log"; return 1; }
  ff_psql "$c" -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null || return 1
  for db in ff_bench ff_bench_small; do
    sc="$SCALE"; [ "$db" = ff_bench_small ] && sc="$SMALL_SCALE"
    ff_psql "$c" -d postgres -c "CREATE DATABASE $db" >/dev/null || return 1
    ff_psql "$c" -d "$db" -c "SET client_min_messages = warning" \
      -c "CREATE EXTENSION feed_fusion CASCADE" >/dev/null || return 1
    t=$SECONDS
    FF_SEED="$SEED" FF_ASOF="$asof" FF_PGBIN="$FF_PGBIN" bash "$FF_ROOT/bench/gen/load.sh" \
      -h "$FF_STAGE/$c" -p 5432 -U postgres -d "$db" "$sc" || return 1
    echo "  $db: scale $sc loaded in $((SECONDS - t)) s (wall clock)"
    [ "$db" = ff_bench ] && secs=$((SECONDS - t))
  done
  ff_psql "$c" -d postgres -c "CHECKPOINT" >/dev/null
  ff_cluster_stop "$c" || return 1
  # After a clean shutdown only the WAL segment holding the shutdown checkpoint is
  # needed; the rest (recycled segments of the load) would be copied twice for nothing.
  local redo
  redo="$(ff_as_pg "$FF_PGBIN/pg_controldata" -D "$FF_STAGE/$c/data" | sed -n "s/^Latest checkpoint's REDO WAL file: *//p")"
  if [ -n "$redo" ] && [ -f "$FF_STAGE/$c/data/pg_wal/$redo" ]; then
    find "$FF_STAGE/$c/data/pg_wal" -maxdepth 1 -type f -regextype posix-extended \
      -regex '.*/[0-9A-F]{24}' ! -name "$redo" -delete
  fi
  rm -rf "$CACHE"; mkdir -p "$(dirname "$CACHE")"
  mv "$FF_STAGE/$c/data" "$CACHE" && echo "$KEY" > "$CACHE.key"
  # What the generator leaves in the database is rows only: the as-of and load time here.
  printf 'asof=%s\nload_seconds=%s\n' "${asof%% *}" "$secs" > "$CACHE.meta"
  rm -rf "${FF_STAGE:?}/$c"
}

# bench_cluster NAME PRELOAD: a cluster on a fresh copy of the cached data directory.
bench_cluster() {
  local name="$1" preload="$2" dir="$FF_STAGE/$1"
  ff_cluster_stop "$name" || true
  rm -rf "$dir"; mkdir -p "$dir"
  cp -a "$CACHE" "$dir/data" || return 1
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  {
    echo "# bench/run.sh: $name"
    echo "unix_socket_directories = '$dir'"
    if [ "$preload" = 1 ]; then echo "shared_preload_libraries = 'feed_fusion'"; else echo "shared_preload_libraries = ''"; fi
    printf '%s\n' "${BENCH_CONF[@]}"
  } >> "$dir/data/postgresql.conf"
  ff_as_pg "$FF_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null \
    || { tail -20 "$dir/server.log"; return 1; }
}

if [ "${FF_BENCH_RELOAD:-0}" = 1 ] || [ ! -d "$CACHE" ] || [ "$(cat "$CACHE.key" 2>/dev/null)" != "$KEY" ] \
   || [ ! -f "$CACHE.meta" ] \
   || [ -n "$(find "$CACHE.key" -mtime +7 2>/dev/null)" ]; then
  load_cache || { echo "loading the data set failed"; exit 1; }
else
  ff_log "reusing the cached data set in $CACHE"
fi

ff_log "starting bench_shm (preloaded) and bench_tbl (table mode)"
bench_cluster bench_shm 1 || { echo "cannot start bench_shm"; exit 1; }
bench_cluster bench_tbl 0 || { echo "cannot start bench_tbl"; exit 1; }
if [ "${FF_BENCH_KEEP:-0}" != 1 ]; then trap 'ff_cluster_stop bench_shm; ff_cluster_stop bench_tbl' EXIT; fi

export FF_PGBIN FF_STAGE FF_BENCH_DB=ff_bench FF_BENCH_DB_SMALL=ff_bench_small
export FF_BENCH_HOST_SHM="$FF_STAGE/bench_shm" FF_BENCH_HOST_TBL="$FF_STAGE/bench_tbl"
export FF_BENCH_LIB="$FF_ROOT/bench/lib.sh" FF_BENCH_SCALE="$SCALE"
FF_BENCH_USERS="$(ff_bench_psql "$FF_BENCH_HOST_SHM" -At -c "SELECT count(*) FROM entities WHERE kind = 'person'")"
export FF_BENCH_USERS
ASOF="$(sed -n 's/^asof=//p' "$CACHE.meta")"; LOAD_SECONDS="$(sed -n 's/^load_seconds=//p' "$CACHE.meta")"

# What we measure on.
echo
echo "# feed_fusion benchmarks $(date -u +'%Y-%m-%d %H:%M UTC')$([ "$FF_BENCH_SMOKE" = 1 ] && echo '  [smoke: runs only, figures meaningless]')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server:  $("$FF_PGBIN/postgres" --version), ${BENCH_CONF[*]}"
ff_bench_psql "$FF_BENCH_HOST_SHM" -At -F' ' -c "
  SELECT 'data:    ff_bench scale $SCALE (seed $SEED, as-of $ASOF): '
         || $FF_BENCH_USERS || ' users, ' || (SELECT count(*) FROM entities) || ' entities, '
         || (SELECT count(*) FROM follows) || ' follows, ' || (SELECT count(*) FROM posts) || ' posts, '
         || (SELECT count(*) FROM listings) || ' listings, ' || (SELECT count(*) FROM events) || ' events, '
         || (SELECT count(*) FROM feed_hides) || ' hides, '
         || (SELECT count(*) FROM shopping_cart_items) || ' cart rows; generator $LOAD_SECONDS s'"
echo

OUT="$FF_STAGE/bench_out"; rm -rf "$OUT"; mkdir -p "$OUT"
RAN=0; FAILED=()
for f in $(ls "$FF_ROOT"/bench/*/run.sh 2>/dev/null | sort); do
  comp="$(basename "$(dirname "$f")")"
  [ "$comp" = gen ] && continue
  if [ -n "${FF_BENCH_ONLY:-}" ] && [[ ",$FF_BENCH_ONLY," != *",$comp,"* ]]; then continue; fi
  ff_log "bench/$comp"
  t=$SECONDS
  (cd "$FF_ROOT" && bash "$f") 2>&1 | tee "$OUT/$comp.log"
  rc=${PIPESTATUS[0]}
  RAN=$((RAN + 1))
  if [ "$rc" -ne 0 ]; then FAILED+=("$comp"); echo "  bench/$comp FAILED (exit $rc)"; fi
  echo "  ($comp: $((SECONDS - t)) s)"
done

echo
[ "$RAN" -eq 0 ] && echo "no component benchmark ran (none in bench/*/run.sh, or all filtered by FF_BENCH_ONLY)"
[ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
echo "$RAN benchmarks ran, ${#FAILED[@]} failed, $((SECONDS - T0)) s total; logs in $OUT"
[ ${#FAILED[@]} -eq 0 ]
