#!/usr/bin/env bash
# save-bootstrap.sh: the request that makes K3s save its bootstrap data
# (PUT /v1-k3s/token with the token it already has), through a stand-in
# kubectl; the token reaches 0600 files only, never a command line.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/var/lib/rancher/k3s/server/tls" "$ROOT/tmp" "$ROOT/fakes"
printf -- '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' >"$ROOT/var/lib/rancher/k3s/server/tls/server-ca.crt"
SECRET=s3cr3tServerTokenValue
CAPTURE="$ROOT/fakes/kubectl"
# The stand-in keeps its command line and what the files it was given held, with their modes.
cat >"$ROOT/fakes/kubectl.sh" <<'FAKE'
#!/usr/bin/env bash
set -euo pipefail
mkdir -p "$CAPTURE"
printf '%s\n' "$*" >>"$CAPTURE/argv"
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) cp "$2" "$CAPTURE/kubeconfig"; stat -c %a "$2" >"$CAPTURE/kubeconfig.mode"; shift ;;
    -f) cp "$2" "$CAPTURE/body"; stat -c %a "$2" >"$CAPTURE/body.mode"; shift ;;
  esac
  shift
done
if [ "${FAKE_KUBECTL_FAIL:-0}" = 1 ]; then echo "Error from server (InternalError): token error ID 4242" >&2; exit 1; fi
FAKE
chmod +x "$ROOT/fakes/kubectl.sh"
run=(ROOT="$ROOT" HOST_NAME=edge-s3 TMPDIR="$ROOT/tmp" CAPTURE="$CAPTURE" KUBECTL="$ROOT/fakes/kubectl.sh")

t "asks K3s to rotate to the token it has: kubeconfig and body in 0600 files, the token on no command line"
run_script save-bootstrap.sh "${run[@]}" EDGEFLEET_TOKEN="$SECRET"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_eq "$OUT" 'EDGEFLEET_RESULT {"script":"save-bootstrap","host":"edge-s3","changed":true}'
assert_contains "$(cat "$CAPTURE/argv")" " replace --raw /v1-k3s/token -f "
assert_not_contains "$(cat "$CAPTURE/argv")" "$SECRET" "the token on kubectl's command line"
assert_eq "$(cat "$CAPTURE/body")" "{\"newToken\":\"$SECRET\"}"
assert_eq "$(cat "$CAPTURE/body.mode")" 600 "mode of the body file"
assert_eq "$(cat "$CAPTURE/kubeconfig.mode")" 600 "mode of the kubeconfig"
kc=$(cat "$CAPTURE/kubeconfig")
assert_contains "$kc" 'server: "https://127.0.0.1:6443"'
assert_contains "$kc" "certificate-authority: \"$ROOT/var/lib/rancher/k3s/server/tls/server-ca.crt\""
assert_contains "$kc" "username: server"
assert_contains "$kc" "password: \"$SECRET\""
assert_not_contains "$OUT$ERR" "$SECRET" "the token in the output"
assert_eq "$(find "$ROOT/tmp" -mindepth 1 | wc -l)" 0 "files left in TMPDIR"

t "a refused request fails with K3s's answer and leaves no file behind"
run_script save-bootstrap.sh "${run[@]}" EDGEFLEET_TOKEN="$SECRET" FAKE_KUBECTL_FAIL=1
assert_eq "$STATUS" 1
assert_eq "$ERR" "save-bootstrap failed on edge-s3: K3s did not save its bootstrap data (PUT /v1-k3s/token): Error from server (InternalError): token error ID 4242"
assert_eq "$(find "$ROOT/tmp" -mindepth 1 | wc -l)" 0 "files left in TMPDIR"

t "no token, or one in the pinned form, is refused before any request"
rm -rf "$CAPTURE"
run_script save-bootstrap.sh "${run[@]}"
assert_eq "$ERR" "save-bootstrap failed on edge-s3: no server token given (EDGEFLEET_TOKEN)"
run_script save-bootstrap.sh "${run[@]}" EDGEFLEET_TOKEN="K10$(printf x | sha256sum | cut -d' ' -f1)::server:$SECRET"
assert_eq "$STATUS" 1
assert_eq "$ERR" "save-bootstrap failed on edge-s3: the server token must be the bare secret (letters and digits)"
assert_absent "$CAPTURE"

t "a host that is not a K3s server is refused"
rm -f "$ROOT/var/lib/rancher/k3s/server/tls/server-ca.crt"
run_script save-bootstrap.sh "${run[@]}" EDGEFLEET_TOKEN="$SECRET"
assert_eq "$STATUS" 1
assert_eq "$ERR" "save-bootstrap failed on edge-s3: /var/lib/rancher/k3s/server/tls/server-ca.crt is missing; is K3s running as a server here?"
assert_absent "$CAPTURE"

done_tests
