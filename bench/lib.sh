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

# wall_seconds <h:mm:ss or m:ss.ss>: GNU time's elapsed wall clock in seconds.
wall_seconds() {
  awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f\n", s}' <<<"$1"
}

# floor_preview N: the floor for N resources, what any N resources cost
# through the same CLI, Node.js language host and kubernetes plugin as the
# program: `pulumi preview` of bench/floor (N-2 ConfigMaps, a component and a
# provider that renders to a folder, so nothing is contacted). Sets FLOOR_WALL
# (s) and FLOOR_RSS (KiB).
# shellcheck disable=SC2034 # FLOOR_* are the caller's to read
floor_preview() {
  local n=$1 resources
  ((n >= 3)) || { echo "floor_preview: N must be at least 3" >&2; exit 2; }
  (cd "$repo/bench/floor" && pulumi stack select "floor-$n" --create --non-interactive >/dev/null)
  EDGEFLEET_FLOOR_RESOURCES=$n EDGEFLEET_FLOOR_DIR="$state/rendered" \
    timed pulumi preview --cwd "$repo/bench/floor" --stack "floor-$n" --non-interactive --suppress-progress
  resources=$(grep -Eo '\+ [0-9]+ to create' "$TIMED_LOG" | grep -Eo '[0-9]+')
  # The passphrase secrets provider wrote the stack's salt there.
  rm -f "$TIMED_LOG" "$repo/bench/floor/Pulumi.floor-$n.yaml"
  # The stack resource is the engine's own, on top of the program's N.
  ((resources == n + 1)) || { echo "floor preview declared $resources resources, expected $((n + 1))" >&2; exit 1; }
  FLOOR_WALL=$(wall_seconds "$TIMED_WALL")
  FLOOR_RSS=$TIMED_RSS
}
