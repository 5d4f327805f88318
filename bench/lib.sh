#!/usr/bin/env bash
# Sourced by the bench scripts: the pinned toolchain, the example stacks'
# passphrase, a throwaway local backend ($state), and `timed`, the one way a
# figure is taken: GNU time -v, whose "Elapsed (wall clock) time" and
# "Maximum resident set size" (the largest single process of the run: the
# CLI, the language host or a provider) are what BENCHMARKS.md reports.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
eval "$(tools/bootstrap.sh --env)"
export PULUMI_CONFIG_PASSPHRASE=edgefleet-example
state=$(mktemp -d)
export PULUMI_BACKEND_URL="file://$state"

# timed <command...>: runs it under GNU time, keeping its stdout in
# $TIMED_LOG and setting TIMED_WALL and TIMED_RSS (KiB); a failure prints the
# tails of both and exits. The caller removes $TIMED_LOG when done with it.
# shellcheck disable=SC2034 # TIMED_* are the caller's to read
timed() {
  local report
  report=$(mktemp)
  TIMED_LOG="$report.log"
  /usr/bin/time -v "$@" >"$TIMED_LOG" 2>"$report" || { tail -n 40 "$TIMED_LOG" "$report" >&2; exit 1; }
  TIMED_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$report")
  TIMED_RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$report")
  rm -f "$report"
}
