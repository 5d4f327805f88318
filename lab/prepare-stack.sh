#!/usr/bin/env bash
# prepare-stack.sh <stack>: points the lab stack at this machine's lab and
# prints the path of the stack config it wrote.
#
# The tracked stacks/Pulumi.<stack>.yaml says what the lab region is; the
# values that belong to this machine (each lab host's SSH host key, the
# checksums of the binaries the toolchain built here, the lab's SSH key as a
# secret) go into a copy of it in the lab's own folder,
# $EDGEFLEET_LAB_DIR/Pulumi.<stack>.yaml, which every lab command passes as
# `--config-file`. So running the lab never changes a tracked file.
# EDGEFLEET_HOST_TRANSPORT (openssh | command), when set, replaces the
# stack's edgefleet:hostTransport in that copy: how `make test` runs the lab
# through @pulumi/command where its plugins are installed.
# The binaries are copied into the stack's artifacts.dir (under artifacts/,
# which git ignores).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
stack=${1:?usage: prepare-stack.sh <stack>}
stack_file="stacks/Pulumi.$stack.yaml"
lab_dir=${EDGEFLEET_LAB_DIR:-/var/lib/edgefleet-lab}
inventory="$lab_dir/inventory.json"
local_file="$lab_dir/Pulumi.$stack.yaml"
# Written beside it and moved into place once complete (Pulumi reads config files by their .yaml ending).
tmp_file="$lab_dir/.Pulumi.$stack.partial.yaml"
: "${EDGEFLEET_TOOLS_BIN:?run eval \"\$(tools/bootstrap.sh --env)\" first}"
[ -f "$stack_file" ] || { echo "prepare-stack: no $stack_file" >&2; exit 1; }
[ -f "$inventory" ] || { echo "prepare-stack: no lab inventory at $inventory; run lab/hosts.sh up first" >&2; exit 1; }

dir=$(node -e 'const y=require("yaml");const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8")).config;console.log(c["edgefleet:upstream"].artifacts.dir)' "$stack_file")
mkdir -p "$dir"
for f in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml; do
  src=$(readlink -f "$EDGEFLEET_TOOLS_BIN/$f")
  cmp -s "$src" "$dir/$f" 2>/dev/null || install -m 0755 "$src" "$dir/$f"
done

( umask 077 && cp "$stack_file" "$tmp_file" )
bash scripts/inventory/run-ts.sh scripts/inventory/pin-artifacts.ts "$tmp_file" >/dev/null
case "${EDGEFLEET_HOST_TRANSPORT:-}" in
  "") ;;
  openssh | command)
    bash scripts/inventory/run-ts.sh scripts/inventory/set-config.ts "$tmp_file" "$tmp_file" \
      edgefleet:hostTransport "$EDGEFLEET_HOST_TRANSPORT"
    ;;
  *) echo "prepare-stack: EDGEFLEET_HOST_TRANSPORT must be openssh or command, not '$EDGEFLEET_HOST_TRANSPORT'" >&2; exit 1 ;;
esac

# Host keys: each inventory host of the stack that the lab made gets its key.
node - "$tmp_file" "$inventory" <<'JS'
const fs = require("fs");
const { parseDocument } = require("yaml");
const [file, inv] = process.argv.slice(2);
const doc = parseDocument(fs.readFileSync(file, "utf8"));
const lab = JSON.parse(fs.readFileSync(inv, "utf8"));
const keys = new Map(lab.hosts.map((h) => [h.address, h.hostKey]));
const sites = doc.getIn(["config", "edgefleet:sites"]);
let pinned = 0;
sites.items.forEach((site, i) => {
  site.get("hosts").items.forEach((host, j) => {
    const key = keys.get(host.get("address"));
    if (!key) throw new Error(`lab host ${host.get("name")} (${host.get("address")}) is not in ${inv}`);
    doc.setIn(["config", "edgefleet:sites", i, "hosts", j, "hostKey"], key);
    pinned++;
  });
});
fs.writeFileSync(file, doc.toString({ lineWidth: 0 }));
console.error(`prepare-stack: pinned ${pinned} host key(s)`);
JS

pulumi stack select "$stack" --create --non-interactive >/dev/null
key=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).privateKeyPath)' "$inventory")
pulumi config set --secret --path --stack "$stack" --config-file "$tmp_file" 'edgefleet:ssh.privateKey' <"$key"
mv -f "$tmp_file" "$local_file"
echo "$local_file"
