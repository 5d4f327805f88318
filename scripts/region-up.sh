#!/usr/bin/env bash
# region-up.sh <stack> [pulumi up flags...]: `pulumi up` of a whole region
# that lets every site converge when one fails (--continue-on-error), then
# prints one summary line per site: converged, or the failed host and step
# with the error (scripts/region/summarize.ts). Exits non-zero when any site
# failed. Run the same command again once the cause is fixed: it resumes where
# each site stopped. No preview is shown (--skip-preview): preview first with
# `pulumi preview`. Extra flags go to `pulumi up` (e.g. --config-file).
# EDGEFLEET_EVENTS=<file> keeps the engine's events there.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stack=${1:?usage: region-up.sh <stack> [pulumi up flags...]}
shift
events=${EDGEFLEET_EVENTS:-}
if [ -z "$events" ]; then
  events=$(mktemp)
  trap 'rm -f "$events"' EXIT
fi

# The events go to the summary as they come (errors are printed at once) and
# to the file. Both statuses count: pulumi's, then the summary's.
set +e
pulumi up --yes --non-interactive --skip-preview --continue-on-error --json --stack "$stack" "$@" |
  tee "$events" | bash "$repo/scripts/inventory/run-ts.sh" "$repo/scripts/region/summarize.ts" "$stack"
status=("${PIPESTATUS[@]}")
set -e
if [ "${status[0]}" -ne 0 ]; then exit "${status[0]}"; fi
exit "${status[2]}"
