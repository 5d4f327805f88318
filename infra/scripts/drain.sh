#!/usr/bin/env bash
# drain.sh: drain a node and delete its Node object, before its host is
# uninstalled. Run it on a server that stays. A node that is already gone is
# not an error (re-runs, half-finished removals).
#
# Environment (inputs):
#   HOST_NAME        required  inventory name of the host this runs on, used in messages
#   NODE_NAME        required  node to drain
#   TIMEOUT_SECONDS  optional  drain timeout, default 300
#   DRAIN_FORCE      optional  1 = also evict pods without a controller (--force), default 0
#   DELETE_NODE      optional  1 (default) = delete the Node object after draining
#   KUBECTL          optional  kubectl command, default "<ROOT>/usr/local/bin/k3s kubectl"
#   KUBECONFIG       optional  default /etc/rancher/k3s/k3s.yaml
#   ROOT             optional  path prefix (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout; failure one stderr line, exit 1.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${NODE_NAME:?NODE_NAME is required}"
ROOT="${ROOT:-}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-300}"
export KUBECONFIG="${KUBECONFIG:-$ROOT/etc/rancher/k3s/k3s.yaml}"
read -r -a kubectl <<<"${KUBECTL:-$ROOT/usr/local/bin/k3s kubectl}"

fail() {
  printf 'drain failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}
result() {
  printf 'EDGEFLEET_RESULT {"script":"drain","host":"%s","changed":%s,"node":"%s","state":"%s"}\n' \
    "$HOST_NAME" "$1" "$NODE_NAME" "$2"
}

if ! out=$("${kubectl[@]}" get node "$NODE_NAME" -o name 2>&1); then
  if printf '%s' "$out" | grep -q 'NotFound'; then
    result false absent
    exit 0
  fi
  fail "cannot look up node $NODE_NAME: $(printf '%s' "$out" | tail -n1)"
fi

args=(drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data "--timeout=${TIMEOUT_SECONDS}s")
if [ "${DRAIN_FORCE:-0}" = 1 ]; then args+=(--force); fi
if ! out=$("${kubectl[@]}" "${args[@]}" 2>&1); then
  fail "draining node $NODE_NAME did not finish: $(printf '%s' "$out" | tail -n1)"
fi

state=drained
if [ "${DELETE_NODE:-1}" = 1 ]; then
  out=$("${kubectl[@]}" delete node "$NODE_NAME" --ignore-not-found --wait=true 2>&1) ||
    fail "deleting node $NODE_NAME failed: $(printf '%s' "$out" | tail -n1)"
  state=deleted
fi
result true "$state"
