#!/usr/bin/env bash
# End-to-end test of the lab (run as root, only when asked: it builds or needs
# the control-plane binaries and takes minutes):
#
#   EF_LAB_BIN=DIR test/lab/lab.sh
#
# Brings up two lab hosts, checks SSH with a pinned host key and file-system
# isolation, installs the upstream control plane on host 1 over plain SSH with
# infra/scripts/upstream, registers KWOK nodes with infra/scripts/kwok, checks /readyz, Ready
# nodes with the right labels and allocatable, and an Available Deployment on
# them, re-runs both installs (no restarts), then tears the hosts down and
# checks nothing is left: netns, bridge, mounts, processes, mount points.
#
# Environment:
#   EF_LAB_BIN        dir with etcd, kube-apiserver, kube-controller-manager,
#                     kube-scheduler, kubectl, kwok, kwok-stages.yaml; built
#                     with tools/go/kube/build.sh into it when missing
#                     [${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/lab-bin]
#   EF_LAB_TEST_NODES KWOK nodes to register [4]
#   EF_LAB_KEEP=1     leave the hosts up at the end (for debugging)
# The test uses its own lab dir (/var/lib/edgefleet-lab-test) and refuses to
# run while another lab (bridge efbr0) exists.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The pins: what the binaries must say of themselves, and what build.sh reads.
set -a
# shellcheck disable=SC1091
. "$repo/tools/versions.env"
set +a
hosts=$repo/lab/hosts.sh
export EDGEFLEET_LAB_DIR=/var/lib/edgefleet-lab-test
bin=${EF_LAB_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/lab-bin}
node_count=${EF_LAB_TEST_NODES:-4}
staging=/var/lib/edgefleet/lab-staging
work=$(mktemp -d)

