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
node_bin=
for d in "$node_dir"/node_modules/node-*/bin; do [ -x "$d/node" ] && node_bin=$d; done
if [ -z "$node_bin" ]; then
  log "installing Node.js $NODE_VERSION from the npm registry"
  node_bin=$("$here/install-node.sh" "$node_dir") || die "Node.js $NODE_VERSION could not be installed (see above)"
fi

# --- Go tools ----------------------------------------------------------------
# Each tools/go/<tool>/ is a wrapper module with a build.sh OUT_DIR that knows
# the tool's packages, tags and version ldflags.
# Longest build first, so the short ones fill the other core at the end
# instead of one long build running alone (BENCHMARKS.md, cold bootstrap).
TOOLS=(kubernetes kube pulumi promtool language-nodejs actionlint)
# EDGEFLEET_PULUMI=installed: the Pulumi CLI, its language host and the
# kubernetes plugin come from an ordinary install (pulumi/actions on GitHub's
# runners, get.pulumi.com on a workstation) at the pinned version, with plugin
# downloads on; only the test and lab tools are built. The default, offline,
# builds all of them (no release downloads on air-gapped machines).
pulumi_from=${EDGEFLEET_PULUMI:-built}
case $pulumi_from in
  built) ;;
  installed)
    TOOLS=(kube promtool actionlint)
    command -v pulumi >/dev/null || die "EDGEFLEET_PULUMI=installed, but pulumi is not on PATH"
    [ "$(pulumi version)" = "v$PULUMI_VERSION" ] ||
      die "EDGEFLEET_PULUMI=installed: pulumi on PATH is $(pulumi version), the pin is v$PULUMI_VERSION (tools/versions.env)"
    ;;
  *) die "EDGEFLEET_PULUMI must be 'built' (default) or 'installed'" ;;
esac

keyof() { # keyof <tool>: hash of the pins its build.sh reads, the Go version and the wrapper's files
  (
    cd "$here"
    grep -o '[A-Z][A-Z_]*_VERSION' "go/$1/build.sh" | sort -u | while read -r v; do echo "$v=${!v}"; done
    go env GOVERSION
    find "go/$1" -type f | LC_ALL=C sort | xargs sha256sum
  ) | sha256sum | cut -c1-16
}

# No DWARF: every binary is linked with -s -w anyway, so generating it per
# package is compile time spent on nothing.
export GOFLAGS="-mod=readonly -gcflags=all=-dwarf=false"
export CGO_ENABLED=0
# The public checksum database does not answer for every module this project
# needs; each wrapper commits a complete go.sum, which go verifies instead.
export GONOSUMDB="*"

# Downloads overlap compiles: while one tool compiles (CPU-bound), the modules
# of the tools still to build are fetched in the background (network-bound),
# each once, into the shared module cache.
prefetch() {
  for tool in "$@"; do
    # shellcheck disable=SC2046
    (cd "$here/go/$tool" && go list -e -deps $(sed -n 's/.*_ "\([^"]*\)".*/\1/p' tools.go) >/dev/null 2>&1) || true
  done
}
todo=()
for tool in "${TOOLS[@]}"; do
  [ -f "$cache/tools/$tool-$(keyof "$tool")/.complete" ] || todo+=("$tool")
done
prefetch_pid=
if [ ${#todo[@]} -gt 1 ]; then
  prefetch "${todo[@]:1}" &
  prefetch_pid=$!
fi

# build_tool <tool> <key>: one tool into its cache folder, its output in a log
# beside it (builds run side by side, so their output would interleave).
build_tool() {
  local tool=$1 key=$2 out tmp start
  out="$cache/tools/$tool-$key"
  tmp="$out.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/src" "$tmp/bin"
  # Build from a copy: generated files never land in the checkout.
  cp -R "$here/go/$tool/." "$tmp/src/"
  start=$(date +%s)
  if ! (cd "$tmp/src" && ./build.sh "$tmp/bin") >"$out.log" 2>&1; then
    return 1
  fi
  echo "$(($(date +%s) - start))" >"$tmp/build-seconds"
  rm -rf "$tmp/src"
  touch "$tmp/.complete"
  rm -rf "$out" && mv "$tmp" "$out" && mv "$out.log" "$out/build.log"
  log "built $tool in $(cat "$out/build-seconds") s"
  # Builds of this tool at older pins are dead weight (hundreds of MB each).
  for old in "$cache/tools/$tool"-*; do
    case $old in "$out" | *.tmp.* | *.log) ;; *) [ -f "$old/.complete" ] && rm -rf "$old" ;; esac
  done
}

