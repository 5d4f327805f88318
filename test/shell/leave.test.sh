#!/usr/bin/env bash
# Removing a server: drain.sh (from a server that stays, Node kept), leave.sh
# (on the leaving server: its etcd member out through K3s's Node deletion)
# and uninstall.sh, against a fake K3s API (fakes/k3s-api) and a fake
# systemctl that share one call log, so the order is what is checked.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

D=$(mktemp -d)
ROOT=$(new_root)
SUP_PID=
cleanup() {
  if [ -n "$SUP_PID" ]; then kill -TERM "$SUP_PID" 2>/dev/null || true; fi
  rm -rf "$D" "$ROOT"
}
trap cleanup EXIT
S1=https://192.0.2.11:6443
S2=https://192.0.2.12:6443
FINALIZER=wrangler.cattle.io/managed-etcd-controller

# cluster <etcd node...>: Nodes as K3s labels, annotates and holds them; K3s
# running on edge-s3 (systemd), which is the server that leaves.
cluster() {
  rm -rf "$D"
  mkdir -p "$D/nodes" "$D/down"
  local n
  for n in "$@"; do
    mkdir -p "$D/nodes/$n"
    echo true >"$D/nodes/$n/etcd"
    echo "$n-0a1b2c3d" >"$D/nodes/$n/member"
    printf '["%s"]' "$FINALIZER" >"$D/nodes/$n/finalizers"
  done
  touch "$D/k3s.active" "$D/k3s.enabled"
  mkdir -p "$ROOT/etc/systemd/system" "$ROOT/etc/rancher/k3s"
  printf '[Unit]\n' >"$ROOT/etc/systemd/system/k3s.service"
  printf 'apiVersion: v1\n' >"$ROOT/etc/rancher/k3s/k3s.yaml"
}
leave=(HOST_NAME=edge-s3 NODE_NAME=edge-s3 ROOT="$ROOT" KUBECTL="$FAKES/k3s-api" FAKE_API_DIR="$D"
  FAKE_SYSTEMCTL_DIR="$D" FAKE_LOCAL_SERVICE=k3s SYSTEMCTL="$FAKES/systemctl" INTERVAL_SECONDS=0
  PEER_URLS="$S1 $S2")
calls() { cat "$D/calls" 2>/dev/null || true; }
running() { [ -f "$D/k3s.active" ]; }
nodes() { (cd "$D/nodes" && ls); }

t "a server of three: drain, stop K3s, delete the Node through a peer, wait until K3s lets it go, then uninstall"
cluster edge-s1 edge-s2 edge-s3
FAKE_DELETE_POLLS=2
run_script drain.sh HOST_NAME=edge-s1 NODE_NAME=edge-s3 KUBECTL="$FAKES/k3s-api" FAKE_API_DIR="$D" DELETE_NODE=0
assert_eq "$STATUS" 0 "drain ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"drain","host":"edge-s1","changed":true,"node":"edge-s3","state":"drained"}'
run_script leave.sh "${leave[@]}" FAKE_DELETE_POLLS=$FAKE_DELETE_POLLS
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"leave","host":"edge-s3","changed":true,"node":"edge-s3","state":"removed","members":2}'
run_script uninstall.sh ROOT="$ROOT" HOST_NAME=edge-s3 SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$D"
assert_eq "$STATUS" 0 "uninstall ($ERR)"
assert_eq "$(calls | grep -E ' drain |delete node|^https://[^ ]* get node edge-s3 -o name|^stop k3s|^daemon-reload')" \
  "local drain edge-s3 --ignore-daemonsets --delete-emptydir-data --timeout=300s
stop k3s
$S1 delete node edge-s3 --ignore-not-found --wait=false
$S1 get node edge-s3 -o name
$S1 get node edge-s3 -o name
$S1 get node edge-s3 -o name
stop k3s
daemon-reload" "drain, stop, delete, wait, uninstall"
assert_eq "$(nodes)" "edge-s1
edge-s2" "the etcd Nodes left"
assert_not_contains "$(calls)" "local delete" "the Node is never deleted through the leaving server"
assert_contains "$(calls)" "disable k3s"

t "a server of two: the Node goes while both run (one of two stopped leaves etcd without a majority), then K3s stops"
cluster edge-s1 edge-s3
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_contains "$OUT" '"state":"removed","members":1}'
assert_eq "$(calls | grep -E 'delete node|^stop k3s')" "$S1 delete node edge-s3 --ignore-not-found --wait=false
stop k3s" "delete before stop"
if running; then fail_test "K3s still runs"; fi

t "the last etcd member is never removed: K3s stops, the Node stays"
cluster edge-s3
touch "$D/down/192.0.2.11:6443" "$D/down/192.0.2.12:6443"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"leave","host":"edge-s3","changed":true,"node":"edge-s3","state":"last-member","members":1}'
assert_not_contains "$(calls)" "delete node"
assert_eq "$(nodes)" "edge-s3"
if running; then fail_test "K3s still runs"; fi

