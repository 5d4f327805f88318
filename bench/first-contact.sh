#!/usr/bin/env bash
# bench/first-contact.sh: a newcomer's first day, measured. A clean clone of
# this repository's HEAD, every cache empty (the toolchain cache, Go's module
# and build caches, npm's cache, all pointed at fresh folders), then the
# README's two commands: `make lab` (and `make lab-down`, since the lab test
# inside `make test` makes its own lab hosts on the same bridge), then
# `make test`; `git status` must be clean after each. Prints each tool's cold
# build time (tools/bootstrap.sh's build-seconds, two builds side by side),
# each step's wall time and the test summary line. Leaves nothing behind but its output.
# Usage (root): bash bench/first-contact.sh >> bench/results/first-contact-$(date +%F).txt
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "first-contact: run as root (the lab needs it)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/edgefleet-first-contact.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
cd "$work/clone"
export EDGEFLEET_CACHE="$work/cache" GOMODCACHE="$work/gomod" GOCACHE="$work/gocache"
export npm_config_cache="$work/npm" PULUMI_BACKEND_URL="file://$work/state"
mkdir -p "$work/state"

echo "# first contact: clean clone of $(git rev-parse --short HEAD), empty caches; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
step() { # step <label> <command...>: wall time, then a clean work tree
  local t0=$SECONDS rc=0
  "${@:2}" >"$work/$1.log" 2>&1 || rc=$?
  printf '%-10s rc %s  wall %s s\n' "$1" "$rc" "$((SECONDS - t0))"
  if [ "$rc" -ne 0 ]; then tail -n 40 "$work/$1.log"; exit 1; fi
  local dirty
  dirty=$(git status --porcelain)
  if [ -n "$dirty" ]; then printf 'git status after %s is not clean:\n%s\n' "$1" "$dirty"; exit 1; fi
}
# The toolchain first, on its own, so its cold wall time stands apart; then
# `make lab` finds it built and does the rest (Debian packages, npm ci, the
# lab hosts, `pulumi up`).
step bootstrap tools/bootstrap.sh
for f in "$EDGEFLEET_CACHE"/tools/*/build-seconds; do
  t=${f%/build-seconds}; t=${t##*/}
  printf '  built %-16s %5s s\n' "${t%-*}" "$(cat "$f")"
done
step lab make lab
step lab-down make lab-down
step test make test
grep -E '^test: [0-9]+ passed, [0-9]+ failed' "$work/test.log"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
