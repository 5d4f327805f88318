#!/usr/bin/env bash
# `make lab-down`: `pulumi destroy` on the lab stack (which uninstalls what the
# host layer put on the lab hosts), then removes the lab hosts themselves.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "lab: run as root" >&2; exit 1; }
eval "$(tools/bootstrap.sh --env)"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-edgefleet-example}
# Pulumi.yaml's default backend is a folder the file backend expects to exist.
[ -n "${PULUMI_BACKEND_URL:-}" ] || mkdir -p "$HOME/.edgefleet/state"
stack=${EDGEFLEET_LAB_STACK:-lab}
if pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
  pulumi destroy --yes --non-interactive --stack "$stack"
fi
bash lab/hosts.sh down