t "with other members but no peer answering, nothing is stopped or removed"
cluster edge-s1 edge-s2 edge-s3
touch "$D/down/192.0.2.11:6443" "$D/down/192.0.2.12:6443"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 1
assert_contains "$ERR" "leave failed on edge-s3: the cluster has 3 etcd members, but none of the other servers answers ($S1: Unable to connect"
assert_contains "$ERR" "K3s here was left running and no member was removed"
running || fail_test "K3s was stopped"
assert_not_contains "$(calls)" "delete node"

t "a peer that does not answer is skipped for the next"
cluster edge-s1 edge-s2 edge-s3
touch "$D/down/192.0.2.11:6443"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_contains "$(calls)" "$S2 delete node edge-s3"

t "a Node K3s's etcd controller does not hold (no finalizer) is refused before anything changes"
cluster edge-s1 edge-s2 edge-s3
: >"$D/nodes/edge-s3/finalizers"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 1
assert_contains "$ERR" "node edge-s3 has no $FINALIZER finalizer"
running || fail_test "K3s was stopped"
assert_not_contains "$(calls)" "delete node"

t "an etcd Node without K3s's member annotation is refused before anything changes"
cluster edge-s1 edge-s2 edge-s3
rm "$D/nodes/edge-s3/member"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 1
assert_contains "$ERR" "no etcd.k3s.cattle.io/node-name annotation"
running || fail_test "K3s was stopped"

t "K3s not letting the Node go times out, naming the member; the next run finishes the removal"
cluster edge-s1 edge-s2 edge-s3
touch "$D/nodes/edge-s3/stuck"
run_script leave.sh "${leave[@]}" TIMEOUT_SECONDS=0
assert_eq "$STATUS" 1
assert_contains "$ERR" "node edge-s3 was not gone 0s after its deletion (last: still there): K3s's etcd controller holds it until it has removed etcd member edge-s3-0a1b2c3d. K3s here is stopped."
rm "$D/nodes/edge-s3/stuck"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "re-run ($ERR)"
assert_contains "$OUT" '"changed":true,"node":"edge-s3","state":"removed","members":2}'
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "third run ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"leave","host":"edge-s3","changed":false,"node":"edge-s3","state":"no-node","members":null}'

t "a server without a Node (no kubelet, or removed already): K3s stops, nothing is deleted"
cluster edge-s1 edge-s2
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"leave","host":"edge-s3","changed":true,"node":"edge-s3","state":"no-node","members":null}'
assert_not_contains "$(calls)" "delete node"

t "a server on SQLite (no etcd role): K3s stops, nothing is deleted"
cluster edge-s3
rm "$D/nodes/edge-s3/etcd"
run_script leave.sh "${leave[@]}" PEER_URLS=
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_contains "$OUT" '"state":"no-etcd"'
assert_eq "$(nodes)" "edge-s3"

t "no API answering at all, this server's included, is an error that changes nothing"
cluster edge-s3
touch "$D/down/192.0.2.11:6443" "$D/down/192.0.2.12:6443"
rm "$D/k3s.active"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 1
assert_contains "$ERR" "no K3s API answers, neither this server's nor its peers'"
assert_contains "$ERR" "Fix: start K3s here (systemctl start k3s)"

t "a supervised K3s (no systemd) is stopped through its supervisor"
cluster edge-s1 edge-s2
rm "$ROOT/etc/systemd/system/k3s.service"
printf '#!/usr/bin/env bash\ntrap "exit 0" TERM\nwhile :; do sleep 0.1; done\n' >"$ROOT/usr/local/bin/k3s-supervise"
chmod +x "$ROOT/usr/local/bin/k3s-supervise"
setsid "$ROOT/usr/local/bin/k3s-supervise" </dev/null >/dev/null 2>&1 &
SUP_PID=$!
echo "$SUP_PID" >"$ROOT/run/k3s-supervise.pid"
run_script leave.sh "${leave[@]}" FAKE_LOCAL_SERVICE=
assert_eq "$STATUS" 0 "leave ($ERR)"
assert_contains "$OUT" '"changed":true,"node":"edge-s3","state":"no-node"'
if kill -0 "$SUP_PID" 2>/dev/null; then fail_test "supervisor still running"; fi
SUP_PID=
rm -f "$ROOT/run/k3s-supervise.pid" "$ROOT/usr/local/bin/k3s-supervise"

t "K3s never started here (no kubeconfig): nothing to leave"
cluster edge-s1 edge-s2 edge-s3
rm "$ROOT/etc/rancher/k3s/k3s.yaml"
run_script leave.sh "${leave[@]}"
assert_eq "$STATUS" 0
assert_contains "$OUT" '"state":"absent"'
assert_eq "$(calls | grep -c 'k3s-api\|https\|local' || true)" 0 "API calls"

t "arm (the step's create) reports the peers and touches nothing"
cluster edge-s1 edge-s2 edge-s3
run_script leave.sh "${leave[@]}" LEAVE_ACTION=arm
assert_eq "$STATUS" 0
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"leave","host":"edge-s3","changed":false,"node":"edge-s3","state":"armed","peers":2}'
assert_eq "$(calls)" "" "calls"
running || fail_test "K3s was stopped"

done_tests
