#!/usr/bin/env bash
# bench/lab.sh: wall time and peak memory of the lab region's `pulumi up`,
# the no-op re-run and `pulumi destroy`, each measured with GNU time
# (/usr/bin/time -v: "Elapsed (wall clock) time" and "Maximum resident set
# size", the largest single process of the run's tree: the CLI, the language
# host or a provider). Uses a throwaway backend; leaves no lab behind.
# Usage (root): bash bench/lab.sh > bench/results/lab-$(date +%F).txt
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
eval "$(tools/bootstrap.sh --env)"
export PULUMI_CONFIG_PASSPHRASE=edgefleet-example
state=$(mktemp -d)
export PULUMI_BACKEND_URL="file://$state"
stack_backup=$(mktemp)
cp stacks/Pulumi.lab.yaml "$stack_backup"
trap 'cp "$stack_backup" stacks/Pulumi.lab.yaml; rm -rf "$state" "$stack_backup"' EXIT

measure() { # measure <label> <command...>
  local out
  out=$(mktemp)
  /usr/bin/time -v "${@:2}" >/dev/null 2>"$out" || { tail -n 30 "$out" >&2; exit 1; }
  printf '%-10s wall %s  maxrss %s KiB\n' "$1" \
    "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out")" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")"
  rm -f "$out"
}

echo "# lab region, 1 lab host + 5 KWOK nodes; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
bash lab/hosts.sh up 1 >/dev/null
bash lab/prepare-stack.sh lab >/dev/null 2>&1
measure up pulumi up --yes --non-interactive --stack lab
measure noop pulumi up --yes --non-interactive --stack lab
measure destroy pulumi destroy --yes --non-interactive --stack lab
bash lab/hosts.sh down >/dev/null
