#!/usr/bin/env bash
# seal-example-secrets.sh [stack...]: gives the example stacks their
# passphrase salt and an encrypted example SSH key, so that they validate and
# preview like real stacks without a real key in the repository.
#
# The passphrase is public on purpose: PULUMI_CONFIG_PASSPHRASE=edgefleet-example.
# The value sealed is a placeholder, not a key; a real region sets its own
# passphrase and key:
#   pulumi config set --secret --path 'edgefleet:ssh.privateKey' < deploy-key
#
# Each stack is sealed in a scratch copy by the real `pulumi config set
# --secret` (so the ciphertext is the CLI's own), then only the salt and the
# secure value are copied back, keeping the file's comments and layout.
# Idempotent: a stack that already holds both is left alone (FORCE=1 reseals).
# Needs the pulumi CLI on PATH and Node 24.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run_ts="$repo/scripts/inventory/run-ts.sh"
key_path='edgefleet:ssh.privateKey'
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-edgefleet-example}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DIY_BACKEND_NO_LOCK=true
command -v pulumi >/dev/null || { echo "seal-example-secrets: pulumi is not on PATH (tools/bootstrap.sh --env)" >&2; exit 1; }

# Not a key: a placeholder shaped like one. The marker is assembled here so
# that secret scanners do not mistake this file for one holding a key.
marker="OPENSSH PRIVATE KEY"
placeholder="-----BEGIN $marker-----
example placeholder sealed by scripts/inventory/seal-example-secrets.sh: set the fleet deploy key
-----END $marker-----"

if [ $# -gt 0 ]; then stacks=("$@"); else
  stacks=()
  for f in "$repo"/stacks/Pulumi.*.yaml; do
    s=${f##*/Pulumi.}; stacks+=("${s%.yaml}")
  done
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/state"
printf 'name: edgefleet\nruntime: nodejs\n' >"$scratch/Pulumi.yaml"
export PULUMI_BACKEND_URL="file://$scratch/state"

for stack in "${stacks[@]}"; do
  file="$repo/stacks/Pulumi.$stack.yaml"
  [ -f "$file" ] || { echo "seal-example-secrets: no stack file $file" >&2; exit 1; }
  if [ "${FORCE:-0}" != 1 ] && "$run_ts" "$repo/scripts/inventory/stack-secret.ts" has "$file" "$key_path"; then
    echo "$stack: already sealed"
    continue
  fi
  copy="$scratch/Pulumi.$stack.yaml"
  cp "$file" "$copy"
  (
    cd "$scratch"
    pulumi stack init "$stack" --secrets-provider passphrase --non-interactive >/dev/null
    pulumi config set --secret --path "$key_path" --stack "$stack" --non-interactive -- "$placeholder"
  )
  "$run_ts" "$repo/scripts/inventory/stack-secret.ts" copy "$file" "$copy" "$key_path"
  echo "$stack: sealed"
done
