#!/usr/bin/env bash
# up.sh: runs KWOK on this host (supervised, next to the lab control plane)
# and registers the lab's simulated edge nodes with it: Node objects with the
# case sizes as capacity/allocatable, the labels the site layer schedules on,
# and their taints. KWOK then keeps them Ready and plays their kubelets, so
# Deployments schedule and become Available.
#
# Expects the staging layout of ../upstream/up.sh (uploaded as STAGING/controlplane) plus
#   STAGING/bin/kwok, STAGING/bin/kwok-stages.yaml (tools/go/kwok/build.sh)
#   STAGING/kwok/up.sh
# and a running control plane (its admin kubeconfig and kubectl).
#
# Environment (defaults in brackets):
#   EF_KWOK_NODES          number of nodes, 0-2000 [3]
#   EF_KWOK_SITE           edgefleet.dev/site label and name prefix [lab]
#   EF_KWOK_PROFILE        edgefleet.dev/profile label [edge-general]
#   EF_KWOK_SIZE           2c4g | 4c8g | mixed (alternating, 2c4g first) [mixed]
#   EF_KWOK_WASM           edgefleet.dev/wasm label value [true]
#   EF_KWOK_TAINTS         comma-separated key=value:Effect taints [none]
#   EF_KWOK_KUBECONFIG     [/etc/kubernetes/admin.kubeconfig]
#   EF_KWOK_READY_TIMEOUT  seconds to wait for every node Ready [300 + nodes/4]
#
# Idempotent: only new or changed nodes are applied (server-side); this site's
# nodes beyond the count (or whose size class changed) are deleted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
staging=$(dirname "$here")
LIB_DIR=/usr/local/lib/edgefleet-lab
STATE_DIR=/var/lib/edgefleet/kwok
FIELD_MANAGER=edgefleet-lab-kwok

die() {
  echo "kwok/up.sh: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ -f $LIB_DIR/service.sh ]] || die "the lab control plane is not installed here (run controlplane/up.sh first)"
# shellcheck source=SCRIPTDIR/../upstream/service.sh
. "$LIB_DIR/service.sh"

nodes=${EF_KWOK_NODES:-3}
site=${EF_KWOK_SITE:-lab}
profile=${EF_KWOK_PROFILE:-edge-general}
size=${EF_KWOK_SIZE:-mixed}
wasm=${EF_KWOK_WASM:-true}
taints=${EF_KWOK_TAINTS:-}
kubeconfig=${EF_KWOK_KUBECONFIG:-/etc/kubernetes/admin.kubeconfig}
# kwok plays every node's heartbeat; on a small shared machine 2000 nodes take
# minutes to initialize.
timeout=${EF_KWOK_READY_TIMEOUT:-$((300 + ${EF_KWOK_NODES:-3} / 4))}

if ! [[ $nodes =~ ^[0-9]+$ ]] || ((nodes > 2000)); then
  die "EF_KWOK_NODES must be 0-2000, not '$nodes'"
fi
[[ $size =~ ^(2c4g|4c8g|mixed)$ ]] || die "EF_KWOK_SIZE must be 2c4g, 4c8g or mixed, not '$size'"
[[ $site =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "EF_KWOK_SITE must be a DNS label, not '$site'"
for f in kwok kwok-stages.yaml; do
  [[ -f $staging/bin/$f ]] || die "missing $staging/bin/$f"
done

kubectl() { command kubectl --kubeconfig="$kubeconfig" "$@"; }
started_at=$SECONDS

if ! cmp -s "$staging/bin/kwok" /usr/local/bin/kwok; then
  install -m 755 "$staging/bin/kwok" /usr/local/bin/kwok.new
  mv -f /usr/local/bin/kwok.new /usr/local/bin/kwok
fi
mkdir -p "$STATE_DIR"
install -m 644 "$staging/bin/kwok-stages.yaml" "$STATE_DIR/stages.yaml"

# KWOK manages only the nodes that carry its annotation, so real nodes (K3s
# agents, where the lab can run them) are never touched. Pod IPs come from the
# cluster CIDR the control plane uses. At INFO kwok logs every lease renewal
# (tens of MB a minute at 2000 nodes), so only warnings.
service_start kwok -- /usr/local/bin/kwok \
  --kubeconfig="$kubeconfig" \
  --config="$STATE_DIR/stages.yaml" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 \
  --v=WARN \
  --cidr=10.42.0.1/16

# Size classes as config/sizeClasses.ts defines them: capacity, and
# allocatable = capacity - kube-reserved - system-reserved - eviction threshold.
size_of() {
  case $1 in
    2c4g) echo "2 4096Mi 1650m 3128Mi" ;;
    4c8g) echo "4 8192Mi 3400m 6612Mi" ;;
  esac
}

# Sets REPLY to node i's size class (no subshell: called per node, 2000 times).
node_size() {
  case $size in
    mixed) if (($1 % 2 == 1)); then REPLY=2c4g; else REPLY=4c8g; fi ;;
    *) REPLY=$size ;;
  esac
}

