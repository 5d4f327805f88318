#!/usr/bin/env bash
# bench/state-size.sh: what host steps keep in state.
#  1. The lab region, for real: `pulumi up` on lab hosts, then `pulumi stack
#     export` (no --show-secrets), its bytes per resource type and per host step.
#  2. A K3s site, estimated: K3s cannot run here, so no K3s host step reaches
#     state; `pulumi preview --json` of a generated 10-host region gives each
#     step's inputs, and a step's state is its inputs, its outputs (what
#     HostCommand's provider keeps for those inputs: lib/hostCommandRun.ts
#     stepOutputs) and the engine's own fields per resource (URN, type,
#     parent, dependencies: their mean in the lab's export, item 1); a secret
#     counts as the mean size of a ciphertext in the lab's export.
# Usage (root, holds the lab lock): flock /run/edgefleet-lab.lock bash bench/state-size.sh >> bench/results/state-size-$(date +%F).txt
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
made=(stacks/Pulumi.bench-state.yaml inventories/bench-state.csv)
trap 'bash lab/hosts.sh down >/dev/null 2>&1 || true; rm -rf "$state" "${made[@]}" "$work"' EXIT
work=$(mktemp -d)

echo "# host steps in state; $(git rev-parse --short HEAD); $(nproc) cores; $(date -u +%FT%TZ)"
bash lab/hosts.sh up 1 >/dev/null
cfg=$(bash lab/prepare-stack.sh lab 2>/dev/null)
pulumi stack select lab --create --non-interactive >/dev/null 2>&1
pulumi up --yes --non-interactive --stack lab --config-file "$cfg" --suppress-progress >"$work/up.log" 2>&1 || { tail -30 "$work/up.log"; exit 1; }
pulumi stack export --stack lab >"$work/lab.json"
pulumi destroy --yes --non-interactive --stack lab --config-file "$cfg" --suppress-progress >/dev/null 2>&1

bash scripts/inventory/run-ts.sh bench/gen-region.ts 10 stacks/Pulumi.bench-state.yaml --inventory inventories/bench-state.csv >/dev/null
pulumi stack init bench-state --non-interactive >/dev/null
pulumi preview --stack bench-state --non-interactive --json >"$work/k3s.json"
bash scripts/inventory/run-ts.sh bench/state-size.ts "$work/lab.json" "$work/k3s.json"
# STATE_SIZE_KEEP=DIR keeps both inputs of the figures, to look into them.
[[ -z ${STATE_SIZE_KEEP:-} ]] || cp "$work/lab.json" "$work/k3s.json" "$STATE_SIZE_KEEP/"
