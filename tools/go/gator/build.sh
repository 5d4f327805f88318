#!/usr/bin/env bash
# Builds gator (Gatekeeper's CLI) into $1 with upstream's version stamp, and
# copies the release manifest of the same version (deploy/gatekeeper.yaml) next
# to it: the site layer installs Gatekeeper from it.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${GATEKEEPER_VERSION:?from tools/versions.env}"
go build -trimpath -ldflags "-s -w -X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v$GATEKEEPER_VERSION" \
  -o "$out/gator" github.com/open-policy-agent/gatekeeper/v3/cmd/gator
mod=$(go list -m -f '{{.Dir}}' github.com/open-policy-agent/gatekeeper/v3)
install -m 0644 "$mod/deploy/gatekeeper.yaml" "$out/gatekeeper-v$GATEKEEPER_VERSION.yaml"
