#!/usr/bin/env bash
# Installs what test/unit/components/realPrograms.test.ts runs: the Debian packages in
# components/test-deps.txt, and promtool built from Prometheus v2.53.3 (the image's release).
#
# Why promtool is built: Debian bookworm's promtool 2.42 is compiled without Kubernetes
# service discovery and rejects every `kubernetes_sd_configs` ("field not found"), so it
# cannot check the config we render. The Go module proxy holds
# github.com/prometheus/prometheus v0.53.3 (= Prometheus 2.53.3).
# Idempotent: skips what is already present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${EDGEFLEET_COMPONENTS_BIN:-$HOME/.cache/edgefleet/components-bin}"
prom_module_version="v0.53.3"

mapfile -t pkgs < <(grep -Ev '^\s*(#|$)' "$here/test-deps.txt")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # Services stay stopped: the tests start their own instances on free loopback ports.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ -x "$bin_dir/promtool" ]] && "$bin_dir/promtool" --version >/dev/null 2>&1; then
  echo "promtool present in $bin_dir"
  exit 0
fi
command -v go >/dev/null || { echo "go is required to build promtool" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Prometheus's go.mod replaces klog; a wrapper module must repeat that (go install pkg@v refuses).
cat >"$work/go.mod" <<MOD
module edgefleet.local/promtool

go 1.22

require github.com/prometheus/prometheus $prom_module_version

replace (
	k8s.io/klog => github.com/simonpasquier/klog-gokit v0.3.0
	k8s.io/klog/v2 => github.com/simonpasquier/klog-gokit/v3 v3.3.0
)
MOD
cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
GO
mkdir -p "$bin_dir"
(cd "$work" && GOSUMDB=off GOFLAGS=-mod=mod go mod tidy && GOSUMDB=off GOFLAGS=-mod=mod go build -o "$bin_dir/promtool" github.com/prometheus/prometheus/cmd/promtool)
echo "built $bin_dir/promtool"
