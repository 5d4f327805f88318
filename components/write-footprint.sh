#!/usr/bin/env bash
# Regenerates components/FOOTPRINT.md from the rendered manifests.
# Compiles footprint.ts and its imports (only those, so an unrelated broken file elsewhere cannot
# block this) into a temporary directory with tsc, and runs it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$repo"
npx tsc --strict --target es2022 --module commonjs --moduleResolution node --esModuleInterop \
  --skipLibCheck --types node --outDir "$out" --rootDir "$repo" components/footprint.ts
NODE_PATH="$repo/node_modules" node "$out/components/footprint.js" "$repo/components/FOOTPRINT.md"
echo "wrote components/FOOTPRINT.md"
