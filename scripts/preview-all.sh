#!/usr/bin/env bash
# preview-all.sh [stack...]: `pulumi preview --policy-pack policies/crossguard`
# for each example stack (default: every stacks/Pulumi.*.yaml but the lab),
# offline, on a throwaway local backend, exactly as the pull-request workflow
# runs it. Exits non-zero if any preview fails or a mandatory policy is
# violated.
#
# Needs: the pulumi CLI and its plugins on PATH (eval "$(tools/bootstrap.sh --env)"),
# Node 24, node_modules. PULUMI_CONFIG_PASSPHRASE defaults to the example
# stacks' public passphrase, edgefleet-example.
# SUMMARY_FILE=<path> also writes a Markdown summary (the PR comment).
# PREVIEW_BACKEND_URL=<url> previews against that backend's existing stacks
# (CI with real state) instead of a throwaway local one.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v pulumi >/dev/null || { echo "preview-all: pulumi is not on PATH; run: eval \"\$(tools/bootstrap.sh --env)\"" >&2; exit 1; }
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-edgefleet-example}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The pinned language host (v3.68, tools/README.md) cannot start a policy pack
# itself; the pack's launcher runs it as an analyzer plugin. With a current
# Pulumi install, POLICY_PACK=policies/crossguard works as well.
POLICY_PACK=${POLICY_PACK:-policies/crossguard/analyzer}

if [ $# -gt 0 ]; then stacks=("$@"); else
  stacks=()
  for f in stacks/Pulumi.*.yaml; do
    s=${f#stacks/Pulumi.}; s=${s%.yaml}
    [ "$s" = lab ] || stacks+=("$s")
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A backend of its own unless told otherwise: previews never touch the operator's state.
mkdir -p "$work/state"
export PULUMI_BACKEND_URL="${PREVIEW_BACKEND_URL:-file://$work/state}"

failed=()
summary="$work/summary.md"
{
  echo "### pulumi preview (policy pack policies/crossguard)"
  echo
  echo "| stack | result | changes |"
  echo "|---|---|---|"
} >"$summary"

for stack in "${stacks[@]}"; do
  echo "== preview $stack"
  log="$work/$stack.log"
  rc=0
  {
    pulumi stack select "$stack" --non-interactive 2>/dev/null || pulumi stack init "$stack" --non-interactive
    scripts/inventory/run-ts.sh scripts/inventory/config-size.ts "stacks/Pulumi.$stack.yaml"
    scripts/inventory/run-ts.sh scripts/inventory/policy-config.ts "stacks/Pulumi.$stack.yaml" >"$work/$stack.policy.json"
    pulumi preview --stack "$stack" --non-interactive --suppress-progress --color never \
      --policy-pack "$POLICY_PACK" --policy-pack-config "$work/$stack.policy.json"
  } >"$log" 2>&1 || rc=$?
  cat "$log"
  changes=$(sed -n '/^Resources:/,/^$/p' "$log" | { grep -E '^\s+[-+~]?\s*[0-9]+ ' || true; } | sed -E 's/^\s+//' | paste -sd ';' - | sed 's/;/; /g')
  if [ "$rc" -eq 0 ]; then result=passed; else result="**failed**"; failed+=("$stack"); fi
  echo "| \`$stack\` | $result | ${changes:-n/a} |" >>"$summary"
  if [ "$rc" -ne 0 ]; then
    {
      echo
      echo "<details><summary>$stack: last lines</summary>"
      echo
      echo '```'
      tail -n 40 "$log"
      echo '```'
      echo "</details>"
    } >>"$work/details.md"
  fi
done

[ -f "$work/details.md" ] && cat "$work/details.md" >>"$summary"
if [ -n "${SUMMARY_FILE:-}" ]; then cp "$summary" "$SUMMARY_FILE"; fi
echo
cat "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "preview-all: failed: ${failed[*]}" >&2
  exit 1
fi
