#!/usr/bin/env bash
# Builds every tool Edgefleet runs, from the pins in tools/versions.env and the
# wrapper modules in tools/go/, into a cache outside the checkout:
#
#   ${EDGEFLEET_CACHE:-$HOME/.cache/edgefleet}/
#     node/<version>/            Node.js from the npm registry's `node` package
#     tools/<tool>-<key>/bin/    one folder per tool, keyed by its pins
#     toolchain/<key>/bin/       the assembled PATH entry (links into tools/)
#     pulumi-home/               PULUMI_HOME: plugins installed from our builds
#
# A tool is rebuilt only when its key (a hash of versions.env and its wrapper
# folder) changes, so a second run takes seconds. Nothing is downloaded but Go
# modules (through GOPROXY) and npm packages; no release binary is fetched.
#
# Usage: tools/bootstrap.sh [--quiet]     builds what is missing
#        eval "$(tools/bootstrap.sh --env)" builds, then prints exports
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${EDGEFLEET_CACHE:-$HOME/.cache/edgefleet}
mode=${1:-}
set -a
# shellcheck disable=SC1091
. "$here/versions.env"
set +a

log() { if [ "$mode" != "--env" ] && [ "$mode" != "--quiet" ]; then echo "bootstrap: $*" >&2; fi; }
die() { echo "bootstrap: error: $*" >&2; exit 1; }

command -v go >/dev/null || die "Go is not installed; install Go >= 1.25 (Debian: golang, or go.dev)"
mkdir -p "$cache/tools" "$cache/toolchain"
# One bootstrap at a time per cache; a build cut short leaves only a .tmp
# folder, which the next run clears.
exec 9>"$cache/.lock"
flock 9
rm -rf "$cache"/tools/*.tmp.* "$cache"/node/*.tmp

# --- Node.js -----------------------------------------------------------------
node_dir="$cache/node/$NODE_VERSION"
node_bin="$node_dir/node_modules/node/bin"
if [ ! -x "$node_bin/node" ]; then
  log "installing Node.js $NODE_VERSION from the npm registry"
  command -v npm >/dev/null || die "npm is needed once to fetch Node.js $NODE_VERSION (apt-get install npm)"
  rm -rf "$node_dir.tmp"
  # The `node` package ships the binary itself; its install script only
  # re-links it, so scripts stay off (npm >= 11 would not run them anyway).
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$node_dir.tmp" "node@$NODE_VERSION" >&2
  "$node_dir.tmp/node_modules/node/bin/node" --version >/dev/null || die "the node@$NODE_VERSION package gave no working binary"
  rm -rf "$node_dir" && mv "$node_dir.tmp" "$node_dir"
fi

# --- Go tools ----------------------------------------------------------------
# Each tools/go/<tool>/ is a wrapper module with a build.sh OUT_DIR that knows
# the tool's packages, tags and version ldflags.
TOOLS=(pulumi language-nodejs kubernetes opa gator actionlint promtool kwok etcd kube)

keyof() { # keyof <tool>: hash of the pins its build.sh reads, the Go version and the wrapper's files
  (
    cd "$here"
    grep -o '[A-Z][A-Z_]*_VERSION' "go/$1/build.sh" | sort -u | while read -r v; do echo "$v=${!v}"; done
    go env GOVERSION
    find "go/$1" -type f | LC_ALL=C sort | xargs sha256sum
  ) | sha256sum | cut -c1-16
}

export GOFLAGS="-mod=readonly"
export CGO_ENABLED=0
# The public checksum database does not answer for every module this project
# needs; each wrapper commits a complete go.sum, which go verifies instead.
export GONOSUMDB="*"

built=()
for tool in "${TOOLS[@]}"; do
  key=$(keyof "$tool")
  out="$cache/tools/$tool-$key"
  built+=("$out/bin")
  [ -f "$out/.complete" ] && continue
  log "building $tool (key $key); minutes the first time, then cached"
  tmp="$out.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/src" "$tmp/bin"
  # Build from a copy: generated files never land in the checkout.
  cp -R "$here/go/$tool/." "$tmp/src/"
  start=$(date +%s)
  (cd "$tmp/src" && ./build.sh "$tmp/bin") >&2 || die "$tool: build failed (see above); nothing was installed"
  echo "$(($(date +%s) - start))" >"$tmp/build-seconds"
  rm -rf "$tmp/src"
  touch "$tmp/.complete"
  rm -rf "$out" && mv "$tmp" "$out"
  # Builds of this tool at older pins are dead weight (hundreds of MB each).
  for old in "$cache/tools/$tool"-*; do
    case $old in "$out" | *.tmp.*) ;; *) [ -f "$old/.complete" ] && rm -rf "$old" ;; esac
  done
done

# --- Assemble the toolchain ----------------------------------------------------
chain_key=$(printf '%s\n' "${built[@]}" "$NODE_VERSION" | sha256sum | cut -c1-16)
chain="$cache/toolchain/$chain_key"
if [ ! -f "$chain/.complete" ]; then
  rm -rf "$chain" && mkdir -p "$chain/bin"
  # Hard links, not symlinks: the CLI looks for its bundled plugins (the
  # language host, the dynamic-provider script) next to its own resolved path.
  # Resource plugins are installed into PULUMI_HOME instead (below), where the
  # engine expects them; on PATH they would shadow the plugin cache.
  for d in "${built[@]}"; do
    for f in "$d"/*; do
      case $(basename "$f") in pulumi-resource-kubernetes) continue ;; esac
      ln -f "$f" "$chain/bin/" 2>/dev/null || cp -f "$f" "$chain/bin/"
    done
  done
  ln -sf "$node_bin/node" "$chain/bin/node"
  touch "$chain/.complete"
fi

export PULUMI_HOME="$cache/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
k8s_plugin=$(printf '%s\n' "${built[@]}" | grep '/kubernetes-')/pulumi-resource-kubernetes
if ! cmp -s "$k8s_plugin" "$PULUMI_HOME/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes"; then
  "$chain/bin/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$k8s_plugin" --reinstall >&2
fi

if [ "$mode" = "--env" ]; then
  cat <<EOF
export PATH="$chain/bin:\$PATH"
export PULUMI_HOME="$PULUMI_HOME"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=false
export EDGEFLEET_TOOLS_BIN="$chain/bin"
export EDGEFLEET_GATEKEEPER_MANIFEST="$chain/bin/gatekeeper-v$GATEKEEPER_VERSION.yaml"
EOF
else
  log "toolchain ready: $chain/bin"
fi
