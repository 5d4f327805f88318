#!/usr/bin/env bash
# wait-ready.sh: wait until a node reports Ready at the expected K3s version.
# Run it on a server (agents hold no admin kubeconfig); NODE_NAME may be any
# node of the cluster, so a server can wait for an agent it just upgraded.
#
# Environment (inputs):
#   HOST_NAME         required  inventory name of the host this runs on, used in messages
#   NODE_NAME         required  the node to wait for
#   EXPECTED_VERSION  required  e.g. v1.34.2+k3s1 (the node's kubeletVersion)
#   TIMEOUT_SECONDS   optional  default 300
#   INTERVAL_SECONDS  optional  default 5
#   KUBECTL           optional  kubectl command, default "<ROOT>/usr/local/bin/k3s kubectl"
#   KUBECONFIG        optional  default /etc/rancher/k3s/k3s.yaml
#   ROOT              optional  path prefix (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout; on timeout one stderr line, exit 1.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${NODE_NAME:?NODE_NAME is required}"
: "${EXPECTED_VERSION:?EXPECTED_VERSION is required}"
ROOT="${ROOT:-}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-300}"
INTERVAL_SECONDS="${INTERVAL_SECONDS:-5}"
export KUBECONFIG="${KUBECONFIG:-$ROOT/etc/rancher/k3s/k3s.yaml}"
read -r -a kubectl <<<"${KUBECTL:-$ROOT/usr/local/bin/k3s kubectl}"

start=$SECONDS
deadline=$((start + TIMEOUT_SECONDS))
last="no answer from the API server yet"
while :; do
  if out=$("${kubectl[@]}" get node "$NODE_NAME" \
    -o 'jsonpath={.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}' 2>&1); then
    read -r version ready <<<"$out"
    if [ "$version" = "$EXPECTED_VERSION" ] && [ "${ready:-}" = True ]; then
      printf 'EDGEFLEET_RESULT {"script":"wait-ready","host":"%s","changed":false,"node":"%s","version":"%s","waitedSeconds":%d}\n' \
        "$HOST_NAME" "$NODE_NAME" "$version" "$((SECONDS - start))"
      exit 0
    fi
    last="version=${version:-unknown} ready=${ready:-unknown}"
  else
    last=$(printf '%s' "$out" | tail -n1)
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    printf 'wait-ready failed on %s: node %s not Ready at %s after %ss (last: %s)\n' \
      "$HOST_NAME" "$NODE_NAME" "$EXPECTED_VERSION" "$TIMEOUT_SECONDS" "$last" >&2
    exit 1
  fi
  sleep "$INTERVAL_SECONDS"
done
