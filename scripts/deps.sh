#!/usr/bin/env bash
# Installs what the tests and the lab need, once per machine (a second run only
# checks): Debian packages, the pinned toolchain (tools/bootstrap.sh: Node and
# the Go-built tools), then node_modules.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2207
wanted=($(sed -e 's/#.*//' "$repo/scripts/debian-packages.txt" | xargs))
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "deps: need root to apt-get install: ${missing[*]}" >&2; exit 1; }
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # Debian starts services on install; the tests start their own instances.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# node_modules, with the pinned Node (the toolchain's) on PATH, by `npm ci`
# (the lock is the whole truth); reinstalled only when the lock changed.
# Install scripts stay off: no package here needs one, and @pulumi/kubernetes's
# would try to download its plugin (the toolchain builds it instead).
eval "$("$repo/tools/bootstrap.sh" --env)"
stamp="$repo/node_modules/.edgefleet-lock-sha"
want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd "$repo" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline >&2)
  echo "$want" >"$stamp"
fi

# The Gatekeeper release manifest, where the stack setting edgefleet:gatekeeper
# looks first (air-gapped): the copy of the pinned release the toolchain holds.
# shellcheck disable=SC1091
gk_version=$(. "$repo/tools/versions.env" && echo "$GATEKEEPER_VERSION")
gk="$repo/artifacts/gatekeeper/gatekeeper-v$gk_version.yaml"
if ! cmp -s "$EDGEFLEET_TOOLS_BIN/gatekeeper-v$gk_version.yaml" "$gk"; then
  install -D -m 0644 "$EDGEFLEET_TOOLS_BIN/gatekeeper-v$gk_version.yaml" "$gk"
fi
