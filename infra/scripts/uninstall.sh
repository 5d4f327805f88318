#!/usr/bin/env bash
# uninstall.sh: stop K3s and remove everything Edgefleet or K3s put on the
# host: service units and env files, the supervisor, binaries and links, the
# Wasm shim we installed, /etc/rancher/k3s, the data dir, /run/k3s,
# kubelet/CNI state, our sysctl file, logs, the workload directories
# install.sh manages (HOST_DIRS) and our own state. Idempotent: on a
# clean host it changes nothing and succeeds.
#
# Environment (inputs):
#   HOST_NAME     required  inventory name, used in every message
#   SYSTEMCTL     optional  systemctl command (tests substitute a fake), default systemctl
#   BIN_DIR       optional  default /usr/local/bin
#   SHIM_DIR      optional  default /usr/local/bin
#   K3S_DATA_DIR  optional  default /var/lib/rancher/k3s
#   STAGING_DIR   optional  default /var/lib/edgefleet/staging
#   ROOT          optional  path prefix for every path (tests); default empty = the host.
#                           With ROOT set, host-wide cleanup (processes, mounts, network
#                           interfaces, iptables) is skipped: it cannot be confined to a prefix.
# Output: `EDGEFLEET_RESULT {json}` on stdout; failure one stderr line, exit 1.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
ROOT="${ROOT:-}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
BIN="$ROOT${BIN_DIR:-/usr/local/bin}"
SHIM_D="$ROOT${SHIM_DIR:-/usr/local/bin}"
DATA_REL="${K3S_DATA_DIR:-/var/lib/rancher/k3s}"
DATA="$ROOT$DATA_REL"
STATE_DIR="$ROOT/var/lib/edgefleet"

fail() {
  printf 'uninstall failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

removed=()
remove() { # remove paths that exist, remembering them
  local p
  for p in "$@"; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      rm -rf --one-file-system -- "$p" || fail "could not remove ${p#"$ROOT"}"
      removed+=("${p#"$ROOT"}")
    fi
  done
}

# --- 1. stop the service, whichever way it ran ---
for svc in k3s k3s-agent; do
  unit="$ROOT/etc/systemd/system/$svc.service"
  if [ -f "$unit" ]; then
    if command -v "${SYSTEMCTL%% *}" >/dev/null 2>&1; then
      "$SYSTEMCTL" stop "$svc" >/dev/null 2>&1 || true
      "$SYSTEMCTL" disable "$svc" >/dev/null 2>&1 || true
    fi
    remove "$unit" "$unit.env"
    if command -v "${SYSTEMCTL%% *}" >/dev/null 2>&1; then
      "$SYSTEMCTL" daemon-reload >/dev/null 2>&1 || true
      "$SYSTEMCTL" reset-failed "$svc" >/dev/null 2>&1 || true
    fi
  fi
  pidfile="$ROOT/run/$svc-supervise.pid"
  sup="$BIN/$svc-supervise"
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$sup"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && fail "supervisor (pid $pid) did not stop within 30s"
  fi
  remove "$pidfile" "$sup" "$ROOT/etc/rancher/k3s/$svc.env"
done

# --- 2. host-wide leftovers K3s's own killall script cleans (only on a real host) ---
if [ -z "$ROOT" ]; then
  # containerd-shims outlive k3s by design (KillMode=process); their pods go with them
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null || true)
    case "$exe" in
      "$DATA_REL"/data/*/bin/containerd-shim* | "$DATA_REL"/data/*/bin/k3s | "${BIN_DIR:-/usr/local/bin}/k3s")
        kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
    esac
  done
  for prefix in /run/k3s /var/lib/kubelet/pods /var/lib/kubelet/plugins /run/netns/cni- "$DATA_REL"; do
    awk -v p="$prefix" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
      umount -f "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
  if command -v ip >/dev/null 2>&1; then
    ip netns show 2>/dev/null | awk '/^cni-/ {print $1}' | while read -r ns; do ip netns delete "$ns" || true; done
    for link in cni0 flannel.1 flannel-v6.1 kube-ipvs0 flannel-wg flannel-wg-v6; do
      ip link delete "$link" >/dev/null 2>&1 || true
    done
  fi
  for t in iptables ip6tables; do
    if command -v "$t-save" >/dev/null 2>&1 && command -v "$t-restore" >/dev/null 2>&1; then
      "$t-save" 2>/dev/null | grep -v KUBE- | grep -v CNI- | grep -iv flannel | "$t-restore" 2>/dev/null || true
    fi
  done
fi

# --- 3. files ---
# Workload directories install.sh manages (hostPath data such as the factory
# tracker's SQLite): the site's data goes with it, as K3s's own uninstall
# deletes its local volumes. Only paths install.sh validated are listed.
if [ -f "$STATE_DIR/host-dirs" ]; then
  while IFS= read -r d; do
    case "$d" in /?*) remove "$ROOT$d" ;; esac
  done <"$STATE_DIR/host-dirs"
fi
for cmd in kubectl crictl ctr; do
  if [ -L "$BIN/$cmd" ] && [ "$(readlink "$BIN/$cmd")" = k3s ]; then remove "$BIN/$cmd"; fi
done
remove "$BIN/k3s"
if [ -f "$STATE_DIR/wasm-shim.installed" ]; then remove "$SHIM_D/containerd-shim-wasmedge-v1"; fi
remove "$ROOT/etc/rancher/k3s" "$DATA" "$ROOT/run/k3s" "$ROOT/run/flannel" \
  "$ROOT/var/lib/kubelet" "$ROOT/var/lib/cni" "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf" \
  "$ROOT/var/log/k3s.log" "$ROOT${STAGING_DIR:-/var/lib/edgefleet/staging}" "$STATE_DIR"
# parents K3s created, only when nothing else lives there
for d in "$ROOT/etc/rancher" "$(dirname "$DATA")"; do
  if [ -d "$d" ] && rmdir "$d" 2>/dev/null; then removed+=("${d#"$ROOT"}"); fi
done

# --- 4. verify ---
left=()
for p in "$BIN/k3s" "$ROOT/etc/rancher/k3s" "$DATA" "$ROOT/run/k3s" "$ROOT/etc/systemd/system/k3s.service" \
  "$ROOT/etc/systemd/system/k3s-agent.service" "$STATE_DIR"; do
  if [ -e "$p" ]; then left+=("${p#"$ROOT"}"); fi
done
[ "${#left[@]}" -eq 0 ] || fail "still present after removal: ${left[*]}"

printf 'EDGEFLEET_RESULT {"script":"uninstall","host":"%s","changed":%s,"removedCount":%d}\n' \
  "$HOST_NAME" "$([ "${#removed[@]}" -gt 0 ] && echo true || echo false)" "${#removed[@]}"
