#!/usr/bin/env bash
# Builds promtool into $1 with upstream's version stamp (common/version).
#
# Upstream's plugins/plugins.go registers all 23 optional service discoveries,
# most with a cloud SDK of their own (AWS EC2, GCE, Azure compute, OpenStack,
# Consul, Nomad, ...): the bulk of the build. promtool registers the ones it
# knows itself (kubernetes and file in main.go, http through
# plugins/minimum.go), and Edgefleet's Prometheus config uses only
# kubernetes_sd and static targets. So this builds upstream's module with that
# one file left out: a copy of the module in the build's scratch folder (never
# in the checkout; bootstrap.sh builds from a copy of this folder), replaced in
# go.mod. 1169 packages become 914; the check code is upstream's. A config
# that used another discovery would fail `promtool check config`, visibly.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${PROMETHEUS_VERSION:?from tools/versions.env}"
mod=github.com/prometheus/prometheus
go mod download "$mod"
rm -rf prometheus-src
cp -R "$(go list -m -f '{{.Dir}}' "$mod")" prometheus-src
chmod -R u+w prometheus-src
rm prometheus-src/plugins/plugins.go
go mod edit -replace "$mod=./prometheus-src"
go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
  -o "$out/promtool" "$mod/cmd/promtool"
