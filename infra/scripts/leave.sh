#!/usr/bin/env bash
# leave.sh: take a server out of its K3s cluster before its host is
# uninstalled, so that its embedded-etcd member goes with it. Runs on the
# server that leaves, after its node was drained (drain.sh, which leaves a
# server's Node in place) and before uninstall.sh.
#
# K3s removes a server's etcd member when its Node object is deleted: its
# managed-etcd controller holds the Node with the finalizer
# wrangler.cattle.io/managed-etcd-controller until the member is removed
# (K3s pkg/etcd/member_controller.go, onRemove), so "the Node is gone" is
# K3s's own signal that the member is gone (infra/K3S-NOTES.md section 10).
#
# What it does, by what the cluster's etcd Nodes (node-role.kubernetes.io/etcd)
# say, asked of another server's API first and of this one's if none answers:
#   - no Node (a server without a kubelet, or one already removed), or a Node
#     without the etcd role (a single server on SQLite): stop K3s; there is
#     no member to remove.
#   - this server is the last etcd member: stop K3s and remove nothing. A
#     member is never removed from a cluster it is alone in; `pulumi preview`
#     refuses a change that would (infra/serverSetGuard.ts), so only a site
#     being destroyed gets here, with its last server.
#   - three or more members: stop K3s here first (K3s's advice: a deleted
#     server that still runs may rejoin, or restart as a new cluster), then
#     delete the Node through another server and wait until it is gone.
#   - two members: delete the Node while both run (with one of two stopped,
#     etcd has no majority to commit the removal), wait, then stop K3s.
# The Node is never deleted through this server's own API, and while the
# cluster has other members nothing is stopped unless one of them answers.
# Idempotent: a re-run after a failure picks up where it stopped.
#
# Environment (inputs):
#   HOST_NAME         required  inventory name of this host, used in messages
#   NODE_NAME         required  this server's node name
#   PEER_URLS         optional  API URLs of the site's other servers, space-separated
#   LEAVE_ACTION      optional  leave (default), or arm: report the peers a removal would use, change nothing
#   TIMEOUT_SECONDS   optional  how long K3s may take to remove the member, default 300
#   INTERVAL_SECONDS  optional  default 5
#   REQUEST_TIMEOUT   optional  per API request, default 10s
#   SYSTEMCTL         optional  systemctl command (tests substitute a fake), default systemctl
#   KUBECTL           optional  kubectl command, default "<ROOT>/usr/local/bin/k3s kubectl"
#   KUBECONFIG        optional  default <ROOT>/etc/rancher/k3s/k3s.yaml
#   ROOT              optional  path prefix (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout; failure one stderr line, exit 1.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${NODE_NAME:?NODE_NAME is required}"
ROOT="${ROOT:-}"
PEER_URLS="${PEER_URLS:-}"
LEAVE_ACTION="${LEAVE_ACTION:-leave}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-300}"
INTERVAL_SECONDS="${INTERVAL_SECONDS:-5}"
REQUEST_TIMEOUT="${REQUEST_TIMEOUT:-10s}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
export KUBECONFIG="${KUBECONFIG:-$ROOT/etc/rancher/k3s/k3s.yaml}"
read -r -a kubectl <<<"${KUBECTL:-$ROOT/usr/local/bin/k3s kubectl}"
read -r -a peers <<<"$PEER_URLS"

FINALIZER=wrangler.cattle.io/managed-etcd-controller

fail() {
  printf 'leave failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}
last_line() { printf '%s' "$1" | tail -n1; }

changed=false
result() { # result <state> [members]
  printf 'EDGEFLEET_RESULT {"script":"leave","host":"%s","changed":%s,"node":"%s","state":"%s","members":%s}\n' \
    "$HOST_NAME" "$changed" "$NODE_NAME" "$1" "${2:-null}"
}

case "$LEAVE_ACTION" in
  arm)
    printf 'EDGEFLEET_RESULT {"script":"leave","host":"%s","changed":false,"node":"%s","state":"armed","peers":%d}\n' \
      "$HOST_NAME" "$NODE_NAME" "${#peers[@]}"
    exit 0
    ;;
  leave) ;;
  *) fail "LEAVE_ACTION is \"$LEAVE_ACTION\"; expected leave or arm" ;;
esac

# Stop K3s here, whichever way it runs, and keep it from starting again
# (a reboot before the uninstall must not bring a removed member back).
stop_k3s() {
  local unit="$ROOT/etc/systemd/system/k3s.service" pidfile="$ROOT/run/k3s-supervise.pid"
  local sup="$ROOT/usr/local/bin/k3s-supervise" pid
  if [ -f "$unit" ] && command -v "${SYSTEMCTL%% *}" >/dev/null 2>&1; then
    "$SYSTEMCTL" disable k3s >/dev/null 2>&1 || true
    if "$SYSTEMCTL" is-active --quiet k3s; then
      "$SYSTEMCTL" stop k3s >/dev/null 2>&1 || fail "could not stop K3s (systemctl stop k3s)"
      changed=true
    fi
  fi
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$sup"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then fail "the K3s supervisor (pid $pid) did not stop within 30s"; fi
    changed=true
  fi
}

