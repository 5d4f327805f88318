#!/usr/bin/env bash
# The whole host lifecycle in a throwaway root: install, configure, run
# (supervised), uninstall; the tree afterwards equals the tree before.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
cleanup() {
  local p
  p=$(cat "$ROOT/run/k3s-supervise.pid" 2>/dev/null || true)
  if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; sleep 0.5; fi
  rm -rf "$ROOT"
}
trap cleanup EXIT
# things that were on the host before us and must survive
mkdir -p "$ROOT/etc/rancher/other" "$ROOT/var/lib/rancher/other" "$ROOT/etc/systemd/system" "$ROOT/fakes"
printf 'keep\n' >"$ROOT/etc/rancher/other/keep.conf"
printf 'keep\n' >"$ROOT/var/lib/rancher/other/keep.db"
printf '#!/bin/sh\n' >"$ROOT/usr/local/bin/other-tool"
printf 'edge-s1\n' >"$ROOT/etc/hostname"
before=$(snapshot "$ROOT")

stage="$ROOT/var/lib/edgefleet/staging"
mkdir -p "$stage"
cp "$FAKES/k3s" "$stage/k3s"
printf 'images\n' >"$stage/images.tar"
printf '#!/bin/sh\n' >"$stage/containerd-shim-wasmedge-v1"
run_script install.sh ROOT="$ROOT" HOST_NAME=edge-s1 K3S_SHA256="$(sha "$stage/k3s")" IMAGES_FILE=images.tar \
  IMAGES_SHA256="$(sha "$stage/images.tar")" WASM_SHIM_SHA256="$(sha "$stage/containerd-shim-wasmedge-v1")"
[ "$STATUS" = 0 ] || fail_test "install: $ERR"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$(strip_x "$(rendered config-server.yaml)")" \
  REGISTRIES_YAML="$(strip_x "$(rendered registries.yaml)")" SYSCTL_CONF="$(strip_x "$(rendered sysctl.conf)")" EDGEFLEET_TOKEN=tok \
  EDGEFLEET_AGENT_TOKEN=agenttok
[ "$STATUS" = 0 ] || fail_test "configure: $ERR"
SUP=$(strip_x "$(rendered supervisor-server)")
run_script service.sh ROOT="$ROOT" HOST_NAME=edge-s1 ROLE=server SERVICE_MODE=supervise SUPERVISOR_CONTENT="${SUP//\/__ROOT__/$ROOT}" \
  FAKE_K3S_LOG="$ROOT/fakes/k3s-starts"
[ "$STATUS" = 0 ] || fail_test "service: $ERR"
# what a running K3s leaves behind
mkdir -p "$ROOT/var/lib/rancher/k3s/server/db" "$ROOT/run/k3s/containerd" "$ROOT/var/lib/kubelet/pods" "$ROOT/var/lib/cni"
printf 'x\n' >"$ROOT/var/lib/rancher/k3s/server/db/state.db"
printf 'apiVersion: v1\n' >"$ROOT/etc/rancher/k3s/k3s.yaml"
# and a systemd unit from an earlier life of this host
printf '[Unit]\n' >"$ROOT/etc/systemd/system/k3s-agent.service"
printf 'K3S_X=1\n' >"$ROOT/etc/systemd/system/k3s-agent.service.env"
sup_pid=$(cat "$ROOT/run/k3s-supervise.pid")

t "uninstall stops the supervised K3s and leaves the tree exactly as before install"
run_script uninstall.sh ROOT="$ROOT" HOST_NAME=edge-s1 SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$ROOT/fakes/sc"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"script":"uninstall","host":"edge-s1","changed":true'
if kill -0 "$sup_pid" 2>/dev/null; then fail_test "supervisor still running"; fi
grep -q '^stop' "$ROOT/fakes/k3s-starts" || fail_test "k3s was not stopped"
assert_contains "$(cat "$ROOT/fakes/sc/calls")" "disable k3s-agent"
assert_eq "$(snapshot "$ROOT")" "$before" "tree after uninstall"

t "a second uninstall on the clean host succeeds and changes nothing"
run_script uninstall.sh ROOT="$ROOT" HOST_NAME=edge-s1 SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$ROOT/fakes/sc"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"uninstall","host":"edge-s1","changed":false,"removedCount":0}'
assert_eq "$(snapshot "$ROOT")" "$before" "tree after second uninstall"

t "a shim that was on the host before Edgefleet is left alone"
printf '#!/bin/sh\n' >"$ROOT/usr/local/bin/containerd-shim-wasmedge-v1"
run_script uninstall.sh ROOT="$ROOT" HOST_NAME=edge-s1 SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$ROOT/fakes/sc"
assert_file "$ROOT/usr/local/bin/containerd-shim-wasmedge-v1"

done_tests
