#!/usr/bin/env bash
# standard-transport.sh available: exit 0 when the plugins of the standard
# host transport (edgefleet:hostTransport: command) are installed in the
# CLI's plugin folder at the versions package.json pins.
# standard-transport.sh fallback <stack file> <out file>: writes a copy of
# the stack file that uses the built-in OpenSSH transport instead, for
# previews on a machine without those plugins (this project's offline
# toolchain cannot build them; tools/README.md), and prints that it did.
# standard-transport.sh home <out dir>: when the plugin folder of an ordinary
# Pulumi install (EDGEFLEET_STANDARD_PLUGIN_HOME, default ~/.pulumi) holds
# those plugins, makes <out dir> a PULUMI_HOME with them and the toolchain's
# own plugins (hard links: Pulumi skips symlinked plugin folders) and exits 0;
# otherwise prints why not on stderr and exits 1.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

versions() { # the @pulumi/command and @pulumi/random versions the lock pins
  node -e 'const l=require(process.argv[1]).packages;for(const p of ["command","random"])console.log(p, l["node_modules/@pulumi/"+p].version)' \
    "$repo/package-lock.json"
}

case "${1:-}" in
  available)
    installed=$(pulumi plugin ls --json 2>/dev/null |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s||"[]"))if(p.kind==="resource")console.log(p.name,p.version)})')
    while read -r name version; do
      grep -qx "$name $version" <<<"$installed" || exit 1
    done < <(versions)
    ;;
  home)
    [ $# -eq 2 ] || { echo "usage: standard-transport.sh home <out dir>" >&2; exit 2; }
    src=${EDGEFLEET_STANDARD_PLUGIN_HOME:-$HOME/.pulumi}
    : "${PULUMI_HOME:?run eval \"\$(tools/bootstrap.sh --env)\" first}"
    missing=()
    while read -r name version; do
      [ -x "$src/plugins/resource-$name-v$version/pulumi-resource-$name" ] || missing+=("$name $version")
    done < <(versions)
    if [ ${#missing[@]} -gt 0 ]; then
      echo "no $(printf '%s, ' "${missing[@]}" | sed 's/, $//') plugin in $src/plugins; install them with" \
        "$(printf "'pulumi plugin install resource %s', " "${missing[@]}" | sed 's/, $//')" \
        "or point EDGEFLEET_STANDARD_PLUGIN_HOME at a folder holding them" >&2
      exit 1
    fi
    rm -rf "$2" && mkdir -p "$2/plugins"
    for d in "$PULUMI_HOME"/plugins/resource-*; do
      if [ -d "$d" ]; then cp -al "$d" "$2/plugins/"; fi
    done
    while read -r name version; do
      cp -al "$src/plugins/resource-$name-v$version" "$2/plugins/"
    done < <(versions)
    ;;
  fallback)
    [ $# -eq 3 ] || { echo "usage: standard-transport.sh fallback <stack file> <out file>" >&2; exit 2; }
    bash "$repo/scripts/inventory/run-ts.sh" "$repo/scripts/inventory/set-config.ts" "$2" "$3" edgefleet:hostTransport openssh
    echo "standard-transport: the command and random plugins ($(versions | paste -sd, - | sed 's/,/, /')) are not installed here;" \
      "previewing $(basename "$2") with the built-in transport (edgefleet:hostTransport: openssh)"
    ;;
  *)
    echo "usage: standard-transport.sh available | home <out dir> | fallback <stack file> <out file>" >&2
    exit 2
    ;;
esac
