#!/usr/bin/env bash
# service.sh: systemd mode against a fake systemctl; supervise mode with real processes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
SCD="$ROOT/fakes/systemctl-state"
cleanup() {
  local p
  p=$(cat "$ROOT/run/k3s-supervise.pid" 2>/dev/null || true)
  if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; sleep 0.5; fi
  rm -rf "$ROOT"
}
trap cleanup EXIT
mkdir -p "$ROOT/fakes" "$ROOT/etc/rancher/k3s"
cp "$FAKES/k3s" "$ROOT/usr/local/bin/k3s"
strip_x "$(rendered config-server.yaml)" >"$ROOT/etc/rancher/k3s/config.yaml"
printf 'tok\n' >"$ROOT/etc/rancher/k3s/edgefleet-token"
printf 'agenttok\n' >"$ROOT/etc/rancher/k3s/edgefleet-agent-token"
UNIT=$(strip_x "$(rendered unit-server)")
ENVF=$(strip_x "$(rendered env)")
sysd=(ROOT="$ROOT" HOST_NAME=edge-s1 ROLE=server SERVICE_MODE=systemd UNIT_CONTENT="$UNIT" ENV_CONTENT="$ENVF"
  SYSTEMCTL="$FAKES/systemctl" FAKE_SYSTEMCTL_DIR="$SCD")

t "systemd: first run writes unit and 0600 env file, reloads, enables, restarts"
run_script service.sh "${sysd[@]}"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"service","host":"edge-s1","changed":true,"service":"k3s","mode":"systemd","action":"restarted"}'
assert_eq "$(cat "$ROOT/etc/systemd/system/k3s.service")x" "${UNIT}x"
assert_mode "$ROOT/etc/systemd/system/k3s.service.env" 600
assert_contains "$(cat "$SCD/calls")" "daemon-reload"
assert_contains "$(cat "$SCD/calls")" "enable k3s"
assert_contains "$(cat "$SCD/calls")" "restart k3s"

t "systemd: a re-run with nothing new neither rewrites nor restarts"
: >"$SCD/calls"
before=$(snapshot "$ROOT")
run_script service.sh "${sysd[@]}"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"service","host":"edge-s1","changed":false,"service":"k3s","mode":"systemd","action":"none"}'
assert_not_contains "$(cat "$SCD/calls")" "restart"
assert_not_contains "$(cat "$SCD/calls")" "daemon-reload"
assert_eq "$(snapshot "$ROOT")" "$before" "tree after re-run"

t "systemd: a config change (written by configure.sh) restarts without touching the unit"
printf '# changed\n' >>"$ROOT/etc/rancher/k3s/config.yaml"
: >"$SCD/calls"
run_script service.sh "${sysd[@]}"
assert_contains "$OUT" '"action":"restarted"'
assert_eq "$(grep -c . "$SCD/calls")" "$(grep -c -e 'is-enabled' -e 'is-active' -e 'restart' "$SCD/calls")" "only checks and a restart"
assert_not_contains "$(cat "$SCD/calls")" "daemon-reload"

t "systemd: a new agent token (agent-token-file, written by configure.sh) restarts; the same one again does not"
printf 'agenttok2\n' >"$ROOT/etc/rancher/k3s/edgefleet-agent-token"
: >"$SCD/calls"
run_script service.sh "${sysd[@]}"
assert_contains "$OUT" '"action":"restarted"'
: >"$SCD/calls"
run_script service.sh "${sysd[@]}"
assert_contains "$OUT" '"action":"none"'
assert_not_contains "$(cat "$SCD/calls")" "restart"

t "systemd: a stopped service is started even when nothing changed"
rm -f "$SCD/k3s.active"
run_script service.sh "${sysd[@]}"
assert_contains "$OUT" '"action":"restarted"'

t "systemd: K3s not installed is a clear error"
mv "$ROOT/usr/local/bin/k3s" "$ROOT/k3s.bak"
run_script service.sh "${sysd[@]}"
assert_eq "$STATUS" 1
assert_eq "$ERR" "service failed on edge-s1: k3s is not installed at /usr/local/bin/k3s (run install.sh first)"
mv "$ROOT/k3s.bak" "$ROOT/usr/local/bin/k3s"

SUP=$(strip_x "$(rendered supervisor-server)")
SUP=${SUP//\/__ROOT__/$ROOT}
KLOG="$ROOT/fakes/k3s-starts"
sup=(ROOT="$ROOT" HOST_NAME=edge-s1 ROLE=server SERVICE_MODE=supervise SUPERVISOR_CONTENT="$SUP" ENV_CONTENT="$ENVF"
  FAKE_K3S_LOG="$KLOG")
wait_for() { # seconds command...
  local n=$(($1 * 10))
  shift
  while [ "$n" -gt 0 ]; do
    if "$@"; then return 0; fi
    sleep 0.1
    n=$((n - 1))
  done
  return 1
}
starts() { grep -c '^start' "$KLOG" 2>/dev/null || true; }
started_more_than() { [ "$(starts)" -gt "$1" ]; }

t "supervise: starts the supervisor under its own pid file, which runs k3s server"
run_script service.sh "${sup[@]}" FAKE_K3S_EXIT_FIRST=1
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"service","host":"edge-s1","changed":true,"service":"k3s","mode":"supervise","action":"started"}'
pid=$(cat "$ROOT/run/k3s-supervise.pid")
kill -0 "$pid" || fail_test "supervisor not running"
assert_mode "$ROOT/etc/rancher/k3s/k3s.env" 600

t "supervise: k3s that exits is restarted, with both runs logged"
wait_for 10 started_more_than 1 || fail_test "k3s was not restarted (starts=$(starts))"
assert_eq "$(head -n1 "$KLOG")" "start server"
assert_contains "$(cat "$ROOT/var/log/k3s.log")" "k3s exited with status 3; restarting in 1s"

t "supervise: a re-run with nothing new leaves the running supervisor alone"
run_script service.sh "${sup[@]}"
assert_contains "$OUT" '"action":"none"'
assert_eq "$(cat "$ROOT/run/k3s-supervise.pid")" "$pid"

t "supervise: a config change restarts the supervisor and k3s"
n=$(starts)
printf '# changed again\n' >>"$ROOT/etc/rancher/k3s/config.yaml"
run_script service.sh "${sup[@]}"
assert_contains "$OUT" '"action":"restarted"'
new=$(cat "$ROOT/run/k3s-supervise.pid")
[ "$new" != "$pid" ] || fail_test "supervisor pid unchanged"
kill -0 "$pid" 2>/dev/null && fail_test "old supervisor still running"
wait_for 10 started_more_than "$n" || fail_test "k3s not started again"
grep -q '^stop' "$KLOG" || fail_test "old k3s was not stopped with TERM"

done_tests
