#!/usr/bin/env bash
# Regenerates components/FOOTPRINT.md from the rendered manifests.
# Compiles the project into a temporary directory (tsc, no extra runner) and runs footprint.js.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$repo"
npx tsc -p tsconfig.json --outDir "$out" --sourceMap false
NODE_PATH="$repo/node_modules" node "$out/components/footprint.js" "$repo/components/FOOTPRINT.md"
echo "wrote components/FOOTPRINT.md"
