#!/usr/bin/env bash
# Shared helpers for the host-script tests. Each test runs the real scripts
# from infra/scripts against a throwaway ROOT, never the machine's /etc or /usr.
# shellcheck disable=SC2034 # OUT, ERR, STATUS, FAKES are read by the tests that source this
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../infra/scripts" && pwd)"
FAKES="$(cd "$(dirname "${BASH_SOURCE[0]}")/fakes" && pwd)"
TESTS_RUN=0

new_root() {
  local r
  r=$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-root.XXXXXX")
  # the directories every Linux host already has
  mkdir -p "$r/usr/local/bin" "$r/etc/sysctl.d" "$r/run" "$r/var/log" "$r/var/lib"
  printf '%s\n' "$r"
}

fail_test() {
  printf 'FAIL [%s]: %s\n' "${CURRENT:-?}" "$*" >&2
  exit 1
}

t() { # t <name>: start a test case
  CURRENT=$1
  TESTS_RUN=$((TESTS_RUN + 1))
}

assert_eq() {
  if [ "$1" != "$2" ]; then
    if [ "$(printf '%s\n' "$2" | wc -l)" -gt 3 ]; then
      fail_test "${3:-values differ}: diff expected/got:
$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$1") || true)"
    fi
    fail_test "${3:-values differ}: expected [$2], got [$1]"
  fi
}
assert_contains() { case "$1" in *"$2"*) ;; *) fail_test "${3:-missing text}: [$2] not in [$1]" ;; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail_test "${3:-unexpected text}: [$2] found" ;; esac; }
assert_file() { [ -f "$1" ] || fail_test "expected file $1"; }
assert_absent() { if [ -e "$1" ] || [ -L "$1" ]; then fail_test "expected $1 to be absent"; fi; }
assert_mode() { assert_eq "$(stat -c %a "$1")" "$2" "mode of $1"; }

# run_script <script> [VAR=value ...]: runs with a clean environment, captures
# stdout/stderr/status into OUT, ERR, STATUS.
run_script() {
  local script=$1
  shift
  local o e
  o=$(mktemp)
  e=$(mktemp)
  set +e
  env -i PATH="$PATH" HOME="${HOME:-/root}" "$@" bash "$SCRIPTS/$script" >"$o" 2>"$e"
  STATUS=$?
  set -e
  OUT=$(cat "$o")
  ERR=$(cat "$e")
  rm -f "$o" "$e"
}

# snapshot <root>: every path with type, mode and content hash; mtimes included
# so "changes nothing" means nothing was rewritten either.
snapshot() {
  (cd "$1" && find . -path ./fakes -prune -o -path ./log -prune -o -printf '%p %y %m %T@\n' | sort) |
    while read -r p y m ts; do
      if [ "$y" = f ]; then printf '%s %s %s %s %s\n' "$p" "$y" "$m" "$ts" "$(sha256sum "$1/$p" | cut -d' ' -f1)"
      else printf '%s %s %s\n' "$p" "$y" "$m"; fi
    done
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

done_tests() { printf 'ok %s: %d cases\n' "$(basename "$0")" "$TESTS_RUN"; }

# Rendered artifacts (config.yaml, unit, env file, supervisor template) come
# from the real TypeScript renderers; test/unit/infra/hostScripts.test.ts
# writes them to $EDGEFLEET_RENDERED before running these tests.
rendered() {
  local f="${EDGEFLEET_RENDERED:?run these through test/unit/infra/hostScripts.test.ts (EDGEFLEET_RENDERED unset)}/$1"
  [ -f "$f" ] || fail_test "rendered artifact $1 missing"
  cat "$f"
  printf x # keep trailing newlines through $(...)
}
strip_x() { printf '%s' "${1%x}"; }

# argv_spy <dir> <log> <command>...: wrappers in <dir> (put it first on PATH)
# that append each call's command line to <log> and run the real command. A
# test then reads <log> for what a secret must never be part of: an argv.
argv_spy() {
  local dir=$1 log=$2 cmd real
  shift 2
  mkdir -p "$dir"
  : >"$log"
  for cmd in "$@"; do
    real=$(command -v "$cmd") || fail_test "argv_spy: no $cmd on PATH"
    printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >>"%s"\nexec "%s" "$@"\n' "$cmd" "$log" "$real" >"$dir/$cmd"
    chmod +x "$dir/$cmd"
  done
}
