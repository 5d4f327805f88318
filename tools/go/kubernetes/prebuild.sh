#!/usr/bin/env bash
# Generates the provider's embedded schema files (gitignored upstream, so not
# in the module) from the upstream copies, as upstream's `go generate` does.
set -euo pipefail
: "${PULUMI_KUBERNETES_VERSION:?set by tools/bootstrap.sh from versions.env}"
upstream=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes
go run ./cmd/genembed "$upstream" ./cmd/pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION"
