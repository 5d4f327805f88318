#!/usr/bin/env bash
# configure.sh: config files and the token file, written only when changed; the token never leaks.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
CONFIG=$(strip_x "$(rendered config-agent.yaml)")
SERVER_CONFIG=$(strip_x "$(rendered config-server.yaml)")
REG=$(strip_x "$(rendered registries.yaml)")
HASH=$(printf '%s' cluster-ca | sha256sum | cut -d' ' -f1)
# What an agent's token-file holds: the agent token, pinned to the cluster CA.
TOKEN="K10$HASH::node:s3cr3tAgentTokenValue"
token_file="$ROOT/etc/rancher/k3s/edgefleet-token"
agent_token_file="$ROOT/etc/rancher/k3s/edgefleet-agent-token"

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

t "an agent refuses the server token in the pinned form, without echoing it"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" EDGEFLEET_TOKEN="K10$HASH::server:s3cr3tServerToken"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-a1: the join token for token-file must be one line: the bare secret, or K10<sha256 of the cluster CA>::node:<secret>"
assert_eq "$(cat "$token_file")" rotated-token "token file after the refusal"

t "a token whose CA hash is not a sha256 is refused"
for bad in "K10abc::node:s3cr3tAgentTokenValue" "K10${HASH:1}::node:s3cr3tAgentTokenValue" "K10${HASH^^}::node:s3cr3tAgentTokenValue" \
  "K10$HASH::node:" "K10$HASH:node:s3cr3tAgentTokenValue" "s3cr3t:AgentTokenValue"; do
  run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" EDGEFLEET_TOKEN="$bad"
  assert_eq "$STATUS" 1 "status for a malformed token"
  assert_not_contains "$ERR" "s3cr3t"
done

t "an agent is given no agent token: its config has no agent-token-file"
run_script configure.sh ROOT="$ROOT" HOST_NAME=edge-a1 CONFIG_YAML="$CONFIG" EDGEFLEET_TOKEN="$TOKEN" EDGEFLEET_AGENT_TOKEN=s3cr3tAgentToken2
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-a1: an agent token was given but CONFIG_YAML has no agent-token-file (agents join with token-file only)"
assert_absent "$agent_token_file"

# A server: the first server holds the bare secrets, a joining one the pinned forms.
SROOT=$(new_root)
trap 'rm -rf "$ROOT" "$SROOT"' EXIT
s_token_file="$SROOT/etc/rancher/k3s/edgefleet-token"
s_agent_file="$SROOT/etc/rancher/k3s/edgefleet-agent-token"
SERVER_TOKEN=s3cr3tServerTokenValue
AGENT_TOKEN=s3cr3tAgentTokenValue
SPY="$SROOT/fakes"

t "a first server gets both files, 0600, and no token in any output, config.yaml or command line"
argv_spy "$SPY/bin" "$SPY/argv" stat cmp mkdir dirname mktemp chmod mv sed head tr rm
run_script configure.sh PATH="$SPY/bin:$PATH" ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_TOKEN="$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT_TOKEN"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":true,"files":["token","agent-token","config"]}'
assert_eq "$(cat "$s_token_file")" "$SERVER_TOKEN"
assert_eq "$(cat "$s_agent_file")" "$AGENT_TOKEN"
assert_mode "$s_token_file" 600
assert_mode "$s_agent_file" 600
assert_contains "$(cat "$SROOT/etc/rancher/k3s/config.yaml")" 'agent-token-file: "/etc/rancher/k3s/edgefleet-agent-token"'
assert_not_contains "$(cat "$SROOT/etc/rancher/k3s/config.yaml")" "s3cr3t" "a token in config.yaml"
assert_not_contains "$OUT$ERR" "s3cr3t" "a token in the output"
assert_contains "$(cat "$SPY/argv")" "mktemp " "the argv spy saw no call"
assert_not_contains "$(cat "$SPY/argv")" "s3cr3t" "a token on a command line"

t "the same tokens again change nothing, not even mtimes"
before=$(snapshot "$SROOT")
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_TOKEN="$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT_TOKEN"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":false,"files":[]}'
assert_eq "$(snapshot "$SROOT")" "$before" "tree after re-run"

