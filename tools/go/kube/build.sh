#!/usr/bin/env bash
# Builds the lab control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl) from this wrapper module into $1, with the flags
# upstream's hack/lib/golang.sh uses for release binaries: static (CGO off),
# -trimpath, tags selinux,notest,grpcnotrace, -s -w, and the version ldflags of
# hack/lib/version.sh for both component-base and client-go. gitCommit and
# gitTreeState are left unset: upstream sets them only when it knows the commit,
# and the module proxy does not record it. buildDate is the release's module
# time, so the binaries are reproducible.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

version=v1.35.4
build_date=2026-04-15T18:01:22Z
major=1
minor=35

ldflags=""
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X ${pkg}.buildDate=${build_date}"
  ldflags+=" -X ${pkg}.gitVersion=${version}"
  ldflags+=" -X ${pkg}.gitMajor=${major}"
  ldflags+=" -X ${pkg}.gitMinor=${minor}"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"
CGO_ENABLED=0 go build -trimpath \
  -tags selinux,notest,grpcnotrace \
  -ldflags "all=${ldflags# } -s -w" \
  -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl
