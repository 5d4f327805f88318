#!/usr/bin/env bash
# The one test command (README: `make test`). Sets up what is missing (Debian
# packages, node_modules, the pinned toolchain), then runs every check and
# exits non-zero if any failed. The last line is "test: N passed, M failed"
# (", K not run" added when a group could not run here; the lines above it say why).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/deps.sh
eval "$(tools/bootstrap.sh --env)"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}

passed=0 failed=0 failures=() not_run=()
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check() { # check <name> <command...>: one pass or fail
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

jest_project() { # jest_project <project> [jest args...]: counts each jest test
  local project=$1 json="$out/jest-$1.json" rc=0
  local label=${JEST_LABEL:-jest $project}
  echo "== $label"
  npx jest --selectProjects "$project" "${@:2}" --json --outputFile="$json" || rc=$?
  if [ -s "$json" ]; then
    local p f
    p=$(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests)' "$json")
    f=$(node -e 'const r=require(process.argv[1]);console.log(r.numFailedTests+r.numRuntimeErrorTestSuites)' "$json")
    passed=$((passed + p)) failed=$((failed + f))
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then failures+=("$label"); fi
    if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then failed=$((failed + 1)); fi
  else
    failed=$((failed + 1)); failures+=("$label (no report)")
  fi
}

check "Node.js install from an empty npm cache" bash test/toolchain/install-node.test.sh
check "toolchain versions" scripts/check-toolchain.sh
check "typecheck" npx tsc --noEmit -p tsconfig.json
check "lint" npx eslint .
check "format" npx prettier --check "**/*.ts"
jest_project unit
check "lab hosts and control plane (test/lab/lab.sh)" env EF_LAB_BIN="$EDGEFLEET_TOOLS_BIN" bash test/lab/lab.sh
check "preview example stacks" scripts/preview-all.sh
# In band: the lab tests share one bridge (efbr0), so they take turns.
jest_project integration --runInBand
# The lab again through @pulumi/command (README "Host transports"), where an
# ordinary Pulumi install holds its plugins; this toolchain cannot build them.
if bash scripts/standard-transport.sh home "$out/pulumi-home-standard" 2>"$out/why"; then
  PULUMI_HOME="$out/pulumi-home-standard" EDGEFLEET_HOST_TRANSPORT=command JEST_LABEL="jest integration (lab region, @pulumi/command)" \
    jest_project integration --runInBand test/integration/lab.test.ts
else
  not_run+=("lab region through @pulumi/command (test/integration/lab.test.ts): $(cat "$out/why")")
fi

if [ ${#not_run[@]} -gt 0 ]; then printf 'not run: %s\n' "${not_run[@]}"; fi
if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "test: $passed passed, $failed failed${not_run:+, ${#not_run[@]} not run}"
[ "$failed" -eq 0 ]