# Sets REPLY to node i's name.
node_name() { printf -v REPLY '%s-edge-%04d' "$site" "$1"; }

taints_yaml() {
  [[ -n $taints ]] || return 0
  local t key value effect
  echo "  taints:"
  IFS=, read -r -a list <<<"$taints"
  for t in "${list[@]}"; do
    [[ $t =~ ^([^=:]+)(=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$ ]] ||
      die "bad taint '$t' (want key=value:Effect)"
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[3]} effect=${BASH_REMATCH[4]}
    printf '  - key: %s\n    value: "%s"\n    effect: %s\n' "$key" "$value" "$effect"
  done
}
taints_block=$(taints_yaml)

# What a node's labels, taints and status derive from. Stored on each node as
# an annotation, so a re-run applies only nodes that are new or changed: at
# 2000 nodes one apply per node takes minutes.
spec_hash() {
  printf '%s|%s|%s|%s|%s|%s\n' v1 "$site" "$profile" "$wasm" "$taints" "$1" | sha256sum | cut -c1-16
}
declare -A hash_of=([2c4g]=$(spec_hash 2c4g) [4c8g]=$(spec_hash 4c8g))

node_doc() {
  local i=$1 name class cpu mem acpu amem
  node_name "$i"
  name=$REPLY
  node_size "$i"
  class=$REPLY
  read -r cpu mem acpu amem <<<"$(size_of "$class")"
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
    edgefleet.dev/lab-spec: ${hash_of[$class]}
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    node-role.kubernetes.io/agent: ""
    node-type: edge
    edgefleet.dev/site: $site
    edgefleet.dev/profile: $profile
    edgefleet.dev/size-class: $class
    edgefleet.dev/wasm: "$wasm"
spec:
$([[ -n $taints_block ]] && echo "$taints_block" || echo "  taints: []")
status:
  capacity:
    cpu: "$cpu"
    memory: $mem
    pods: "110"
    ephemeral-storage: 50Gi
  allocatable:
    cpu: $acpu
    memory: $amem
    pods: "110"
    ephemeral-storage: 45Gi
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
EOF
}

selector="edgefleet.dev/site=$site,node-type=edge"
declare -A current=()
while IFS='|' read -r name hash class; do
  [[ -n $name ]] && current[$name]="$hash|$class"
done < <(kubectl get nodes -l "$selector" \
  -o jsonpath='{range .items[?(@.metadata.annotations.kwok\.x-k8s\.io/node=="fake")]}{.metadata.name}|{.metadata.annotations.edgefleet\.dev/lab-spec}|{.metadata.labels.edgefleet\.dev/size-class}{"\n"}{end}')

# Stale: beyond the count, or a changed size class (a Node's status, where
# capacity lives, is not updated by an apply, so those are re-created).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/stale"
for name in "${!current[@]}"; do
  idx=${name##*-edge-}
  idx=$((10#$idx))
  node_size "$idx"
  if ((idx < 1 || idx > nodes)) || [[ ${current[$name]#*|} != "$REPLY" ]]; then
    echo "$name" >>"$work/stale"
    unset "current[$name]"
  fi
done
stale=$(wc -l <"$work/stale")
if ((stale > 0)); then
  # Parallel batches: one kubectl deletes its names one after another.
  xargs -a "$work/stale" -n 100 -P 4 \
    kubectl --kubeconfig="$kubeconfig" delete node --wait=false >/dev/null
  echo "kwok: deleted $stale stale node(s)"
fi

changed=0
mkdir -p "$work/batches"
for ((i = 1; i <= nodes; i++)); do
  node_name "$i"
  name=$REPLY
  node_size "$i"
  [[ ${current[$name]:-} == "${hash_of[$REPLY]}|"* ]] && continue
  node_doc "$i" >>"$work/batches/$((changed / 100))"
  changed=$((changed + 1))
done
if ((changed > 0)); then
  find "$work/batches" -type f -print0 | xargs -0 -n 1 -P 4 \
    kubectl --kubeconfig="$kubeconfig" apply --server-side --force-conflicts \
    --field-manager="$FIELD_MANAGER" -f >/dev/null
fi
echo "kwok: $changed node(s) applied, $((nodes - changed)) unchanged"

if ((nodes > 0)); then
  # One list per poll: `kubectl wait` visits nodes one by one, which takes
  # minutes at 2000 nodes even when all are Ready.
  deadline=$((SECONDS + timeout))
  while :; do
    ready=$(kubectl get nodes -l "$selector" \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
      grep -c '^True$' || true)
    ((ready >= nodes)) && break
    ((SECONDS < deadline)) ||
      die "$ready of $nodes nodes of site $site Ready after ${timeout}s (log: $SERVICE_LOG_DIR/kwok.log)"
    sleep 2
  done
fi
echo "kwok: $nodes node(s) of site $site Ready after $((SECONDS - started_at))s"
