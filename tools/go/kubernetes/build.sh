#!/usr/bin/env bash
# Builds pulumi-resource-kubernetes into $1. The provider embeds two schema
# files that upstream generates with `go generate` and gitignores, so they are
# not in the module: cmd/genembed makes them from the module's copies first.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PULUMI_KUBERNETES_VERSION:?from tools/versions.env}"
upstream=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes
go run ./cmd/genembed "$upstream" ./cmd/pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
  -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