t "a joining server takes both tokens pinned to the CA; a new agent token rewrites only its file"
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_TOKEN="K10$HASH::server:$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="K10$HASH::node:$AGENT_TOKEN"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"files":["token","agent-token"]'
assert_eq "$(cat "$s_agent_file")" "K10$HASH::node:$AGENT_TOKEN"
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_TOKEN="K10$HASH::server:$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="K10$HASH::node:s3cr3tAgentTokenRotated"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":true,"files":["agent-token"]}'
assert_eq "$(cat "$s_agent_file")" "K10$HASH::node:s3cr3tAgentTokenRotated"

t "without tokens a server keeps both files"
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"changed":false'

t "a server refuses an agent token equal to the server token, in either form, and writes nothing"
before=$(snapshot "$SROOT")
for pair in "$SERVER_TOKEN $SERVER_TOKEN" "K10$HASH::server:$SERVER_TOKEN K10$HASH::node:$SERVER_TOKEN"; do
  read -r tok agent <<<"$pair"
  run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" EDGEFLEET_TOKEN="$tok" EDGEFLEET_AGENT_TOKEN="$agent"
  assert_eq "$STATUS" 1
  assert_eq "$ERR" "configure failed on edge-s1: the agent token must differ from the server token: an agent holding it could join as a server"
done
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" EDGEFLEET_AGENT_TOKEN="K10$HASH::node:$SERVER_TOKEN"
assert_eq "$STATUS" 1 "an agent token equal to the server token already on the host"
assert_eq "$(snapshot "$SROOT")" "$before" "tree after the refusals"

t "a server refuses the server token as its agent token (the server form in agent-token-file)"
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_TOKEN="K10$HASH::server:$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="K10$HASH::server:s3cr3tOther"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s1: the agent token for agent-token-file must be one line: the bare secret, or K10<sha256 of the cluster CA>::node:<secret>"

t "a server with no agent token given and none present fails and writes no config"
S2=$(new_root)
run_script configure.sh ROOT="$S2" HOST_NAME=edge-s2 CONFIG_YAML="$SERVER_CONFIG" EDGEFLEET_TOKEN="$SERVER_TOKEN"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s2: no agent token given (EDGEFLEET_AGENT_TOKEN) and none present at /etc/rancher/k3s/edgefleet-agent-token"
assert_absent "$S2/etc/rancher/k3s/config.yaml"
rm -rf "$S2"

