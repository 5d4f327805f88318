#!/usr/bin/env bash
# configure.sh: config files and the token file, written only when changed; the token never leaks.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
CONFIG=$(strip_x "$(rendered config-agent.yaml)")
REG=$(strip_x "$(rendered registries.yaml)")
TOKEN='K10abc::server:s3cr3t-Token-Value'
token_file="$ROOT/etc/rancher/k3s/edgefleet-token"

t "a first run without any token fails and writes nothing"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-a1: no join token given (EDGEFLEET_TOKEN) and none present at /etc/rancher/k3s/edgefleet-token"
assert_absent "$ROOT/etc/rancher/k3s/config.yaml"

t "writes config, registries and a 0600 token file; the token is not in any output"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" REGISTRIES_YAML="$REG" EDGEFLEET_TOKEN="$TOKEN"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-a1","changed":true,"files":["token","config","registries"]}'
assert_eq "$(cat "$token_file")" "$TOKEN"
assert_mode "$token_file" 600
assert_mode "$ROOT/etc/rancher/k3s/config.yaml" 600
assert_mode "$ROOT/etc/rancher/k3s/registries.yaml" 600
assert_eq "$(cat "$ROOT/etc/rancher/k3s/config.yaml")x" "${CONFIG}x" "config content"
assert_not_contains "$OUT$ERR" "s3cr3t" "token leaked to output"
assert_not_contains "$(cat "$ROOT/etc/rancher/k3s/config.yaml")" "s3cr3t" "token in config.yaml"

t "the same inputs again change nothing, not even mtimes"
before=$(snapshot "$ROOT")
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" REGISTRIES_YAML="$REG" EDGEFLEET_TOKEN="$TOKEN"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-a1","changed":false,"files":[]}'
assert_eq "$(snapshot "$ROOT")" "$before" "tree after re-run"

t "without a token the existing token file is kept"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"changed":false'
assert_eq "$(cat "$token_file")" "$TOKEN"

t "the token can come from stdin when the file is run directly"
set +e
OUT=$(printf 'rotated-token\n' | env -i PATH="$PATH" ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" TOKEN_STDIN=1 bash "$SCRIPTS/configure.sh")
STATUS=$?
set -e
assert_eq "$STATUS" 0
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-a1","changed":true,"files":["token"]}'
assert_eq "$(cat "$token_file")" rotated-token

t "a loosened mode is put back"
chmod 0644 "$token_file"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" EDGEFLEET_TOKEN=rotated-token
assert_contains "$OUT" '"files":["token"]'
assert_mode "$token_file" 600

t "an empty REGISTRIES_YAML removes the file; unset leaves it alone"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" REGISTRIES_YAML=""
assert_contains "$OUT" '"files":["registries"]'
assert_absent "$ROOT/etc/rancher/k3s/registries.yaml"

t "kernel settings are written (not applied under ROOT)"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" SYSCTL_CONF="$(strip_x "$(rendered sysctl.conf)")"
assert_contains "$OUT" '"files":["sysctl"]'
assert_contains "$(cat "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf")" "vm.overcommit_memory=1"

SYSCTLS=$(strip_x "$(rendered sysctl.conf)")
overcommit="$ROOT/proc/sys/vm/overcommit_memory"

t "a sysctl -p that fails after the file was written is retried by the next run"
rm -f "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf"
run_script configure.sh PATH="$FAKES:$PATH" FAKE_SYSCTL_FAIL=1 APPLY_SYSCTL=1 ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" SYSCTL_CONF="$SYSCTLS"
assert_eq "$STATUS" 1
# The kernel's own reason, then ours.
assert_eq "$ERR" "sysctl: permission denied on key 'vm.overcommit_memory'
configure failed on edge-a1: could not apply kernel settings from /etc/sysctl.d/90-edgefleet-k3s.conf"
assert_file "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf"
run_script configure.sh PATH="$FAKES:$PATH" APPLY_SYSCTL=1 ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" SYSCTL_CONF="$SYSCTLS"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"files":["sysctl"]'
assert_eq "$(cat "$overcommit")" 1 "vm.overcommit_memory after the retry"

t "kernel settings that hold are left alone"
run_script configure.sh PATH="$FAKES:$PATH" FAKE_SYSCTL_FAIL=1 APPLY_SYSCTL=1 ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" SYSCTL_CONF="$SYSCTLS"
assert_eq "$STATUS" 0 "exit status ($ERR): sysctl must not run when the values hold"
assert_contains "$OUT" '"changed":false'

t "a setting changed on the host since is put back"
echo 0 >"$overcommit"
run_script configure.sh PATH="$FAKES:$PATH" APPLY_SYSCTL=1 ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" SYSCTL_CONF="$SYSCTLS"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"files":["sysctl"]'
assert_eq "$(cat "$overcommit")" 1

t "a config without token-file is refused"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML='node-name: "x"' EDGEFLEET_TOKEN=t
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-a1: CONFIG_YAML has no token-file entry; the token must live in a root-only file"

t "a multi-line token is refused without echoing it"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" EDGEFLEET_TOKEN=$'line1 s3cr3t\nline2'
assert_eq "$STATUS" 1
assert_not_contains "$ERR" "s3cr3t"

done_tests
