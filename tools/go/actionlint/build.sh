#!/usr/bin/env bash
# Builds actionlint into $1 with upstream's version stamp.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${ACTIONLINT_VERSION:?from tools/versions.env}"
go build -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=v$ACTIONLINT_VERSION" \
  -o "$out/actionlint" github.com/rhysd/actionlint/cmd/actionlint