api() { # api <url|local> <kubectl args...>
  local url=$1
  shift
  if [ "$url" = local ]; then
    "${kubectl[@]}" --request-timeout="$REQUEST_TIMEOUT" "$@"
  else
    "${kubectl[@]}" --server="$url" --request-timeout="$REQUEST_TIMEOUT" "$@"
  fi
}
etcd_nodes() { api "$1" get nodes -l node-role.kubernetes.io/etcd=true -o name; }

# K3s never came up here (it writes the kubeconfig at its first start): no member.
if [ ! -f "$KUBECONFIG" ]; then
  stop_k3s
  result absent
  exit 0
fi

# --- 1. who answers: another server first, this one only for a view ---
peer="" nodes="" tried=()
for url in "${peers[@]}"; do
  if out=$(etcd_nodes "$url" 2>&1); then
    peer=$url nodes=$out
    break
  fi
  tried+=("$url: $(last_line "$out")")
done
view=$peer
if [ -z "$view" ]; then
  if out=$(etcd_nodes local 2>&1); then
    view=local nodes=$out
  else
    tried+=("this server: $(last_line "$out")")
    fail "no K3s API answers, neither this server's nor its peers' (${tried[*]}); nothing was changed. Fix: start K3s here (systemctl start k3s) or bring a peer back, then run again."
  fi
fi

# --- 2. this server's Node, as K3s's etcd controller sees it ---
template='{.metadata.labels.node-role\.kubernetes\.io/etcd}|{.metadata.annotations.etcd\.k3s\.cattle\.io/node-name}|'
template+='{.metadata.annotations.etcd\.k3s\.cattle\.io/removed-node-name}|{.metadata.finalizers}'
if ! info=$(api "$view" get node "$NODE_NAME" -o "jsonpath=$template" 2>&1); then
  if printf '%s' "$info" | grep -q NotFound; then
    stop_k3s
    result no-node
    exit 0
  fi
  fail "cannot look up node $NODE_NAME: $(last_line "$info"); nothing was changed"
fi
IFS='|' read -r etcd_role member removed_member finalizers <<<"$info"
if [ "$etcd_role" != true ]; then
  stop_k3s
  result no-etcd
  exit 0
fi
members=$(printf '%s\n' "$nodes" | grep -c '^node/' || true)
if [ "$members" -le 1 ]; then
  stop_k3s
  result last-member "$members"
  exit 0
fi

# --- 3. there are other members: the removal goes through one of them ---
[ -n "$peer" ] ||
  fail "the cluster has $members etcd members, but none of the other servers answers (${tried[*]:-no PEER_URLS}); K3s here was left running and no member was removed. Fix: bring a peer back (its API on port 6443), then run again."
[ -n "$member" ] || [ -n "$removed_member" ] ||
  fail "node $NODE_NAME has the etcd role but no etcd.k3s.cattle.io/node-name annotation, so K3s's etcd controller would not know which member to remove; nothing was changed. Fix: look at the K3s log on a server, then run again."
case "$finalizers" in
  *"$FINALIZER"*) ;;
  *) fail "node $NODE_NAME has no $FINALIZER finalizer: K3s's etcd member controller is not holding it, so deleting it would leave its member behind; nothing was changed. Fix: check that K3s runs on the other servers, then run again." ;;
esac

if [ "$members" -ge 3 ]; then stop_k3s; fi
out=$(api "$peer" delete node "$NODE_NAME" --ignore-not-found --wait=false 2>&1) ||
  fail "deleting node $NODE_NAME through $peer failed: $(last_line "$out")"
changed=true

deadline=$((SECONDS + TIMEOUT_SECONDS))
last="still there"
while :; do
  if out=$(api "$peer" get node "$NODE_NAME" -o name 2>&1); then
    last="still there"
  elif printf '%s' "$out" | grep -q NotFound; then
    break
  else
    last=$(last_line "$out")
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "node $NODE_NAME was not gone ${TIMEOUT_SECONDS}s after its deletion (last: $last): K3s's etcd controller holds it until it has removed etcd member ${member:-$removed_member}. K3s here is $([ "$members" -ge 3 ] && echo stopped || echo running). Fix: read the K3s log on $peer (\"Removing etcd member\"), then run again."
  fi
  sleep "$INTERVAL_SECONDS"
done
stop_k3s
result removed "$((members - 1))"
