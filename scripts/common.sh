#!/usr/bin/env bash
# Shared helpers for demo, tests and benchmarks: dependency install, a private
# PostgreSQL install tree (so parallel checkouts never overwrite each other's
# feed_fusion.so), and throwaway clusters owned by the `postgres` user.
set -euo pipefail

FF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FF_PGVER="${FF_PGVER:-15}"
FF_PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/$FF_PGVER/bin/pg_config}"
FF_PACKAGES=(gcc make "postgresql-$FF_PGVER" "postgresql-server-dev-$FF_PGVER"
             "postgresql-$FF_PGVER-partman" "postgresql-$FF_PGVER-pgtap"
             libtap-parser-sourcehandler-pgtap-perl postgresql-contrib cppcheck)
# Stage directory: somewhere the postgres user can read and write, one per checkout.
FF_STAGE="${FF_STAGE:-/var/tmp/feed_fusion-$(printf '%s' "$FF_ROOT" | md5sum | cut -c1-10)}"
FF_INST="$FF_STAGE/inst"
FF_PGBIN="$FF_INST/usr/lib/postgresql/$FF_PGVER/bin"
# Where clusters live (one sub-directory each); the demo puts its cluster under ./tmp.
FF_CLUSTERS="${FF_CLUSTERS:-$FF_STAGE}"

ff_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Install every Debian package we need that is not there yet.
ff_deps() {
  local missing=() p
  for p in "${FF_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run as root, or install them)" >&2; return 1
  fi
  ff_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Run a command as the postgres user (PostgreSQL refuses to run as root).
ff_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Build with warnings as errors.
ff_build() {
  ff_log "building feed_fusion"
  make -C "$FF_ROOT" -s PG_CONFIG="$FF_PG_CONFIG" WERROR=1 all
}

# Private install tree: a copy of the server plus our build, relocated under $FF_STAGE.
ff_private_install() {
  local libdir sharedir
  libdir="$("$FF_PG_CONFIG" --pkglibdir)"; sharedir="$("$FF_PG_CONFIG" --sharedir)"
  mkdir -p "$FF_STAGE"
  if [ ! -x "$FF_PGBIN/postgres" ] || [ "$FF_PGBIN/postgres" -ot "$(dirname "$libdir")/bin/postgres" ] \
     || [ ! -f "$FF_INST$sharedir/extension/pgtap.control" ]; then
    ff_log "staging a private PostgreSQL tree in $FF_INST"
    rm -rf "$FF_INST"; mkdir -p "$FF_INST$(dirname "$libdir")" "$FF_INST$(dirname "$sharedir")"
    cp -a "$(dirname "$libdir")" "$FF_INST$(dirname "$(dirname "$libdir")")/"
    cp -a "$sharedir" "$FF_INST$(dirname "$sharedir")/"
  fi
  make -C "$FF_ROOT" -s PG_CONFIG="$FF_PG_CONFIG" DESTDIR="$FF_INST" install >/dev/null
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$FF_STAGE"
  return 0
}

# ff_cluster_start NAME PRELOAD(0|1) [extra conf lines...]: fresh cluster in $FF_STAGE/NAME.
ff_cluster_start() {
  local name="$1" preload="$2"; shift 2
  local dir="$FF_CLUSTERS/$name"
  ff_cluster_stop "$name" || true
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  ff_as_pg "$FF_PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir'"
    echo "port = 5432"
    echo "max_connections = 60"
    echo "fsync = off"
    echo "synchronous_commit = on"
    echo "full_page_writes = off"
    echo "shared_buffers = 256MB"
    echo "max_worker_processes = 16"
    echo "max_prepared_transactions = 10"
    echo "log_min_messages = warning"
    echo "lc_messages = 'C'"
    echo "timezone = 'UTC'"
    if [ "$preload" = 1 ]; then echo "shared_preload_libraries = 'feed_fusion'"; fi
    for l in "$@"; do echo "$l"; done
  } >> "$dir/data/postgresql.conf"
  ff_server_start "$dir"
}

# Start the server in $1/data.  FF_VALGRIND=1 runs it under valgrind memcheck
# (all backends, --trace-children) with errors logged to $1/valgrind.*.log.
ff_server_start() {
  local dir="$1" i
  if [ -n "${FF_VALGRIND:-}" ]; then
    cp "$FF_ROOT/test/valgrind.supp" "$FF_STAGE/valgrind.supp"; chmod 644 "$FF_STAGE/valgrind.supp"
    ff_as_pg bash -c "nohup valgrind --quiet --trace-children=yes --track-origins=no --leak-check=no \
      --error-exitcode=0 --suppressions='$FF_STAGE/valgrind.supp' --log-file='$dir/valgrind.%p.log' \
      '$FF_PGBIN/postgres' -D '$dir/data' >>'$dir/server.log' 2>&1 &"
    for i in $(seq 1 240); do
      ff_as_pg "$FF_PGBIN/pg_isready" -q -h "$dir" -p 5432 && return 0; sleep 1
    done
    echo "server under valgrind did not start" >&2; return 1
  fi
  ff_as_pg "$FF_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

ff_cluster_stop() {
  local dir="$FF_CLUSTERS/$1"
  [ -f "$dir/data/postmaster.pid" ] || return 0
  ff_as_pg "$FF_PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null 2>&1
}

ff_cluster_restart() {
  local dir="$FF_CLUSTERS/$1"
  ff_cluster_stop "$1"
  ff_server_start "$dir"
}

# ff_psql NAME [psql args...]: psql against cluster NAME as superuser postgres.
ff_psql() {
  local name="$1"; shift
  ff_as_pg "$FF_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$FF_CLUSTERS/$name" -p 5432 -U postgres "$@"
}
