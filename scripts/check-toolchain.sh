#!/usr/bin/env bash
# Asserts that the tools on PATH are the pinned ones (run after bootstrap):
# what each binary says of itself, and which module versions it was built from
# (`go version -m` reads the build info Go embeds in every binary).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
set -a
# shellcheck disable=SC1091
. "$repo/tools/versions.env"
set +a

fail=0
expect() { # expect <what> <wanted> <got>
  if [ "$2" = "$3" ]; then echo "ok   $1 $3"; else echo "FAIL $1: want $2, got $3"; fail=1; fi
}
built_from() { # built_from <binary or path> <module>: the module's version in the binary's build info
  local bin=$1
  [ -x "$bin" ] || bin=$(command -v "$1")
  go version -m "$bin" | awk -v m="$2" '($1 == "dep" || $1 == "mod") && $2 == m { print $3 }'
}
expect node "v$NODE_VERSION" "$(node --version)"
expect pulumi "v$PULUMI_VERSION" "$(pulumi version)"
if [ "${EDGEFLEET_PULUMI:-built}" = built ]; then
  # Built here: the build info says which modules went in.
  expect "pulumi-language-nodejs (sdk module)" "v$PULUMI_LANGUAGE_NODEJS_VERSION" \
    "$(built_from pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3)"
  expect "pulumi-resource-kubernetes (provider module)" "$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" \
    "$(built_from "$PULUMI_HOME/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)"
fi
plugins=$(pulumi plugin ls --json)
expect "plugin kubernetes" "$PULUMI_KUBERNETES_VERSION" \
  "$(node -e 'const p=JSON.parse(process.argv[1]).find(x=>x.name==="kubernetes"&&x.kind==="resource");console.log(p?p.version:"missing")' "$plugins")"
if [ "${EDGEFLEET_PULUMI:-built}" = built ] && [ "${EDGEFLEET_PULUMI_LOGS:-}" != 1 ]; then
  # The commands above ran the CLI; it wrote no automatic log (tools/bootstrap.sh says why).
  if [ -d "$PULUMI_HOME/logs" ]; then echo "FAIL pulumi wrote automatic logs into $PULUMI_HOME/logs"; fail=1; else echo "ok   pulumi automatic logs off"; fi
fi
expect opa "Version: $OPA_VERSION" "$(opa version | head -n1)"
expect gator "v$GATEKEEPER_VERSION" "$(built_from gator github.com/open-policy-agent/gatekeeper/v3)"
expect kwok "v$KWOK_VERSION" "$(built_from kwok sigs.k8s.io/kwok)"
expect actionlint "v$ACTIONLINT_VERSION" "$(actionlint -version | head -n1)"
for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl pulumi-resource-pulumi-nodejs pulumi-analyzer-policy; do
  if command -v "$tool" >/dev/null; then echo "ok   $tool"; else echo "FAIL $tool not on PATH"; fail=1; fi
done
exit $fail
