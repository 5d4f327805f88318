#!/usr/bin/env bash
# Builds, from this one wrapper module into $1: the lab's control plane
# (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd),
# kwok with its stages file, gator with its release's deploy/gatekeeper.yaml,
# and opa. One `go build` of all eight main packages with one set of flags, so
# each package they share is compiled once (with different tags or flags per
# tool, the build cache would hold two copies and compile both).
#
# Flags: upstream Kubernetes' hack/lib/golang.sh for release binaries (static,
# -trimpath, tags selinux,notest,grpcnotrace, -s -w), which are harmless to the
# others (no package of gator, kwok, opa or etcd has those tags); the version
# stamps of each upstream's release build, which the linker applies only to
# the binary that has the package (README.md lists their sources).
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${KUBERNETES_VERSION:?from tools/versions.env}" "${ETCD_VERSION:?}" "${KWOK_VERSION:?}" \
  "${GATEKEEPER_VERSION:?}" "${OPA_VERSION:?}"

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"

# versions.env is where a pin changes; go.mod must say the same.
for pin in "k8s.io/kubernetes v$KUBERNETES_VERSION" "go.etcd.io/etcd/server/v3 v$ETCD_VERSION" \
  "sigs.k8s.io/kwok v$KWOK_VERSION" "github.com/open-policy-agent/gatekeeper/v3 v$GATEKEEPER_VERSION" \
  "github.com/open-policy-agent/opa v$OPA_VERSION"; do
  got=$(go list -m -f '{{.Path}} {{.Version}}' "${pin% *}")
  [ "$got" = "$pin" ] || { echo "kube: go.mod has $got, tools/versions.env pins $pin" >&2; exit 1; }
done

# hack/lib/version.sh: gitCommit and gitTreeState stay unset (upstream sets
# them only when it knows the commit; the module proxy does not record it);
# buildDate is the release's module time, so the binaries are reproducible.
build_date=$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
major=${KUBERNETES_VERSION%%.*}
minor=${KUBERNETES_VERSION#*.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.buildDate=$build_date -X $pkg.gitVersion=v$KUBERNETES_VERSION"
  ldflags+=" -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
done
# kwok's hack/releases.sh stamps the release and, as the Kubernetes version
# its nodes report, the first line of its supported_releases.txt (v1.36.1);
# here that is the control plane they join.
ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION"
ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v$KUBERNETES_VERSION"
# Gatekeeper's Makefile. OPA v1 compiles its version in; etcd's only ldflag is
# the release commit, which the module proxy does not record.
ldflags+=" -X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v$GATEKEEPER_VERSION"

CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  go.etcd.io/etcd/server/v3 \
  sigs.k8s.io/kwok/cmd/kwok \
  github.com/open-policy-agent/gatekeeper/v3/cmd/gator \
  github.com/open-policy-agent/opa
# go names a module root's binary for its last path element before /v3.
mv "$out/server" "$out/etcd"

# The kwok binary has no stages of its own (kwokctl adds them): the ones
# kwokctl uses by default, from the module at the pin.
src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
{
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$src/$f"
  done
} >"$out/kwok-stages.yaml.tmp"
mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"

gk=$(go list -m -f '{{.Dir}}' github.com/open-policy-agent/gatekeeper/v3)
install -m 0644 "$gk/deploy/gatekeeper.yaml" "$out/gatekeeper-v$GATEKEEPER_VERSION.yaml"
