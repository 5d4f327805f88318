#!/usr/bin/env bash
# bench/preview.sh N...: `pulumi preview` of generated regions of N K3s hosts
# (sites of 1 to 5 hosts, bench/gen-region.ts), through the real CLI, offline
# (a preview contacts no host). Wall time and peak memory from GNU time
# (/usr/bin/time -v; maxrss is the largest single process: CLI, language host
# or provider), and beside each the floor for as many resources (lib.sh
# floor_preview) and the ratio to it. Throwaway backend and stack files.
# Usage: bash bench/preview.sh 10 100 500 2000/550 >> bench/results/preview-$(date +%F).txt
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
made=()
trap 'rm -rf "$state" "${made[@]}"' EXIT

echo "# pulumi preview of generated regions; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
preview() { # preview <stack> <label>: one measured preview line
  local stack=$1 label=$2 resources
  pulumi stack init "$stack" --non-interactive >/dev/null
  timed pulumi preview --stack "$stack" --non-interactive --suppress-progress
  resources=$(grep -Eo '\+ [0-9]+ to create' "$TIMED_LOG" | grep -Eo '[0-9]+')
  rm -f "$TIMED_LOG"
  local wall=$TIMED_WALL rss=$TIMED_RSS
  # Beside each figure, the floor: the same number of trivial resources
  # through the same engine (lib.sh floor_preview), and the ratio to it.
  # The engine counts the stack itself, which the floor adds of its own.
  floor_preview "$((resources - 1))"
  printf '%-22s resources %-6s wall %s  maxrss %s KiB  floor %.1f s, %s KiB  ratio %.2f\n' "$label" "$resources" \
    "$wall" "$rss" "$FLOOR_WALL" "$FLOOR_RSS" "$(awk -v a="$(wall_seconds "$wall")" -v b="$FLOOR_WALL" 'BEGIN {print a / b}')"
}

# N previews one stack of N hosts kept in an inventory file; N/M makes the
# N-host region inline, splits it into stacks of whole sites of at most M
# hosts (split-stack.ts, as before inventory files) and previews each in turn.
for arg in "$@"; do
  n=${arg%/*}
  stack="bench-$n"
  file="stacks/Pulumi.$stack.yaml"
  made+=("$file")
  if [[ $arg != */* ]]; then
    # One stack, its hosts in an inventory file (edgefleet:inventory), as a large region keeps them.
    made+=("inventories/$stack.csv")
    bash scripts/inventory/run-ts.sh bench/gen-region.ts "$n" "$file" --inventory "inventories/$stack.csv" >/dev/null
    preview "$stack" "hosts $n"
    continue
  fi
  bash scripts/inventory/run-ts.sh bench/gen-region.ts "$n" "$file" >/dev/null
  t0=$SECONDS
  while read -r piece; do
    made+=("$piece")
  done < <(bash scripts/inventory/run-ts.sh scripts/inventory/split-stack.ts --stack "$file" --max-hosts "${arg#*/}" | sed 's/: .*//')
  for piece in stacks/Pulumi."$stack"-?.yaml; do
    p=${piece#stacks/Pulumi.}; p=${p%.yaml}
    preview "$p" "hosts $n: $p ($(grep -c 'role: ' "$piece") hosts)"
  done
  echo "hosts $n in stacks of <= ${arg#*/}: $((SECONDS - t0)) s in all"
done
