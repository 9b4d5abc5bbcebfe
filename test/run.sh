#!/usr/bin/env bash
# The whole suite (`make test`): installs what is missing, builds warning-free,
# stages a private install, starts two throwaway clusters as `postgres`
#   shm — feed_fusion in shared_preload_libraries (shared-memory mode)
#   tbl — no preload (table mode)
# and runs pg_regress, pgTAP (pg_prove), isolation specs and shell tests on them.
# Files named tbl_* run on the tbl cluster, all others on shm.
# Ends with "N passed, M failed" and exits non-zero if anything failed.
#
# The pg_regress tests alone, against a server you run yourself (after `make install`;
# as a superuser; FF_MODE=shm|tbl is read from its shared_preload_libraries unless set):
#   PGHOST=/var/run/postgresql PGPORT=5432 PGUSER=postgres make installcheck
# (see the Makefile: sql/fnd_setup.sql creates the roles, extension and helpers first).
source "$(dirname "$0")/../scripts/common.sh"
set +e
ONLY="${FF_TEST_ONLY:-}"     # optional: regress|tap|isolation|scripts (comma list)
# FF_TEST_MATCH: optional regex on test names (regress, tap, isolation, scripts), e.g. "feed|flags"
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

ff_deps || exit 1
ff_build || exit 1
ff_private_install || exit 1

SRC="$FF_STAGE/src"; OUT="$FF_STAGE/out"
rm -rf "$SRC" "$OUT"; mkdir -p "$SRC" "$OUT"
for d in sql expected test bench scripts; do [ -d "$FF_ROOT/$d" ] && cp -a "$FF_ROOT/$d" "$SRC/"; done
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$SRC" "$OUT"

PASS=0; FAIL=0; FAILED=()
ok()   { PASS=$((PASS + 1)); printf '  ok     %s\n' "$1"; }
bad()  { FAIL=$((FAIL + 1)); FAILED+=("$1"); printf '  FAILED %s\n' "$1"; }

ff_log "starting clusters"
ff_cluster_start shm 1 || { echo "cannot start shm cluster"; tail -20 "$FF_STAGE/shm/server.log"; exit 1; }
ff_cluster_start tbl 0 || { echo "cannot start tbl cluster"; tail -20 "$FF_STAGE/tbl/server.log"; exit 1; }
trap 'ff_cluster_stop shm; ff_cluster_stop tbl' EXIT

# Fresh database with the extension and test helpers.
fresh_db() {
  local c="$1" db="$2"
  ff_psql "$c" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  PGOPTIONS="-c client_min_messages=warning" ff_psql "$c" -d "$db" -f "$SRC/test/setup_db.sql" >/dev/null
}
for c in shm tbl; do ff_psql "$c" -d postgres -f "$SRC/test/setup_roles.sql" >/dev/null; done

# Did pg_regress report test $2 as passed in log $1? (PG 15 and PG 16+ formats)
passed_in() {
  grep -qE "^test $2 +\.\.\. ok|^ok [0-9]+ +[-+]? *$2( |$)" "$1"
}

# Test names for a cluster: tbl_* go to tbl, the rest to shm.
names_for() {
  local c="$1" dir="$2" ext="$3" f n
  for f in $(ls "$dir"/*."$ext" 2>/dev/null | sort); do
    n="$(basename "$f" ."$ext")"
    if [ -n "${FF_TEST_MATCH:-}" ] && ! [[ "$n" =~ $FF_TEST_MATCH ]]; then continue; fi
    if [ "$c" = tbl ] && [[ "$n" == tbl_* ]]; then echo "$n"; fi
    if [ "$c" = shm ] && [[ "$n" != tbl_* ]]; then echo "$n"; fi
  done
}

if want regress; then
  ff_log "pg_regress"
  for c in shm tbl; do
    tests=$(names_for "$c" "$SRC/sql" sql)
    [ -z "$tests" ] && continue
    fresh_db "$c" ff_regress
    # run from $SRC so a test can share another's body with `\i sql/<name>.sql`
    (cd "$SRC" && ff_as_pg "$FF_PGBIN/../lib/pgxs/src/test/regress/pg_regress" --use-existing \
      --host="$FF_STAGE/$c" --port=5432 --user=postgres --bindir="$FF_PGBIN" \
      --inputdir="$SRC" --outputdir="$OUT/regress_$c" --dbname=ff_regress $tests) \
      > "$OUT/regress_$c.log" 2>&1
    for n in $tests; do
      if passed_in "$OUT/regress_$c.log" "$n"; then ok "regress/$c/$n"; else bad "regress/$c/$n"; fi
    done
    [ -f "$OUT/regress_$c/regression.diffs" ] && head -100 "$OUT/regress_$c/regression.diffs"
  done
fi

if want tap; then
  ff_log "pgTAP (pg_prove)"
  for c in shm tbl; do
    tests=$(names_for "$c" "$SRC/test/tap" sql)
    [ -z "$tests" ] && continue
    fresh_db "$c" ff_tap
    for n in $tests; do
      if ff_as_pg pg_prove --ext .sql -h "$FF_STAGE/$c" -p 5432 -U postgres -d ff_tap \
           "$SRC/test/tap/$n.sql" > "$OUT/tap_${c}_$n.log" 2>&1; then
        ok "tap/$c/$n ($(grep -oE 'Tests=[0-9]+' "$OUT/tap_${c}_$n.log"))"
      else
        bad "tap/$c/$n"; tail -40 "$OUT/tap_${c}_$n.log"
      fi
    done
  done
fi

if want isolation; then
  ff_log "isolation specs"
  for c in shm tbl; do
    tests=$(names_for "$c" "$SRC/test/isolation/specs" spec)
    [ -z "$tests" ] && continue
    fresh_db "$c" ff_iso
    ff_as_pg "$FF_PGBIN/../lib/pgxs/src/test/isolation/pg_isolation_regress" --use-existing \
      --host="$FF_STAGE/$c" --port=5432 --user=postgres --bindir="$FF_PGBIN" \
      --inputdir="$SRC/test/isolation" --outputdir="$OUT/iso_$c" --dbname=ff_iso $tests \
      > "$OUT/iso_$c.log" 2>&1
    for n in $tests; do
      if passed_in "$OUT/iso_$c.log" "$n"; then ok "isolation/$c/$n"; else bad "isolation/$c/$n"; fi
    done
    [ -f "$OUT/iso_$c/regression.diffs" ] && head -100 "$OUT/iso_$c/regression.diffs"
  done
fi

if want scripts; then
  ff_log "shell tests"
  export FF_STAGE FF_PGBIN FF_SRC="$SRC" FF_OUT="$OUT"
  for f in $(ls "$SRC"/test/scripts/*.sh 2>/dev/null | sort); do
    n="$(basename "$f" .sh)"
    if [ -n "${FF_TEST_MATCH:-}" ] && ! [[ "$n" =~ $FF_TEST_MATCH ]]; then continue; fi
    if bash "$f" > "$OUT/script_$n.log" 2>&1; then ok "scripts/$n"; else bad "scripts/$n"; tail -40 "$OUT/script_$n.log"; fi
  done
fi

echo
if [ "$FAIL" -gt 0 ]; then printf 'failed: %s\n' "${FAILED[@]}"; fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
