#!/usr/bin/env bash
# wait-ready.sh and drain.sh against a fake kubectl.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

KD=$(mktemp -d)
trap 'rm -rf "$KD"' EXIT
kube=(HOST_NAME=edge-s1 KUBECTL="$FAKES/kubectl" FAKE_KUBE_DIR="$KD" INTERVAL_SECONDS=0)

t "wait-ready returns once the node is Ready at the expected version"
printf 'v1.33.5+k3s1 True\nv1.34.2+k3s1 False\nv1.34.2+k3s1 True\n' >"$KD/edge-a1.states"
run_script wait-ready.sh "${kube[@]}" NODE_NAME=edge-a1 EXPECTED_VERSION=v1.34.2+k3s1 TIMEOUT_SECONDS=10
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"script":"wait-ready","host":"edge-s1","changed":false,"node":"edge-a1","version":"v1.34.2+k3s1"'
assert_eq "$(grep -c 'get node edge-a1' "$KD/calls")" 3 "polls"

t "wait-ready times out with one line saying what it last saw"
printf 'v1.33.5+k3s1 True\n' >"$KD/edge-a1.states"
run_script wait-ready.sh "${kube[@]}" NODE_NAME=edge-a1 EXPECTED_VERSION=v1.34.2+k3s1 TIMEOUT_SECONDS=1 INTERVAL_SECONDS=1
assert_eq "$STATUS" 1
assert_eq "$ERR" "wait-ready failed on edge-s1: node edge-a1 not Ready at v1.34.2+k3s1 after 1s (last: version=v1.33.5+k3s1 ready=True)"

t "wait-ready reports an unknown node as such"
run_script wait-ready.sh "${kube[@]}" NODE_NAME=ghost EXPECTED_VERSION=v1.34.2+k3s1 TIMEOUT_SECONDS=0
assert_eq "$STATUS" 1
assert_contains "$ERR" 'node ghost not Ready at v1.34.2+k3s1 after 0s (last: Error from server (NotFound): nodes "ghost" not found)'

t "drain drains, then deletes the Node"
: >"$KD/calls"
printf 'v1.34.2+k3s1 True\n' >"$KD/edge-a2.states"
run_script drain.sh "${kube[@]}" NODE_NAME=edge-a2 TIMEOUT_SECONDS=60
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"drain","host":"edge-s1","changed":true,"node":"edge-a2","state":"deleted"}'
assert_contains "$(cat "$KD/calls")" "drain edge-a2 --ignore-daemonsets --delete-emptydir-data --timeout=60s"
assert_contains "$(cat "$KD/calls")" "delete node edge-a2 --ignore-not-found --wait=true"

t "drain of a node that is already gone succeeds and changes nothing"
run_script drain.sh "${kube[@]}" NODE_NAME=edge-a2
assert_eq "$STATUS" 0
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"drain","host":"edge-s1","changed":false,"node":"edge-a2","state":"absent"}'

done_tests
