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
config_file="${EDGEFLEET_LAB_DIR:-/var/lib/edgefleet-lab}/Pulumi.$stack.yaml"
if pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
  if [ -f "$config_file" ]; then
    pulumi destroy --yes --non-interactive --stack "$stack" --config-file "$config_file"
  else
    pulumi destroy --yes --non-interactive --stack "$stack"
  fi
fi
bash lab/hosts.sh down
