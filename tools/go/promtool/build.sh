#!/usr/bin/env bash
# Builds promtool into $1 with upstream's version stamp (common/version).
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PROMETHEUS_VERSION:?from tools/versions.env}"
go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
  -o "$out/promtool" github.com/prometheus/prometheus/cmd/promtool
