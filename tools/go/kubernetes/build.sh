#!/usr/bin/env bash
# Builds pulumi-resource-kubernetes into $1. The provider embeds two schema
# files that upstream generates with `go generate` and gitignores, so they are
# not in the module: cmd/genembed makes them from the module's copies first.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PULUMI_KUBERNETES_VERSION:?from tools/versions.env}"
mod=github.com/pulumi/pulumi-kubernetes/provider/v4
# `go list -m` names a module's folder only once it is downloaded, and nothing
# has downloaded it yet on a cold module cache.
go mod download "$mod"
upstream=$(go list -m -f '{{.Dir}}' "$mod")/cmd/pulumi-resource-kubernetes
[ -f "$upstream/schema.json" ] || { echo "kubernetes: no schema.json in $upstream" >&2; exit 1; }
go run ./cmd/genembed "$upstream" ./cmd/pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
  -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
