#!/usr/bin/env bash
# Asserts that the tools on PATH are the pinned ones (run after bootstrap).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
set -a; . "$repo/tools/versions.env"; set +a

fail=0
expect() { # expect <what> <wanted> <got>
  if [ "$2" = "$3" ]; then echo "ok   $1 $3"; else echo "FAIL $1: want $2, got $3"; fail=1; fi
}
expect node "v$NODE_VERSION" "$(node --version)"
expect pulumi "v$PULUMI_VERSION" "$(pulumi version)"
expect pulumi-language-nodejs "v$PULUMI_LANGUAGE_NODEJS_VERSION" \
  "$(pulumi plugin ls --json 2>/dev/null >/dev/null; pulumi-language-nodejs -version 2>/dev/null || true)"
plugins=$(pulumi plugin ls --json)
expect "plugin kubernetes" "$PULUMI_KUBERNETES_VERSION" \
  "$(node -e 'const p=JSON.parse(process.argv[1]).find(x=>x.name==="kubernetes"&&x.kind==="resource");console.log(p?p.version:"missing")' "$plugins")"
for tool in opa gator kwok actionlint; do
  command -v "$tool" >/dev/null && echo "ok   $tool $(command -v "$tool")" || { echo "FAIL $tool not on PATH"; fail=1; }
done
exit $fail
