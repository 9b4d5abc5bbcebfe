#!/usr/bin/env bash
# Load the deterministic benchmark data set into a database that has feed_fusion:
#   bash bench/gen/load.sh [psql connection args...] [scale]
#   e.g. bash bench/gen/load.sh -h /tmp -p 5432 -U postgres -d ff_bench bench
# scale: a number (users = 500·scale, posts = 20,000·scale, ...) or a preset:
#   smoke = 1, bench = 50 (1,000,000 posts, 200,000 listings, 25,000 users, ~2.9 M follows).
# The scale may also come from FF_SCALE; FF_SEED (default 42) and FF_ASOF (default
# date_trunc('day', now()), a timestamptz literal) complete the inputs: the same three
# values always produce identical rows.  Connect as a superuser (RLS is bypassed) to a
# database with the extension installed and no data yet.  Progress goes to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

args=("$@")
scale="${FF_SCALE:-}"
# The last argument is the scale if it is a number or a preset and is not the value of
# a psql option that takes one (-p 5432 must stay the port).
if [ ${#args[@]} -gt 0 ]; then
  last="${args[${#args[@]}-1]}"
  prev=""; [ ${#args[@]} -gt 1 ] && prev="${args[${#args[@]}-2]}"
  if [[ "$last" =~ ^([0-9]+(\.[0-9]+)?|smoke|bench)$ ]] \
     && ! [[ "$prev" =~ ^-(h|p|U|d|v|P|c|f|o|L|T)$|^--(host|port|username|dbname|set|variable|pset)$ ]]; then
    scale="$last"; unset 'args[${#args[@]}-1]'
  fi
fi
case "${scale:-1}" in
  smoke) scale=1 ;;
  bench) scale=50 ;;
  "")    scale=1 ;;
esac
[[ "$scale" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "load.sh: bad scale '$scale'" >&2; exit 2; }

if [ -n "${FF_PGBIN:-}" ] && [ -x "$FF_PGBIN/psql" ]; then PSQL="$FF_PGBIN/psql"
elif command -v psql >/dev/null; then PSQL=psql
else PSQL=/usr/lib/postgresql/15/bin/psql; fi

set -o pipefail
"$PSQL" -X -q -v ON_ERROR_STOP=1 "${args[@]}" \
  -v scale="$scale" -v seed="${FF_SEED:-42}" -v asof="${FF_ASOF:-}" \
  -f "$here/generate.sql" 2>&1 | sed -u -e 's/^psql:[^ ]*: NOTICE:  /  /'
