#!/usr/bin/env bash
# Regenerates components/FOOTPRINT.md from the rendered manifests.
# Runs footprint.ts in place through the project's TypeScript hook
# (policies/scripts/ts-register.js: transpiles what it loads, checks no types),
# so only footprint.ts and its imports are read, and the Gatekeeper manifest
# is found under the project's artifacts/ as the program finds it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
node -r ./policies/scripts/ts-register.js components/footprint.ts "$repo/components/FOOTPRINT.md"
echo "wrote components/FOOTPRINT.md"
