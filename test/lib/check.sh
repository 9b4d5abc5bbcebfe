#!/usr/bin/env bash
# test/lib/check.sh — the assertions every shell test uses (test/scripts/*.sh):
#   source "$FF_SRC/test/lib/check.sh"      (test/run.sh stages test/ into $FF_SRC)
#
#   check NAME EXPECTED ACTUAL    ok when ACTUAL is the string EXPECTED
#   check_cmp NAME A OP B         numeric comparison (integers or decimals), OP one of
#                                 -eq -ne -lt -le -gt -ge  or  == != < <= > >=;
#                                 not ok when A or B is not a number
#   check_true NAME CMD [ARGS...] ok when CMD exits with status 0
#   check_same NAME FILE1 FILE2   ok when both files are non-empty and equal; else a
#                                 unified diff (first 150 lines) follows the not ok
#   pass NAME                     record a success decided by the script itself
#   fail NAME [DETAIL]            record a failure
#   check_done                    print "N passed, M failed"; status 1 if M > 0
#                                 (make it the script's last command)
#
# Each check prints "ok - NAME" or "not ok - NAME: DETAIL" and returns 0 / 1.  By default
# a failure is counted and the script goes on (under `set -e` the status 1 ends it);
# with CHECK_FATAL=1 (set after sourcing) the first failure prints the summary and exits
# with status 1 — for scripts whose later steps make no sense once one has failed.  Counters live in this shell: a check run in
# a subshell ( $(...), a pipeline's left side, ( ... ) ) is not counted.

CHECK_PASSED=0
CHECK_FAILED=0
CHECK_FATAL="${CHECK_FATAL:-0}"

pass() {
  CHECK_PASSED=$((CHECK_PASSED + 1))
  printf 'ok - %s\n' "$1"
}

fail() {
  CHECK_FAILED=$((CHECK_FAILED + 1))
  if [ $# -gt 1 ]; then printf 'not ok - %s: %s\n' "$1" "$2"; else printf 'not ok - %s\n' "$1"; fi
  if [ "$CHECK_FATAL" = 1 ]; then check_done; exit 1; fi
  return 1
}

check() {
  if [ $# -ne 3 ]; then fail "${1:-check}" "check needs NAME EXPECTED ACTUAL, got $# arguments"; return; fi
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected [$2] got [$3]"; fi
}

check_cmp() {
  local name="$1" a="$2" op="$3" b="$4" num='^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
  if [ $# -ne 4 ]; then fail "${name:-check_cmp}" "check_cmp needs NAME A OP B, got $# arguments"; return; fi
  if ! [[ "$a" =~ $num && "$b" =~ $num ]]; then fail "$name" "not a number: [$a] $op [$b]"; return; fi
  case "$op" in
    -eq) op='==' ;; -ne) op='!=' ;; -lt) op='<' ;; -le) op='<=' ;; -gt) op='>' ;; -ge) op='>=' ;;
    '=='|'!='|'<'|'<='|'>'|'>=') ;;
    *) fail "$name" "unknown operator [$op]"; return ;;
  esac
  if awk -v a="$a" -v b="$b" "BEGIN { exit !((a + 0) $op (b + 0)) }"; then pass "$name"
  else fail "$name" "[$a] $op [$b] is false"; fi
}

check_true() {
  local name="$1" rc
  shift
  if [ $# -eq 0 ]; then fail "$name" "check_true needs a command"; return; fi
  if "$@"; then rc=0; else rc=$?; fi     # (an if: a failing CMD must not end a set -e script)
  if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "exit status $rc: $*"; fi
}

check_same() {
  if [ -s "$2" ] && [ -s "$3" ] && cmp -s "$2" "$3"; then pass "$1 ($(wc -l < "$2") lines)"; return; fi
  local d
  d="$(diff -u --label "$(basename "$2")" --label "$(basename "$3")" "$2" "$3" | head -150 | sed 's/^/#   /')"
  fail "$1" "files differ (first 150 lines of the diff):"$'\n'"$d"
}

check_done() {
  echo "$CHECK_PASSED passed, $CHECK_FAILED failed"
  [ "$CHECK_FAILED" -eq 0 ]
}
