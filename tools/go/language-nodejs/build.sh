#!/usr/bin/env bash
# Builds pulumi-language-nodejs into $1, plus the two scripts the engine runs
# for Node dynamic providers and policy packs, from the same SDK module.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PULUMI_LANGUAGE_NODEJS_VERSION:?from tools/versions.env}"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_NODEJS_VERSION" \
  -o "$out/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$sdk/nodejs/dist/pulumi-analyzer-policy" "$out/"
