#!/usr/bin/env bash
# preview-all.sh [stack...]: scripts/preview-stack.sh, i.e. `pulumi preview
# --policy-pack policies/crossguard`, for each example stack (default: every
# stacks/Pulumi.*.yaml but the lab), offline, on throwaway local state: the
# same per-stack command the pull-request workflow runs in its matrix. Exits
# non-zero if any preview fails or a mandatory policy is violated.
#
# Needs: the pulumi CLI and its plugins on PATH (eval "$(tools/bootstrap.sh --env)"),
# Node 24, node_modules. PULUMI_CONFIG_PASSPHRASE defaults to the example
# stacks' public passphrase, edgefleet-example.
# SUMMARY_FILE=<path> also writes the Markdown summary (the PR comment's format).
# PREVIEW_BACKEND_URL=<url> previews against that backend's existing stacks
# instead (see preview-stack.sh).
#
# preview-all.sh --summary <dir>: prints the summary of the per-stack files
# preview-stack.sh wrote to <dir> (SUMMARY_DIR), and runs nothing; the PR
# workflow's comment is made this way from its matrix jobs' files.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

summarize() { # summarize <dir>: details after all rows, since a Markdown table ends at its first non-row line
  local f files=()
  for f in "$1"/*.md; do [ -f "$f" ] && files+=("$f"); done
  echo "### pulumi preview (policy pack policies/crossguard)"
  echo
  if [ ${#files[@]} -eq 0 ]; then
    echo "No preview left a summary; see the workflow log."
    return
  fi
  echo "| stack | state | result | wall | changes |"
  echo "|---|---|---|---|---|"
  for f in "${files[@]}"; do head -n 1 "$f"; done
  for f in "${files[@]}"; do tail -n +2 "$f"; done
}

if [ "${1:-}" = --summary ]; then
  [ $# -eq 2 ] || { echo "usage: preview-all.sh --summary <dir>" >&2; exit 2; }
  summarize "$2"
  exit 0
fi

command -v pulumi >/dev/null || { echo "preview-all: pulumi is not on PATH; run: eval \"\$(tools/bootstrap.sh --env)\"" >&2; exit 1; }
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-edgefleet-example}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The pinned language host (v3.68, tools/README.md) cannot start a policy pack
# itself; the pack's launcher runs it as an analyzer plugin. With a current
# Pulumi install, POLICY_PACK=policies/crossguard works as well.
export POLICY_PACK=${POLICY_PACK:-policies/crossguard/analyzer}

if [ $# -gt 0 ]; then stacks=("$@"); else
  stacks=()
  for f in stacks/Pulumi.*.yaml; do
    s=${f#stacks/Pulumi.}; s=${s%.yaml}
    [ "$s" = lab ] || stacks+=("$s")
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
for stack in "${stacks[@]}"; do
  SUMMARY_DIR="$work/summary" scripts/preview-stack.sh "$stack" || failed+=("$stack")
done

summarize "$work/summary" >"$work/summary.md"
if [ -n "${SUMMARY_FILE:-}" ]; then cp "$work/summary.md" "$SUMMARY_FILE"; fi
echo
cat "$work/summary.md"
if [ ${#failed[@]} -gt 0 ]; then
  echo "preview-all: failed: ${failed[*]}" >&2
  exit 1
fi
