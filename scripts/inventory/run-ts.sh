#!/usr/bin/env bash
# run-ts.sh <script.ts> [args...]: runs one of the inventory tools with the
# project's Node (24+, for type stripping and module.registerHooks) and no
# build step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 24 ]; then
  echo "run-ts.sh: Node $(node --version) is too old; put Node 24 first on PATH (tools/bootstrap.sh --env)" >&2
  exit 1
fi
exec node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON --disable-warning=ExperimentalWarning \
  --import "$here/ts-resolve.mjs" "$@"
