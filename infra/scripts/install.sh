#!/usr/bin/env bash
# install.sh: air-gapped K3s install from artifacts already staged on the host.
# Verifies every staged artifact against its expected sha256 BEFORE touching
# anything; installs each one only when the installed copy differs; the host
# needs no network. Replacing a running binary is a rename, never an
# overwrite in place ("text file busy").
#
# Environment (inputs):
#   HOST_NAME          required  inventory name, used in every message
#   K3S_SHA256         required  expected sha256 of the k3s binary
#   IMAGES_FILE        required  file name of the images tarball, e.g. k3s-airgap-images-amd64.tar.zst
#   IMAGES_SHA256      required  expected sha256 of that tarball
#   WASM_SHIM_SHA256   optional  expected sha256 of containerd-shim-wasmedge-v1; empty = no Wasm
#                                (a shim this script installed earlier is then removed)
#   STAGING_DIR        optional  where the artifacts were uploaded (default /var/lib/edgefleet/staging);
#                                files: k3s, $IMAGES_FILE, containerd-shim-wasmedge-v1
#   STAGING_MODE       optional  what happens to staged files after a successful install:
#                                link (default): each becomes a hard link to the installed file (no extra
#                                  disk; HostCommand's upload sees a matching sha256 next time and skips it;
#                                  removed instead when staging and target are on different filesystems)
#                                remove: deleted;  keep: left as uploaded
#                                With `link`, uploads must replace staged files by rename (HostCommand
#                                does: temp file + mv), never write into them (cp would edit the
#                                installed file through the link).
#   BIN_DIR            optional  default /usr/local/bin (install.sh's default)
#   SHIM_DIR           optional  default /usr/local/bin; K3s finds runtimes on the service's PATH
#   IMAGES_DIR         optional  default /var/lib/rancher/k3s/agent/images (K3s imports tarballs there at start)
#   CHECK_ONLY         optional  1 = only report which artifacts must be staged; install nothing
#   HOST_DIRS          optional  directories workloads mount from this node (hostPath), one per line
#                                "<mode> <uid>:<gid> <absolute path>" (renderHostDirectories), e.g. the
#                                factory tracker's SQLite directory: each is created, or its owner and mode
#                                corrected; its content is never touched. Recorded in
#                                /var/lib/edgefleet/host-dirs, which uninstall.sh reads.
#   ROOT               optional  path prefix for every path (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout; failure: one line on stderr, exit 1.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${K3S_SHA256:?K3S_SHA256 is required}"
: "${IMAGES_FILE:?IMAGES_FILE is required}"
: "${IMAGES_SHA256:?IMAGES_SHA256 is required}"
ROOT="${ROOT:-}"
WASM_SHIM_SHA256="${WASM_SHIM_SHA256:-}"
STAGING="$ROOT${STAGING_DIR:-/var/lib/edgefleet/staging}"
BIN="$ROOT${BIN_DIR:-/usr/local/bin}"
SHIM_D="$ROOT${SHIM_DIR:-/usr/local/bin}"
IMAGES_D="$ROOT${IMAGES_DIR:-/var/lib/rancher/k3s/agent/images}"
STATE_DIR="$ROOT/var/lib/edgefleet"
SHIM_NAME=containerd-shim-wasmedge-v1

