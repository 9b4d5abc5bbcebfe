#!/usr/bin/env bash
# `make demo`: install what is missing, build, start a throwaway cluster under ./tmp
# (as the postgres user, Unix socket only), load scale-1 sample data and show the
# main jobs working.  `make demo-stop` stops it and removes ./tmp/demo.
source "$(dirname "$0")/common.sh"

# The cluster lives in ./tmp/demo when postgres can reach it, else in the stage dir
# with ./tmp/demo as a symlink (a clone under /root is not readable by postgres).
mkdir -p "$FF_ROOT/tmp"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$FF_ROOT/tmp" 2>/dev/null; then
  FF_CLUSTERS="$FF_STAGE/clusters"; mkdir -p "$FF_CLUSTERS"; chown postgres: "$FF_CLUSTERS"
  ln -sfn "$FF_CLUSTERS/demo" "$FF_ROOT/tmp/demo"
else
  FF_CLUSTERS="$FF_ROOT/tmp"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$FF_CLUSTERS"
fi
export FF_CLUSTERS

case "${1:-start}" in
  stop)
    ff_cluster_stop demo || true
    rm -rf "$FF_CLUSTERS/demo" "$FF_ROOT/tmp/demo"
    echo "demo stopped"; exit 0 ;;
esac

ff_deps
ff_build
ff_private_install
ff_log "starting a throwaway cluster in ./tmp/demo (socket only, preloaded)"
ff_cluster_start demo 1
ff_psql demo -d postgres -f "$FF_ROOT/test/setup_roles.sql" >/dev/null
ff_psql demo -d postgres -c "CREATE DATABASE demo" >/dev/null
# pg_partman into a schema of its own first (docs/operations.md), then feed_fusion.
ff_psql demo -d demo -c "SET client_min_messages = warning" -c "CREATE SCHEMA partman" \
  -c "CREATE EXTENSION pg_partman SCHEMA partman" -c "CREATE EXTENSION feed_fusion" >/dev/null
if [ -f "$FF_ROOT/bench/gen/load.sh" ]; then
  ff_log "loading scale-1 sample data"
  # shellcheck disable=SC2086
  bash "$FF_ROOT/bench/gen/load.sh" -h "$FF_CLUSTERS/demo" -p 5432 -U postgres -d demo 1
fi
ff_log "tour"
ff_psql demo -d demo -P pager=off -f - < "$FF_ROOT/scripts/demo_tour.sql"
cat <<MSG

The demo cluster keeps running.  Connect with:
  runuser -u postgres -- $FF_PGBIN/psql -h $FF_CLUSTERS/demo -d demo
Stop and remove it with:  make demo-stop
MSG
