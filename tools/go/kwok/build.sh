#!/usr/bin/env bash
# Builds kwok from this wrapper module into $1 with the version ldflags of
# upstream's hack/releases.sh (`make build`): consts.Version is the release,
# consts.KubeVersion the first line of its supported_releases.txt.
#
# The kwok binary has no stages of its own (kwokctl adds them); this also
# writes $1/kwok-stages.yaml with the ones kwokctl uses by default (node
# initialize, heartbeat with lease, pod ready/complete/delete), taken from the
# module's kustomize/stage at the pinned version.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"
CGO_ENABLED=0 go build \
  -ldflags "-X sigs.k8s.io/kwok/pkg/consts.Version=v0.8.0 -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v1.36.1" \
  -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok

src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
{
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$src/$f"
  done
} >"$out/kwok-stages.yaml.tmp"
mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"