failures=0
step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() {
  printf 'FAIL %s\n' "$*"
  failures=$((failures + 1))
}
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
die() {
  echo "test/lab: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root"
if ip link show efbr0 >/dev/null 2>&1 && [[ ! -d $EDGEFLEET_LAB_DIR/hosts ]]; then
  die "another lab is up (bridge efbr0 exists); bring it down first (lab/hosts.sh down)"
fi

# Host-private paths that exist on the machine; hosts.sh creates the missing
# ones as mount points and must remove them again.
existing_paths() {
  local d
  for d in /etc/rancher /var/lib/rancher /etc/kubernetes /var/lib/etcd /var/lib/kubelet \
    /etc/cni /var/lib/cni /etc/edgefleet /var/lib/edgefleet; do
    if [[ -e $d ]]; then echo "$d"; fi
  done
}
mountpoints_before=$(existing_paths)

cleanup() {
  local rc=$?
  if [[ ${EF_LAB_KEEP:-} != 1 ]]; then
    "$hosts" down >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

step "binaries"
if [[ ! -x $bin/kube-apiserver || ! -x $bin/etcd || ! -x $bin/kwok || ! -f $bin/kwok-stages.yaml ]]; then
  echo "building into $bin (one go build; takes a while)"
  t0=$SECONDS
  GOFLAGS="-p=2 ${GOFLAGS:-}" "$repo/tools/go/kube/build.sh" "$bin"
  echo "built in $((SECONDS - t0))s"
fi
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  [[ -x $bin/$b ]] || die "missing $bin/$b"
done
kubectl_version=$("$bin/kubectl" version --client -o json | jq -r .clientVersion.gitVersion)
check "kubectl reports its pinned version ($kubectl_version)" [ "$kubectl_version" = "v$KUBERNETES_VERSION" ]

step "lab hosts"
t0=$SECONDS
"$hosts" up 2 >/dev/null
pass "hosts.sh up 2 in $((SECONDS - t0))s"
"$hosts" up 2 >/dev/null
pass "hosts.sh up 2 again"
inv=$EDGEFLEET_LAB_DIR/inventory.json
check "inventory lists two hosts" [ "$(jq '.hosts | length' "$inv")" = 2 ]
key=$(jq -r .privateKeyPath "$inv")
known=$(jq -r .knownHostsPath "$inv")
h1=$(jq -r '.hosts[0].address' "$inv")
h2=$(jq -r '.hosts[1].address' "$inv")
log1=$(jq -r '.hosts[0].sshdLog' "$inv")
ssh_opts=(-i "$key" -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5)
on() {
  local addr=$1
  shift
  # shellcheck disable=SC2029 # commands are composed here on purpose
  ssh "${ssh_opts[@]}" "root@$addr" "$@"
}

step "ssh and isolation"
check "ssh to host 1 with the pinned key" on "$h1" true
check "host 1 has its own hostname" [ "$(on "$h1" hostname)" = ef-1 ]
printf '%s %s\n' "$h1" "$(jq -r '.hosts[1].hostKey' "$inv")" >"$work/wrong_known_hosts"
check "a wrong pinned host key is refused" \
  bash -c "! ssh -i '$key' -o UserKnownHostsFile='$work/wrong_known_hosts' -o StrictHostKeyChecking=yes -o BatchMode=yes root@$h1 true 2>/dev/null"
on "$h1" 'mkdir -p /etc/rancher/k3s && echo host-1 >/etc/rancher/k3s/lab-test && echo bin >/usr/local/bin/lab-test'
check "host 1 sees its own file" [ "$(on "$h1" cat /etc/rancher/k3s/lab-test)" = host-1 ]
check "the machine does not see host 1's /etc/rancher file" [ ! -e /etc/rancher/k3s/lab-test ]
check "the machine does not see host 1's /usr/local/bin file" [ ! -e /usr/local/bin/lab-test ]
check "host 2 does not see host 1's file" on "$h2" '! test -e /etc/rancher/k3s/lab-test && ! test -e /usr/local/bin/lab-test'
check "hosts do not see the lab dir (client key)" on "$h2" "! test -e '$key'"
check "host 2 reaches host 1 over the bridge" on "$h2" "timeout 3 bash -c '</dev/tcp/$h1/22'"
check "hosts have no route off the bridge" on "$h1" '! ip -4 route get 1.1.1.1 >/dev/null 2>&1'
on "$h1" 'rm -rf /etc/rancher/k3s /usr/local/bin/lab-test'

step "control plane on host 1 over ssh"
t0=$SECONDS
tar -C "$bin" -cf - --transform 's,^,bin/,' etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml |
  on "$h1" "rm -rf $staging && mkdir -p $staging && tar -C $staging -xf -"
tar -C "$repo/infra/scripts" -cf - --transform "s,^upstream,controlplane," upstream kwok | on "$h1" "tar -C $staging -xf -"
pass "staging uploaded in $((SECONDS - t0))s ($(du -sh "$bin" | cut -f1) of binaries)"
t0=$SECONDS
if on "$h1" "bash $staging/controlplane/up.sh" >"$work/cp-up.log" 2>&1; then
  pass "controlplane/up.sh in $((SECONDS - t0))s: $(grep 'ready on' "$work/cp-up.log")"
else
  cat "$work/cp-up.log"
  fail "controlplane/up.sh"
  on "$h1" 'tail -n 30 /var/log/edgefleet-lab/*.log' || true
  exit 1
fi
on "$h1" cat /etc/kubernetes/admin.kubeconfig >"$work/kubeconfig"
chmod 600 "$work/kubeconfig"
k() { "$bin/kubectl" --kubeconfig="$work/kubeconfig" --request-timeout=20s "$@"; }
check "/readyz from the machine says ok" [ "$(k get --raw /readyz)" = ok ]
check "the API server reports v$KUBERNETES_VERSION" [ "$(k version -o json | jq -r .serverVersion.gitVersion)" = "v$KUBERNETES_VERSION" ]
check "etcd listens on loopback only" on "$h1" "! ss -Hltn | grep -E ':(2379|2380) ' | grep -v '127.0.0.1:'"
check "host 2 reaches the API server" on "$h2" "timeout 3 bash -c '</dev/tcp/$h1/6443'"
check "host 2 has no control plane" on "$h2" '! test -e /etc/kubernetes/admin.kubeconfig'
t0=$SECONDS
on "$h1" "bash $staging/controlplane/up.sh" >"$work/cp-up2.log" 2>&1
check "a re-run restarts nothing ($((SECONDS - t0))s)" [ "$(grep -c ': unchanged' "$work/cp-up2.log")" = 4 ]

step "kwok nodes"
t0=$SECONDS
if on "$h1" "EF_KWOK_NODES=$node_count EF_KWOK_SITE=lab-test EF_KWOK_PROFILE=retail-city bash $staging/kwok/up.sh" >"$work/kwok.log" 2>&1; then
  pass "kwok/up.sh in $((SECONDS - t0))s: $(tail -n 1 "$work/kwok.log")"
else
  cat "$work/kwok.log"
  fail "kwok/up.sh"
  on "$h1" 'tail -n 30 /var/log/edgefleet-lab/kwok.log' || true
  exit 1
fi
ready=$(k get nodes -l node-type=edge,edgefleet.dev/site=lab-test,edgefleet.dev/profile=retail-city,edgefleet.dev/wasm=true \
  -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
check "$node_count labelled nodes Ready ($ready)" [ "$ready" = "$node_count" ]
check "node 1 is 2c4g with 1650m/3128Mi allocatable" \
  [ "$(k get node lab-test-edge-0001 -o jsonpath='{.metadata.labels.edgefleet\.dev/size-class} {.status.allocatable.cpu} {.status.allocatable.memory}')" = "2c4g 1650m 3128Mi" ]
check "node 2 is 4c8g with 3400m/6612Mi allocatable" \
  [ "$(k get node lab-test-edge-0002 -o jsonpath='{.metadata.labels.edgefleet\.dev/size-class} {.status.allocatable.cpu} {.status.allocatable.memory}')" = "4c8g 3400m 6612Mi" ]
on "$h1" "EF_KWOK_NODES=$node_count EF_KWOK_SITE=lab-test EF_KWOK_PROFILE=retail-city bash $staging/kwok/up.sh" >"$work/kwok2.log" 2>&1
check "a kwok re-run keeps kwok running" grep -q 'kwok: unchanged' "$work/kwok2.log"

k create namespace lab-test >/dev/null
k -n lab-test apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tracker
spec:
  replicas: 3
  selector:
    matchLabels: {app: tracker}
  template:
    metadata:
      labels: {app: tracker}
    spec:
      nodeSelector:
        node-type: edge
        edgefleet.dev/wasm: "true"
      containers:
      - name: tracker
        image: registry.invalid/tracker:lab
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 200m, memory: 128Mi}
EOF
check "a Deployment on the edge nodes becomes Available" \
  k -n lab-test wait --for=condition=Available deployment/tracker --timeout=120s

sessions=$(grep -c 'Accepted publickey for root' "$log1" || true)
check "sshd on host 1 logged each session ($sessions)" [ "$sessions" -ge 10 ]

step "teardown"
mapfile -t cp_pids < <(pgrep -f -x '/usr/local/bin/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok) .*' || true)
check "the control plane runs (${#cp_pids[@]} processes)" [ "${#cp_pids[@]}" -ge 5 ]
mapfile -t host_pids < <(ip netns pids ef-1; ip netns pids ef-2)
on "$h1" "bash /usr/local/lib/edgefleet-lab/down.sh" >/dev/null
# shellcheck disable=SC2016 # expands on the host
check "controlplane/down.sh leaves host 1 clean" \
  on "$h1" '! test -e /usr/local/bin/kube-apiserver && test -z "$(ls -A /etc/kubernetes)" && test -z "$(ls -A /var/lib/etcd)" && ! pgrep -x kube-apiserver'
t0=$SECONDS
"$hosts" down
pass "hosts.sh down in $((SECONDS - t0))s"
"$hosts" down
pass "hosts.sh down again"
check "no lab netns left" bash -c "! ip netns list | grep -q '^ef-'"
check "no bridge left" bash -c '! ip link show efbr0 >/dev/null 2>&1'
check "no veth left" bash -c "! ip -o link | grep -q 'efv-'"
check "no mount under the lab dir left" bash -c "! grep -q '$EDGEFLEET_LAB_DIR' /proc/self/mountinfo"
left=0
for pid in "${cp_pids[@]}" "${host_pids[@]}"; do
  # A zombie has let go of everything; whether it is reaped is up to the
  # machine's init (some container inits never reap orphans).
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  if [[ -n $state && $state != Z ]]; then left=$((left + 1)); fi
done
check "no process of the hosts left (sshd, control plane: $left of ${#host_pids[@]})" [ "$left" = 0 ]
check "host state removed" [ ! -e "$EDGEFLEET_LAB_DIR/hosts" ]
mountpoints_after=$(existing_paths)
check "mount points created for the hosts are removed" [ "$mountpoints_before" = "$mountpoints_after" ]

echo
if ((failures > 0)); then
  echo "test/lab: $failures check(s) failed"
  exit 1
fi
echo "test/lab: all checks passed"
