#!/usr/bin/env bash
# observe.sh against a throwaway ROOT set up by the real install, configure and
# service scripts: a host as they left it reports exactly the declared values
# (or the digest of declared content), a changed file reports its new digest,
# a stopped service says so, and nothing is written or read from token files.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
SCD="$ROOT/fakes/systemctl-state"
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/fakes"
stage="$ROOT/var/lib/edgefleet/staging"
IMG=k3s-airgap-images-amd64.tar.zst
mkdir -p "$stage"
cp "$FAKES/k3s" "$stage/k3s"
printf 'images-v1\n' >"$stage/$IMG"
printf '#!/bin/sh\necho shim\n' >"$stage/containerd-shim-wasmedge-v1"
K3S_SUM=$(sha "$stage/k3s")
IMG_SUM=$(sha "$stage/$IMG")
SHIM_SUM=$(sha "$stage/containerd-shim-wasmedge-v1")
str_sum() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

inst=(ROOT="$ROOT" HOST_NAME=edge-s1 K3S_SHA256="$K3S_SUM" IMAGES_FILE="$IMG" IMAGES_SHA256="$IMG_SUM")
run_script install.sh "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM"
assert_eq "$STATUS" 0 "install ($ERR)"

t "install: a host as install.sh left it reports the declared digests"
run_script observe.sh OBSERVE_STEP=install "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"K3S_SHA256\":\"$K3S_SUM\",\"IMAGES_SHA256\":\"$IMG_SUM\",\"WASM_SHIM_SHA256\":\"$SHIM_SUM\"}"

t "install: a binary changed on the host reports its own digest, a missing tarball an empty one"
before=$(snapshot "$ROOT")
printf 'tampered\n' >>"$ROOT/usr/local/bin/k3s"
mv "$ROOT/var/lib/rancher/k3s/agent/images/$IMG" "$ROOT/img.moved"
run_script observe.sh OBSERVE_STEP=install "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM"
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"K3S_SHA256\":\"$(sha "$ROOT/usr/local/bin/k3s")\",\"IMAGES_SHA256\":\"\",\"WASM_SHIM_SHA256\":\"$SHIM_SUM\"}"
mv "$ROOT/img.moved" "$ROOT/var/lib/rancher/k3s/agent/images/$IMG"

t "install: after install.sh repairs the binary, the host reports the declared digest again"
run_script install.sh "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM" STAGING_MODE=keep
assert_eq "$STATUS" 1 "the link to the tampered binary is no staged copy ($ERR)"
cp "$FAKES/k3s" "$stage/k3s"
run_script install.sh "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM"
assert_eq "$STATUS" 0 "repair ($ERR)"
run_script observe.sh OBSERVE_STEP=install "${inst[@]}" WASM_SHIM_SHA256="$SHIM_SUM"
assert_contains "$OUT" "\"K3S_SHA256\":\"$K3S_SUM\""

t "install: a site without Wasm reports no shim key, unless install.sh's own shim is still there"
run_script observe.sh OBSERVE_STEP=install "${inst[@]}" WASM_SHIM_SHA256=
assert_contains "$OUT" "\"WASM_SHIM_SHA256\":\"$SHIM_SUM\""
run_script install.sh "${inst[@]}" WASM_SHIM_SHA256=
assert_eq "$STATUS" 0 "install without shim ($ERR)"
run_script observe.sh OBSERVE_STEP=install "${inst[@]}" WASM_SHIM_SHA256=
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"K3S_SHA256\":\"$K3S_SUM\",\"IMAGES_SHA256\":\"$IMG_SUM\"}"

CONFIG=$(strip_x "$(rendered config-server.yaml)")
REG=$(strip_x "$(rendered registries.yaml)")
SYSCTL=$(strip_x "$(rendered sysctl.conf)")
TOKEN=K10$(printf 'a%.0s' {1..64})::server:observe-test-token
AGENT=K10$(printf 'a%.0s' {1..64})::node:observe-test-agent
conf=(ROOT="$ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$CONFIG" REGISTRIES_YAML="$REG" SYSCTL_CONF="$SYSCTL")
run_script configure.sh "${conf[@]}" EDGEFLEET_TOKEN="$TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT"
assert_eq "$STATUS" 0 "configure ($ERR)"

t "configure: a host as configure.sh left it reports the digests of the declared contents"
before=$(snapshot "$ROOT")
run_script observe.sh OBSERVE_STEP=configure "${conf[@]}"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"CONFIG_YAML\":\"sha256:$(str_sum "$CONFIG")\",\"REGISTRIES_YAML\":\"sha256:$(str_sum "$REG")\",\"SYSCTL_CONF\":\"sha256:$(str_sum "$SYSCTL")\"}"
assert_eq "$(snapshot "$ROOT")" "$before" "tree after observe"

t "configure: nothing of the token files comes back, not even their digests"
for f in "$ROOT"/etc/rancher/k3s/edgefleet-*token; do
  assert_not_contains "$OUT" "$(sha "$f")" "digest of ${f#"$ROOT"}"
done
assert_not_contains "$OUT" observe-test

t "configure: an edited config.yaml and a removed registries.yaml show; an unset key is not observed"
printf '# edited by hand\n' >>"$ROOT/etc/rancher/k3s/config.yaml"
rm "$ROOT/etc/rancher/k3s/registries.yaml"
run_script observe.sh OBSERVE_STEP=configure ROOT="$ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$CONFIG" REGISTRIES_YAML="$REG"
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"CONFIG_YAML\":\"sha256:$(sha "$ROOT/etc/rancher/k3s/config.yaml")\",\"REGISTRIES_YAML\":\"\"}"

UNIT=$(strip_x "$(rendered unit-server)")
ENVF=$(strip_x "$(rendered env)")
sysd=(ROOT="$ROOT" HOST_NAME=edge-s1 ROLE=server SERVICE_MODE=systemd UNIT_CONTENT="$UNIT" ENV_CONTENT="$ENVF"
  SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$SCD")
run_script service.sh "${sysd[@]}"
assert_eq "$STATUS" 0 "service ($ERR)"

t "service: a running service as service.sh left it reports the declared contents and no applied word"
run_script observe.sh OBSERVE_STEP=service "${sysd[@]}" EDGEFLEET_APPLIED=abc
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" "EDGEFLEET_OBSERVED {\"UNIT_CONTENT\":\"sha256:$(str_sum "$UNIT")\",\"ENV_CONTENT\":\"sha256:$(str_sum "$ENVF")\"}"

t "service: a stopped service reports EDGEFLEET_APPLIED not running, and service.sh starts it again"
rm "$SCD/k3s.active"
run_script observe.sh OBSERVE_STEP=service "${sysd[@]}"
assert_contains "$OUT" '"EDGEFLEET_APPLIED":"not running"'
run_script service.sh "${sysd[@]}"
run_script observe.sh OBSERVE_STEP=service "${sysd[@]}"
assert_not_contains "$OUT" EDGEFLEET_APPLIED

t "a step it does not know is refused naming the host"
run_script observe.sh OBSERVE_STEP=ready HOST_NAME=edge-s1
assert_eq "$STATUS" 1
assert_eq "$ERR" "observe failed on edge-s1: OBSERVE_STEP must be install, configure or service, got 'ready'"

done_tests
