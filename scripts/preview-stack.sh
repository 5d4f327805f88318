#!/usr/bin/env bash
# preview-stack.sh <stack>: the one per-stack preview, shared by
# scripts/preview-all.sh (a loop over stacks, `make test`) and the pull-request
# workflow (one matrix job per stack), so both run the same commands: the
# config-size check, the stack's policy-pack config, then
# `pulumi preview --policy-pack policies/crossguard --policy-pack-config ...`.
#
# State: PREVIEW_BACKEND_URL=<url> previews against the stack's real state
# there (real diffs; the version guard compares with what is deployed). A
# stack that backend does not have yet (a new region) and every stack without
# PREVIEW_BACKEND_URL get throwaway state in a temp dir: a preview never
# creates a stack in, or reads, the operator's own backend.
#
# POLICY_PACK: the pack as the CLI on PATH can start it; default
# policies/crossguard (any current Pulumi). The pinned toolchain's language
# host cannot, so its callers pass policies/crossguard/analyzer (see
# policies/README.md, "Running the pack").
# SUMMARY_DIR=<dir>: also writes <dir>/<stack>.md, line 1 the stack's summary
# table row, then on failure the log's last lines; preview-all.sh --summary
# <dir> turns a folder of them into the PR comment.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: preview-stack.sh <stack>" >&2; exit 2; }
stack=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ -f "stacks/Pulumi.$stack.yaml" ] || { echo "preview-stack: no stacks/Pulumi.$stack.yaml" >&2; exit 2; }
command -v pulumi >/dev/null || { echo "preview-stack: pulumi is not on PATH (install Pulumi, or: eval \"\$(tools/bootstrap.sh --env)\")" >&2; exit 1; }
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-edgefleet-example}
export PULUMI_SKIP_UPDATE_CHECK=true
policy_pack=${POLICY_PACK:-policies/crossguard}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/preview.log"

echo "== preview $stack"
rc=0
# Every step checks its own status: errexit is off inside a `{ } || rc=$?` group.
started=$SECONDS
{
  # The stack file first: a YAML error or an oversized config is named here
  # (file, line, column), before any backend is touched.
  scripts/inventory/run-ts.sh scripts/inventory/config-size.ts "stacks/Pulumi.$stack.yaml" || exit 1
  state=throwaway
  if [ -n "${PREVIEW_BACKEND_URL:-}" ]; then
    export PULUMI_BACKEND_URL=$PREVIEW_BACKEND_URL
    if pulumi stack select "$stack" --non-interactive 2>"$work/select.err"; then
      state=real
    elif grep -q "no stack named" "$work/select.err"; then
      # Creating it in the shared backend is the deploy's job, after review.
      echo "preview-stack: $stack is not in the backend yet; previewing it on empty state"
      state="new (empty)"
    else
      # An unreachable backend or bad credentials must not pass as an all-create diff.
      cat "$work/select.err"
      exit 1
    fi
  fi
  echo "$state" >"$work/state.txt"
  if [ "$state" != real ]; then
    mkdir -p "$work/state"
    export PULUMI_BACKEND_URL="file://$work/state"
    pulumi stack init "$stack" --non-interactive || exit 1
  fi
  # The standard transport needs the command and random plugins. With plugin
  # downloads (an ordinary install) the CLI fetches them; offline without them
  # the stack is previewed with the built-in transport instead, and says so.
  config=()
  if [ "${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-}" = true ] && ! scripts/standard-transport.sh available; then
    config=(--config-file "$work/Pulumi.$stack.yaml")
    scripts/standard-transport.sh fallback "stacks/Pulumi.$stack.yaml" "$work/Pulumi.$stack.yaml" || exit 1
  fi
  scripts/inventory/run-ts.sh scripts/inventory/policy-config.ts "stacks/Pulumi.$stack.yaml" >"$work/policy.json" &&
    pulumi preview --stack "$stack" "${config[@]}" --non-interactive --suppress-progress --color never \
      --policy-pack "$policy_pack" --policy-pack-config "$work/policy.json"
} 2>&1 | tee "$log" || rc=$?

if [ -n "${SUMMARY_DIR:-}" ]; then
  mkdir -p "$SUMMARY_DIR"
  state=$(cat "$work/state.txt" 2>/dev/null || echo "n/a")
  changes=$(sed -n '/^Resources:/,/^$/p' "$log" | { grep -E '^\s+[-+~]?\s*[0-9]+ ' || true; } | sed -E 's/^\s+//' | paste -sd ';' - | sed 's/;/; /g')
  if [ "$rc" -eq 0 ]; then result=passed; else result="**failed**"; fi
  {
    echo "| \`$stack\` | $state | $result | $((SECONDS - started)) s | ${changes:-n/a} |"
    if [ "$rc" -ne 0 ]; then
      echo
      echo "<details><summary>$stack: last lines</summary>"
      echo
      echo '```'
      tail -n 40 "$log"
      echo '```'
      echo "</details>"
    fi
  } >"$SUMMARY_DIR/$stack.md"
fi
exit "$rc"
