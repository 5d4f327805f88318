#!/usr/bin/env bash
# standard-transport.sh available: exit 0 when the plugins of the standard
# host transport (edgefleet:hostTransport: command) are installed in the
# CLI's plugin folder at the versions package.json pins.
# standard-transport.sh fallback <stack file> <out file>: writes a copy of
# the stack file that uses the built-in OpenSSH transport instead, for
# previews on a machine without those plugins (this project's offline
# toolchain cannot build them; tools/README.md), and prints that it did.
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
  fallback)
    [ $# -eq 3 ] || { echo "usage: standard-transport.sh fallback <stack file> <out file>" >&2; exit 2; }
    node -e '
      const fs = require("fs"); const { parseDocument } = require("yaml");
      const doc = parseDocument(fs.readFileSync(process.argv[1], "utf8"));
      doc.setIn(["config", "edgefleet:hostTransport"], "openssh");
      fs.writeFileSync(process.argv[2], doc.toString({ lineWidth: 0 }));' "$2" "$3"
    echo "standard-transport: the command and random plugins ($(versions | paste -sd, - | sed 's/,/, /')) are not installed here;" \
      "previewing $(basename "$2") with the built-in transport (edgefleet:hostTransport: openssh)"
    ;;
  *)
    echo "usage: standard-transport.sh available | fallback <stack file> <out file>" >&2
    exit 2
    ;;
esac