t "both tokens can come from stdin, one a line"
S3=$(new_root)
set +e
OUT=$(printf '%s\n%s\n' "$SERVER_TOKEN" "$AGENT_TOKEN" | env -i PATH="$PATH" ROOT="$S3" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" TOKEN_STDIN=1 bash "$SCRIPTS/configure.sh")
STATUS=$?
set -e
assert_eq "$STATUS" 0
assert_eq "$(cat "$S3/etc/rancher/k3s/edgefleet-token")" "$SERVER_TOKEN"
assert_eq "$(cat "$S3/etc/rancher/k3s/edgefleet-agent-token")" "$AGENT_TOKEN"
rm -rf "$S3"

t "one file for both tokens is refused"
run_script configure.sh ROOT="$SROOT" HOST_NAME=edge-s1 CONFIG_YAML="${SERVER_CONFIG//edgefleet-agent-token/edgefleet-token}" \
  EDGEFLEET_TOKEN="$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT_TOKEN"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s1: token-file and agent-token-file name the same file"

# Etcd snapshots to S3: the credentials go to a root-only drop-in K3s merges after config.yaml.
S3_CONFIG=$(strip_x "$(rendered config-server-s3.yaml)")
S3ROOT=$(new_root)
trap 'rm -rf "$ROOT" "$SROOT" "$S3ROOT"' EXIT
dropin="$S3ROOT/etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml"
S3_ACCESS=edgeAccessKeyId
S3_SECRET="s3cr3t/S3+Key'quoted"
S3SPY="$S3ROOT/fakes"

t "S3 credentials land in a 0600 drop-in, never in config.yaml, the output or a command line"
argv_spy "$S3SPY/bin" "$S3SPY/argv" stat cmp mkdir dirname mktemp chmod mv sed head tr rm grep
run_script configure.sh PATH="$S3SPY/bin:$PATH" ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_TOKEN="$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT_TOKEN" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY="$S3_SECRET"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":true,"files":["token","agent-token","s3-credentials","config"]}'
assert_mode "$dropin" 600
assert_eq "$(cat "$dropin")" "# Managed by Edgefleet (Pulumi). Mode 0600.
etcd-s3-access-key: 'edgeAccessKeyId'
etcd-s3-secret-key: 's3cr3t/S3+Key''quoted'"
assert_contains "$(cat "$S3ROOT/etc/rancher/k3s/config.yaml")" 'etcd-s3-bucket: "edge-snapshots"'
assert_not_contains "$(cat "$S3ROOT/etc/rancher/k3s/config.yaml")" "s3cr3t" "the S3 secret in config.yaml"
assert_not_contains "$(cat "$S3ROOT/etc/rancher/k3s/config.yaml")" "$S3_ACCESS" "the S3 access key in config.yaml"
assert_not_contains "$OUT$ERR" "s3cr3t" "the S3 secret in the output"
assert_contains "$(cat "$S3SPY/argv")" "mktemp " "the argv spy saw no call"
assert_not_contains "$(cat "$S3SPY/argv")" "s3cr3t" "the S3 secret on a command line"
assert_not_contains "$(cat "$S3SPY/argv")" "$S3_ACCESS" "the S3 access key on a command line"

t "the same credentials again change nothing, not even mtimes; a loosened mode is put back"
before=$(snapshot "$S3ROOT")
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY="$S3_SECRET"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":false,"files":[]}'
assert_eq "$(snapshot "$S3ROOT")" "$before" "tree after re-run"
chmod 0644 "$dropin"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY="$S3_SECRET"
assert_contains "$OUT" '"files":["s3-credentials"]'
assert_mode "$dropin" 600

t "a rotated secret key rewrites the drop-in; none given keeps it"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY=s3cr3tRotated
assert_contains "$OUT" '"files":["s3-credentials"]'
assert_contains "$(cat "$dropin")" "etcd-s3-secret-key: 's3cr3tRotated'"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"changed":false'
assert_contains "$(cat "$dropin")" "s3cr3tRotated"

t "half the credentials, or a secret with a space, are refused before anything is written"
before=$(snapshot "$S3ROOT")
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" EDGEFLEET_S3_SECRET_KEY=s3cr3tOnly \
  EDGEFLEET_TOKEN=s3cr3tNewServerToken
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s1: the S3 access key and secret key for etcd snapshots must both be given, each one line without spaces"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY="s3cr3t with space"
assert_eq "$STATUS" 1
assert_not_contains "$ERR" "s3cr3t" "the refused secret in the message"
assert_eq "$(snapshot "$S3ROOT")" "$before" "tree after the refusals"

t "S3 on and no credentials anywhere fails and writes no config"
S4=$(new_root)
run_script configure.sh ROOT="$S4" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" \
  EDGEFLEET_TOKEN="$SERVER_TOKEN" EDGEFLEET_AGENT_TOKEN="$AGENT_TOKEN"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s1: CONFIG_YAML uploads etcd snapshots to S3 (etcd-s3: true) but no S3 credentials were given (EDGEFLEET_S3_ACCESS_KEY, EDGEFLEET_S3_SECRET_KEY) and none are present at /etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml"
assert_absent "$S4/etc/rancher/k3s/config.yaml"

t "the credentials can come from stdin (lines 3 and 4) when the file is run directly"
set +e
OUT=$(printf '%s\n%s\n%s\n%s\n' "$SERVER_TOKEN" "$AGENT_TOKEN" "$S3_ACCESS" s3cr3tFromStdin |
  env -i PATH="$PATH" ROOT="$S4" HOST_NAME=edge-s1 CONFIG_YAML="$S3_CONFIG" TOKEN_STDIN=1 bash "$SCRIPTS/configure.sh")
STATUS=$?
set -e
assert_eq "$STATUS" 0
assert_contains "$(cat "$S4/etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml")" "etcd-s3-secret-key: 's3cr3tFromStdin'"
rm -rf "$S4"

t "S3 turned off removes the drop-in; credentials given without etcd-s3 are refused"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"configure","host":"edge-s1","changed":true,"files":["s3-credentials","config"]}'
assert_absent "$dropin"
run_script configure.sh ROOT="$S3ROOT" HOST_NAME=edge-s1 CONFIG_YAML="$SERVER_CONFIG" \
  EDGEFLEET_S3_ACCESS_KEY="$S3_ACCESS" EDGEFLEET_S3_SECRET_KEY="$S3_SECRET"
assert_eq "$STATUS" 1
assert_eq "$ERR" "configure failed on edge-s1: S3 credentials were given but CONFIG_YAML does not set etcd-s3: true"
assert_absent "$dropin"

done_tests
