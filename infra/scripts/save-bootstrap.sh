#!/usr/bin/env bash
# save-bootstrap.sh: have K3s save this server's bootstrap data to the
# datastore, after the servers restarted with a new agent token.
#
# Why (infra/K3S-NOTES.md §8): K3s keeps cred/passwd, where the agent token is
# the password of its `node` user, in the bootstrap data it stores encrypted in
# the datastore. At every start it compares that data with the files on disk
# and refuses to start when a file on disk differs and is newer ("... newer
# than datastore and could cause a cluster outage"). A server started with a
# new agent-token-file rewrites cred/passwd, but at start K3s saves its data
# only when the datastore holds none (cluster.Save without override), so the
# datastore keeps the old file and the server's next restart fails. The one
# request that saves with override is the server-token rotation, PUT
# /v1-k3s/token, which `k3s token rotate` sends; asking it to rotate to the
# token the cluster already has changes no token and saves the data.
#
# Run it on the server restarted last, whose cred/passwd is the newest: the
# others then find theirs older than the datastore's and take it.
# `k3s token rotate` would put the new token on its command line (its
# --new-token has no environment variable), so the request goes through the
# bundled kubectl instead, from a root-only kubeconfig and body file.
#
# Environment (inputs):
#   HOST_NAME        required  inventory name, used in every message
#   EDGEFLEET_TOKEN  secret    the bare server token (HostCommand secretEnvironment)
#   SERVER_URL       optional  this server's supervisor, default https://127.0.0.1:6443
#   DATA_DIR         optional  K3s data dir, default /var/lib/rancher/k3s
#   KUBECTL          optional  kubectl command, default "<ROOT>/usr/local/bin/k3s kubectl"
#   ROOT             optional  path prefix for every path (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout.
set -euo pipefail
set +x

: "${HOST_NAME:?HOST_NAME is required}"
ROOT="${ROOT:-}"
DATA_DIR="${DATA_DIR:-/var/lib/rancher/k3s}"
SERVER_URL="${SERVER_URL:-https://127.0.0.1:6443}"
read -r -a kubectl <<<"${KUBECTL:-$ROOT/usr/local/bin/k3s kubectl}"
ca_file="$ROOT$DATA_DIR/server/tls/server-ca.crt"

fail() {
  printf 'save-bootstrap failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

token=${EDGEFLEET_TOKEN:-}
unset EDGEFLEET_TOKEN
[ -n "$token" ] || fail "no server token given (EDGEFLEET_TOKEN)"
[[ "$token" =~ ^[A-Za-z0-9]+$ ]] || fail "the server token must be the bare secret (letters and digits)"
[ -s "$ca_file" ] || fail "${ca_file#"$ROOT"} is missing; is K3s running as a server here?"

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-bootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Written by printf, a shell builtin, into 0600 files: the token reaches files only, never argv.
{
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: "%s"\n    certificate-authority: "%s"\n' \
    "$SERVER_URL" "$ca_file"
  printf 'users:\n- name: server\n  user:\n    username: server\n    password: "%s"\n' "$token"
  printf 'contexts:\n- name: local\n  context:\n    cluster: local\n    user: server\ncurrent-context: local\n'
} >"$work/kubeconfig"
printf '{"newToken":"%s"}' "$token" >"$work/body.json"
token=""

if ! out=$("${kubectl[@]}" --kubeconfig "$work/kubeconfig" replace --raw /v1-k3s/token -f "$work/body.json" 2>&1); then
  fail "K3s did not save its bootstrap data (PUT /v1-k3s/token): ${out:-no output}"
fi

printf 'EDGEFLEET_RESULT {"script":"save-bootstrap","host":"%s","changed":true}\n' "$HOST_NAME"