fail() {
  printf 'install failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

case "$IMAGES_FILE" in */* | .* | "") fail "IMAGES_FILE must be a plain file name, got '$IMAGES_FILE'" ;; esac
for s in "$K3S_SHA256" "$IMAGES_SHA256" ${WASM_SHIM_SHA256:+"$WASM_SHIM_SHA256"}; do
  [[ "$s" =~ ^[0-9a-f]{64}$ ]] || fail "expected checksum '$s' is not a lowercase sha256 hex digest"
done
host_dirs=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  if ! [[ "$line" =~ ^0?[0-7]{3}\ [0-9]+:[0-9]+\ (/[A-Za-z0-9._/-]+)$ ]]; then
    fail "HOST_DIRS line '$line' is not '<mode> <uid>:<gid> <absolute path>'"
  fi
  path=${BASH_REMATCH[1]}
  case "$path/" in //* | */../* | */./* | *//*) fail "HOST_DIRS path '$path' is not a plain absolute path" ;; esac
  if [ -L "$ROOT$path" ] || { [ -e "$ROOT$path" ] && [ ! -d "$ROOT$path" ]; }; then
    fail "$path exists and is not a directory; move it away so that $path can be created"
  fi
  host_dirs+=("$line")
done <<<"${HOST_DIRS:-}"

sum_of() { # file -> sha256 or empty when absent
  if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; fi
}

# name|staged path|installed path|expected sum|mode
artifacts=(
  "k3s|$STAGING/k3s|$BIN/k3s|$K3S_SHA256|0755"
  "images|$STAGING/$IMAGES_FILE|$IMAGES_D/$IMAGES_FILE|$IMAGES_SHA256|0644"
)
if [ -n "$WASM_SHIM_SHA256" ]; then
  artifacts+=("wasmShim|$STAGING/$SHIM_NAME|$SHIM_D/$SHIM_NAME|$WASM_SHIM_SHA256|0755")
fi

# --- pass 1: decide and verify, change nothing ---
todo=()
needs=()
declare -A state=()
for a in "${artifacts[@]}"; do
  IFS='|' read -r name staged target want _mode <<<"$a"
  if [ "$(sum_of "$target")" = "$want" ]; then
    state[$name]=unchanged
    continue
  fi
  needs+=("$name")
  [ "${CHECK_ONLY:-0}" = 1 ] && continue
  [ -f "$staged" ] || fail "$name is not installed at the expected version and was not staged at ${staged#"$ROOT"}"
  got=$(sum_of "$staged")
  if [ "$got" != "$want" ]; then
    fail "sha256 mismatch for $name (staged ${staged#"$ROOT"}): expected $want, got $got; nothing was installed"
  fi
  todo+=("$a")
done

if [ "${CHECK_ONLY:-0}" = 1 ]; then
  list=""
  if [ "${#needs[@]}" -gt 0 ]; then list=$(printf '"%s",' "${needs[@]}"); fi
  printf 'EDGEFLEET_RESULT {"script":"install","host":"%s","checkOnly":true,"needs":[%s]}\n' "$HOST_NAME" "${list%,}"
  exit 0
fi

# --- pass 2: install (same-directory temp file, then rename) ---
mkdir -p "$STATE_DIR"
for a in "${todo[@]}"; do
  IFS='|' read -r name staged target want mode <<<"$a"
  dir=$(dirname "$target")
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.edgefleet-$name.XXXXXX")
  cp "$staged" "$tmp"
  if [ "$(sum_of "$tmp")" != "$want" ]; then
    rm -f "$tmp"
    fail "copy of $name to ${dir#"$ROOT"} does not match its sha256 (disk full or failing?)"
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$target"
  state[$name]=installed
done

# kubectl/crictl/ctr as links to k3s, as K3s's install.sh does, but never over an existing command
for cmd in kubectl crictl ctr; do
  if [ ! -e "$BIN/$cmd" ] && [ ! -L "$BIN/$cmd" ]; then ln -s k3s "$BIN/$cmd"; fi
done

# Workload directories: a pod's hostPath of type Directory fails while one is
# missing, and one the kubelet would create is root-owned, so they exist before
# the node runs any pod. Recorded even when they already existed: uninstall
# removes them as K3s's uninstall removes its local volumes.
dirs_state=""
if [ "${#host_dirs[@]}" -gt 0 ]; then
  dirs_state=unchanged
  mkdir -p "$STATE_DIR"
  for line in "${host_dirs[@]}"; do
    read -r mode owner path <<<"$line"
    dir="$ROOT$path"
    if [ ! -d "$dir" ]; then
      mkdir -p "$dir"
      dirs_state=changed
    fi
    if [ "$(stat -c '%u:%g %a' "$dir")" != "$owner ${mode#0}" ]; then
      chown "$owner" "$dir"
      chmod "$mode" "$dir"
      dirs_state=changed
    fi
    grep -qxF "$path" "$STATE_DIR/host-dirs" 2>/dev/null || printf '%s\n' "$path" >>"$STATE_DIR/host-dirs"
  done
fi

# Record what we own so uninstall removes exactly that
shim_state=absent
if [ -n "$WASM_SHIM_SHA256" ]; then
  shim_state=${state[wasmShim]}
  [ -f "$STATE_DIR/wasm-shim.installed" ] || : >"$STATE_DIR/wasm-shim.installed"
elif [ -f "$STATE_DIR/wasm-shim.installed" ]; then
  rm -f "$SHIM_D/$SHIM_NAME" "$STATE_DIR/wasm-shim.installed"
  shim_state=removed
fi

case "${STAGING_MODE:-link}" in
  keep) ;;
  remove)
    rm -f "$STAGING/k3s" "$STAGING/$IMAGES_FILE" "$STAGING/$SHIM_NAME"
    rmdir "$STAGING" 2>/dev/null || true
    ;;
  link)
    mkdir -p "$STAGING"
    for a in "${artifacts[@]}"; do
      IFS='|' read -r _name staged target _want _mode <<<"$a"
      if [ "$staged" -ef "$target" ]; then continue; fi
      rm -f "$staged"
      ln "$target" "$staged" 2>/dev/null || true
    done
    if [ -z "$WASM_SHIM_SHA256" ]; then rm -f "$STAGING/$SHIM_NAME"; fi
    rmdir "$STAGING" 2>/dev/null || true
    ;;
  *) fail "STAGING_MODE must be link, remove or keep, got '${STAGING_MODE}'" ;;
esac

changed=false
if [ "${#todo[@]}" -gt 0 ] || [ "$shim_state" = removed ] || [ "$dirs_state" = changed ]; then changed=true; fi
printf 'EDGEFLEET_RESULT {"script":"install","host":"%s","changed":%s,"k3s":"%s","images":"%s","wasmShim":"%s"%s}\n' \
  "$HOST_NAME" "$changed" "${state[k3s]}" "${state[images]}" "$shim_state" "${dirs_state:+,\"hostDirs\":\"$dirs_state\"}"
