#!/usr/bin/env bash
# install.sh against a throwaway ROOT: checksum refusal, install, idempotency, Wasm shim lifecycle.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
stage="$ROOT/var/lib/edgefleet/staging"
IMG=k3s-airgap-images-amd64.tar.zst
stage_all() {
  mkdir -p "$stage"
  cp "$FAKES/k3s" "$stage/k3s"
  printf 'images-v1\n' >"$stage/$IMG"
  printf '#!/bin/sh\necho shim\n' >"$stage/containerd-shim-wasmedge-v1"
}
stage_all
K3S_SUM=$(sha "$stage/k3s")
IMG_SUM=$(sha "$stage/$IMG")
SHIM_SUM=$(sha "$stage/containerd-shim-wasmedge-v1")
BAD=0000000000000000000000000000000000000000000000000000000000000000
common=(ROOT="$ROOT" HOST_NAME=edge-a1 IMAGES_FILE="$IMG" IMAGES_SHA256="$IMG_SUM" WASM_SHIM_SHA256="$SHIM_SUM")

t "wrong k3s checksum is refused with one line naming host, artifact and both sums; nothing installed"
run_script install.sh "${common[@]}" K3S_SHA256="$BAD"
assert_eq "$STATUS" 1 "exit status"
assert_eq "$ERR" "install failed on edge-a1: sha256 mismatch for k3s (staged /var/lib/edgefleet/staging/k3s): expected $BAD, got $K3S_SUM; nothing was installed"
assert_absent "$ROOT/usr/local/bin/k3s"
assert_absent "$ROOT/var/lib/rancher/k3s/agent/images/$IMG"
assert_file "$stage/k3s"

t "a malformed expected checksum is refused before anything is read"
run_script install.sh "${common[@]}" K3S_SHA256="not-a-sum"
assert_eq "$STATUS" 1
assert_contains "$ERR" "install failed on edge-a1: expected checksum 'not-a-sum' is not a lowercase sha256"

t "correct checksums install binary, images, shim and links"
run_script install.sh "${common[@]}" K3S_SHA256="$K3S_SUM"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"install","host":"edge-a1","changed":true,"k3s":"installed","images":"installed","wasmShim":"installed"}'
assert_eq "$(sha "$ROOT/usr/local/bin/k3s")" "$K3S_SUM"
assert_mode "$ROOT/usr/local/bin/k3s" 755
assert_eq "$(sha "$ROOT/var/lib/rancher/k3s/agent/images/$IMG")" "$IMG_SUM"
assert_mode "$ROOT/usr/local/bin/containerd-shim-wasmedge-v1" 755
assert_eq "$(readlink "$ROOT/usr/local/bin/kubectl")" k3s
for f in k3s "$IMG" containerd-shim-wasmedge-v1; do # staged copies became hard links: no extra disk
  [ "$stage/$f" -ef "$ROOT/usr/local/bin/$f" ] || [ "$stage/$f" -ef "$ROOT/var/lib/rancher/k3s/agent/images/$f" ] ||
    fail_test "staged $f is not a hard link to the installed file"
done

t "a second run changes nothing at all"
before=$(snapshot "$ROOT")
run_script install.sh "${common[@]}" K3S_SHA256="$K3S_SUM"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"install","host":"edge-a1","changed":false,"k3s":"unchanged","images":"unchanged","wasmShim":"unchanged"}'
assert_eq "$(snapshot "$ROOT")" "$before" "tree after re-run"

t "CHECK_ONLY names exactly the artifacts that must be uploaded"
run_script install.sh "${common[@]}" K3S_SHA256="$K3S_SUM" CHECK_ONLY=1
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"install","host":"edge-a1","checkOnly":true,"needs":[]}'
run_script install.sh "${common[@]}" K3S_SHA256="$BAD" CHECK_ONLY=1
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"install","host":"edge-a1","checkOnly":true,"needs":["k3s"]}'

t "a new version whose upload is missing fails clearly and keeps the old binary"
rm -rf "$stage"
run_script install.sh "${common[@]}" K3S_SHA256="$BAD"
assert_eq "$STATUS" 1
assert_contains "$ERR" "install failed on edge-a1: k3s is not installed at the expected version and was not staged at /var/lib/edgefleet/staging/k3s"
assert_eq "$(sha "$ROOT/usr/local/bin/k3s")" "$K3S_SUM"

t "an upgraded binary replaces the old one by rename"
stage_all
printf '# v2\n' >>"$stage/k3s"
NEW_SUM=$(sha "$stage/k3s")
run_script install.sh "${common[@]}" K3S_SHA256="$NEW_SUM"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"changed":true,"k3s":"installed","images":"unchanged","wasmShim":"unchanged"'
assert_eq "$(sha "$ROOT/usr/local/bin/k3s")" "$NEW_SUM"
assert_eq "$(find "$ROOT/usr/local/bin" -name '.edgefleet-*' | wc -l)" 0 "temp files left"

t "STAGING_MODE=remove deletes the staged files"
stage_all
printf '# v2\n' >>"$stage/k3s"
run_script install.sh "${common[@]}" K3S_SHA256="$NEW_SUM" STAGING_MODE=remove
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_absent "$stage"

t "turning Wasm off removes the shim this script installed, and only that"
run_script install.sh ROOT="$ROOT" HOST_NAME=edge-a1 IMAGES_FILE="$IMG" IMAGES_SHA256="$IMG_SUM" K3S_SHA256="$NEW_SUM"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"wasmShim":"removed"'
assert_absent "$ROOT/usr/local/bin/containerd-shim-wasmedge-v1"
run_script install.sh ROOT="$ROOT" HOST_NAME=edge-a1 IMAGES_FILE="$IMG" IMAGES_SHA256="$IMG_SUM" K3S_SHA256="$NEW_SUM"
assert_contains "$OUT" '"changed":false'
assert_contains "$OUT" '"wasmShim":"absent"'

done_tests