# Two builds at a time by default: one Go build leaves a core idle while it
# loads packages and links (single-threaded), and two fill those gaps.
jobs_max=${EDGEFLEET_BUILD_JOBS:-2}
[[ $jobs_max =~ ^[1-9][0-9]*$ ]] || die "EDGEFLEET_BUILD_JOBS must be a positive integer"
built=() pids=() names=()
for tool in "${TOOLS[@]}"; do
  key=$(keyof "$tool")
  out="$cache/tools/$tool-$key"
  built+=("$out/bin")
  [ -f "$out/.complete" ] && continue
  # The prefetch is a background job too, but holds no build slot.
  while [ "$(jobs -rp | grep -cvxF "${prefetch_pid:-none}")" -ge "$jobs_max" ]; do wait -n || true; done
  log "building $tool (key $key); minutes the first time, then cached (log: $out.log)"
  build_tool "$tool" "$key" &
  pids+=($!) names+=("$tool")
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
if [ ${#failed[@]} -gt 0 ]; then
  for tool in "${failed[@]}"; do
    echo "bootstrap: $tool: build failed; the end of its log:" >&2
    tail -n 40 "$cache/tools/$tool-$(keyof "$tool").log" >&2 || true
  done
  [ -z "$prefetch_pid" ] || kill "$prefetch_pid" 2>/dev/null || true
  die "build failed for: ${failed[*]} (nothing of theirs was installed)"
fi

[ -z "$prefetch_pid" ] || wait "$prefetch_pid" || true

# --- Assemble the toolchain ----------------------------------------------------
chain_key=$(printf '%s\n' "${built[@]}" "$NODE_VERSION" "$pulumi_from" | sha256sum | cut -c1-16)
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

if [ "$pulumi_from" = installed ]; then
  # The ordinary way: Pulumi's own plugin cache, the plugin downloaded at the
  # version @pulumi/kubernetes names.
  pulumi plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" >&2
  if [ "$mode" = "--env" ]; then
    cat <<EOF
export PATH="$chain/bin:\$PATH"
export EDGEFLEET_PULUMI=installed
export EDGEFLEET_TOOLS_BIN="$chain/bin"
EOF
  else
    log "toolchain ready: $chain/bin (Pulumi: the installed $(pulumi version))"
  fi
  exit 0
fi

export PULUMI_HOME="$cache/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
k8s_plugin=$(printf '%s\n' "${built[@]}" | grep '/kubernetes-')/pulumi-resource-kubernetes
if ! cmp -s "$k8s_plugin" "$PULUMI_HOME/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes"; then
  "$chain/bin/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$k8s_plugin" --reinstall >&2
fi

# Pulumi writes every command's debug log, gzipped and encrypted, into
# PULUMI_HOME/logs, unconditionally since v3.2xx (pulumi/pulumi#23731; no
# setting turns it off): on a no-op pass over the lab that was 8 MB and about
# 1.9 s of the CLI's 4 s of CPU, half of it on the engine's one step-generating
# thread (BENCHMARKS.md, "Program start and the engine's own logs"). With a
# file where that folder would be, the CLI notes "automatic logging
# unavailable" and goes on. EDGEFLEET_PULUMI_LOGS=1 keeps the logs (for
# `pulumi logs share` with Pulumi's support). A user's own ~/.pulumi
# (EDGEFLEET_PULUMI=installed) is never touched.
if [ "${EDGEFLEET_PULUMI_LOGS:-}" = 1 ]; then
  [ ! -f "$PULUMI_HOME/logs" ] || rm -f "$PULUMI_HOME/logs"
elif [ ! -f "$PULUMI_HOME/logs" ]; then
  rm -rf "$PULUMI_HOME/logs"
  echo "Pulumi's automatic logs are off in this PULUMI_HOME (tools/bootstrap.sh; EDGEFLEET_PULUMI_LOGS=1 keeps them)" >"$PULUMI_HOME/logs"
fi

# NODE_COMPILE_CACHE: V8's compiled code of every module any Node process
# loads, kept between runs (Node checks each file's content, so an edit never
# runs stale code). The program turns it on for itself (start.js); this also
# covers what starts before it, the language host's run.js and the
# dynamic-provider process, which load @pulumi/pulumi on every pass.
# PULUMI_NODEJS_TRANSPILE_ONLY: for the projects that still run under the
# language host's ts-node (the integration tests' fixtures and the policy
# pack; the program itself starts through start.js). Their Pulumi.yaml's
# `tsconfig` option (tsconfig.pulumi.json, noCheck) says the same to a
# current language host; the pinned v3.68 host predates it, so it is told
# through the environment, which it hands to the program.
if [ "$mode" = "--env" ]; then
  cat <<EOF
export PATH="$chain/bin:\$PATH"
export PULUMI_HOME="$PULUMI_HOME"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=false
export PULUMI_NODEJS_TRANSPILE_ONLY=true
export NODE_COMPILE_CACHE="$cache/node-compile-cache"
export EDGEFLEET_TOOLS_BIN="$chain/bin"
EOF
else
  log "toolchain ready: $chain/bin"
fi
