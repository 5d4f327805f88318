#!/usr/bin/env bash
# ca-hash.sh: the cluster CA hash, as K3s computes it, from the first server
# once K3s runs there. Joining servers and agents get tokens of the form
# K10<hash>::<user>:<secret>, which make K3s refuse a server whose CA differs
# (infra/K3S-NOTES.md §8).
#
# The hash is read from the token file K3s writes at every start,
# <data-dir>/server/token = K10<hash>::server:<secret> (pkg/server: the server
# token formatted with the CA file's hash). That is K3s's own hash: the sha256
# of server-ca.crt's bytes for K3s's self-signed CA, the DER of the root for a
# custom CA chain. When server-ca.crt holds one certificate, its sha256 must
# agree, a check that the file is the cluster's. Only the hash is printed;
# the secret after it is never echoed, logged or put on a command line.
#
# Environment (inputs):
#   HOST_NAME        required  inventory name, used in every message
#   DATA_DIR         optional  K3s data dir, default /var/lib/rancher/k3s
#   TIMEOUT_SECONDS  optional  how long to wait for the token file, default 300
#   ROOT             optional  path prefix for every path (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {"script":"ca-hash",...,"caHash":"<64 hex>"}` on stdout.
set -euo pipefail
set +x

: "${HOST_NAME:?HOST_NAME is required}"
ROOT="${ROOT:-}"
DATA_DIR="${DATA_DIR:-/var/lib/rancher/k3s}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-300}"
token_file="$ROOT$DATA_DIR/server/token"
ca_file="$ROOT$DATA_DIR/server/tls/server-ca.crt"

fail() {
  printf 'ca-hash failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

deadline=$((SECONDS + TIMEOUT_SECONDS))
until [ -s "$token_file" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "K3s wrote no ${token_file#"$ROOT"} within ${TIMEOUT_SECONDS}s; is this a server that has started?"
  fi
  sleep 2
done

line=""
IFS= read -r line <"$token_file" || true
hash=${line#K10}
hash=${hash%%::*}
# Without the K10 prefix, or without a hash of the right length, there is nothing to pin.
if [ "${line:0:3}" != K10 ] || [[ ! "$hash" =~ ^[0-9a-f]{64}$ ]] || [ "${line#K10"$hash"::}" = "$line" ]; then
  line=""
  fail "${token_file#"$ROOT"} does not hold a token of the form K10<sha256 of the cluster CA>::<credentials>"
fi
line=""

if [ -f "$ca_file" ] && [ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$ca_file")" = 1 ]; then
  file_hash=$(sha256sum "$ca_file" | cut -d' ' -f1)
  [ "$file_hash" = "$hash" ] ||
    fail "the CA hash in ${token_file#"$ROOT"} is not the sha256 of ${ca_file#"$ROOT"}; they are not from one cluster CA"
fi

printf 'EDGEFLEET_RESULT {"script":"ca-hash","host":"%s","changed":false,"caHash":"%s"}\n' "$HOST_NAME" "$hash"
