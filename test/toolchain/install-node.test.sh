#!/usr/bin/env bash
# The Node.js install as a fresh machine does it: tools/install-node.sh into an
# empty folder with an empty npm cache, then the binary must run at the pin.
# Cheap (one 30 MB package), and it is the step that broke `make lab` on a new
# machine while every warm cache hid it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC1091
. "$repo/tools/versions.env"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$(npm_config_cache="$work/npm-cache" "$repo/tools/install-node.sh" "$work/node")
got=$("$bin/node" --version)
if [ "$got" != "v$NODE_VERSION" ]; then
  echo "install-node: got $got from $bin/node, want v$NODE_VERSION" >&2
  exit 1
fi
[ -z "$(ls -A "$work/npm-cache/_cacache" 2>/dev/null)" ] && { echo "install-node: the npm cache stayed empty: nothing was fetched?" >&2; exit 1; }
echo "install-node: v$NODE_VERSION from an empty npm cache at $bin"
