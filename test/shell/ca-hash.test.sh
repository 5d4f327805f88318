#!/usr/bin/env bash
# ca-hash.sh: the cluster CA hash from the token file K3s writes, checked
# against server-ca.crt; the server token in that file is never printed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
server="$ROOT/var/lib/rancher/k3s/server"
mkdir -p "$server/tls"
cert() { printf -- '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' "$1"; }
cert MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVy >"$server/tls/server-ca.crt"
HASH=$(sha256sum "$server/tls/server-ca.crt" | cut -d' ' -f1)
SECRET=s3cr3tServerTokenValue
printf 'K10%s::server:%s\n' "$HASH" "$SECRET" >"$server/token"
SPY="$ROOT/fakes"

t "prints the hash K3s wrote, which is the sha256 of its one-certificate CA, and never the token"
argv_spy "$SPY/bin" "$SPY/argv" sha256sum grep cut sleep
run_script ca-hash.sh PATH="$SPY/bin:$PATH" ROOT="$ROOT" HOST_NAME=edge-s1
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" "EDGEFLEET_RESULT {\"script\":\"ca-hash\",\"host\":\"edge-s1\",\"changed\":false,\"caHash\":\"$HASH\"}"
assert_not_contains "$OUT$ERR" "$SECRET" "the token in the output"
assert_contains "$(cat "$SPY/argv")" "sha256sum " "the argv spy saw no call"
assert_not_contains "$(cat "$SPY/argv")" "$SECRET" "the token on a command line"

t "a token file whose hash is not the CA's sha256 is refused"
printf 'K10%s::server:%s\n' "$(printf other | sha256sum | cut -d' ' -f1)" "$SECRET" >"$server/token"
run_script ca-hash.sh ROOT="$ROOT" HOST_NAME=edge-s1
assert_eq "$STATUS" 1
assert_eq "$ERR" "ca-hash failed on edge-s1: the CA hash in /var/lib/rancher/k3s/server/token is not the sha256 of /var/lib/rancher/k3s/server/tls/server-ca.crt; they are not from one cluster CA"
assert_eq "$OUT" ""

t "with a custom CA chain (more than one certificate) the hash K3s wrote is taken as it is"
# K3s then hashes the root's DER, not the file (pkg/clientaccess hashCA).
{ cert intermediate; cert root; } >"$server/tls/server-ca.crt"
ROOT_HASH=$(printf root-der | sha256sum | cut -d' ' -f1)
printf 'K10%s::server:%s\n' "$ROOT_HASH" "$SECRET" >"$server/token"
run_script ca-hash.sh ROOT="$ROOT" HOST_NAME=edge-s1
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" "\"caHash\":\"$ROOT_HASH\""

t "a token file without a CA hash is refused without echoing it"
for bad in "$SECRET" "K10::server:$SECRET" "K10abc::server:$SECRET" "K10$ROOT_HASH:server:$SECRET" "K10${ROOT_HASH^^}::server:$SECRET"; do
  printf '%s\n' "$bad" >"$server/token"
  run_script ca-hash.sh ROOT="$ROOT" HOST_NAME=edge-s1
  assert_eq "$STATUS" 1 "status for a token file holding a malformed token"
  assert_eq "$ERR" "ca-hash failed on edge-s1: /var/lib/rancher/k3s/server/token does not hold a token of the form K10<sha256 of the cluster CA>::<credentials>"
  assert_not_contains "$OUT$ERR" "$SECRET"
done

t "no token file (K3s not started) fails once the wait is over"
rm -f "$server/token"
run_script ca-hash.sh ROOT="$ROOT" HOST_NAME=edge-s1 TIMEOUT_SECONDS=0
assert_eq "$STATUS" 1
assert_eq "$ERR" "ca-hash failed on edge-s1: K3s wrote no /var/lib/rancher/k3s/server/token within 0s; is this a server that has started?"

done_tests
