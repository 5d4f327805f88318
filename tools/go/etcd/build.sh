#!/usr/bin/env bash
# Builds etcd from this wrapper module into $1 the way upstream's
# scripts/build_lib.sh does: static (CGO off), -trimpath, -installsuffix=cgo.
# Upstream also sets go.etcd.io/etcd/api/v3/version.GitSHA from `git rev-parse`;
# the module proxy does not record the release commit, so it stays unset
# (`etcd --version` then says "Git SHA: Not provided"); the version itself is a
# constant in go.etcd.io/etcd/api/v3/version.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"
CGO_ENABLED=0 go build -trimpath -installsuffix=cgo -o "$out/etcd" go.etcd.io/etcd/server/v3
