#!/usr/bin/env bash
# Builds the Pulumi CLI into $1, stamped with its version as upstream's
# release build does (sdk/v3/go/common/version.Version).
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PULUMI_VERSION:?from tools/versions.env}"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
