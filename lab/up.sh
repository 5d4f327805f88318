#!/usr/bin/env bash
# `make lab`: brings up the lab region on this machine. On a fresh machine it
# installs what is missing (Debian packages, Node, the pinned toolchain), makes
# the lab hosts, points the lab stack at them (host keys, SSH key, artifact
# checksums: this machine's own, kept in the lab folder, not in the checkout),
# then runs the same `pulumi up` a region gets.
#
# Environment: EDGEFLEET_LAB_DIR (lab/hosts.sh), PULUMI_CONFIG_PASSPHRASE
# (default: the example stacks' documented passphrase), PULUMI_BACKEND_URL
# (default: Pulumi.yaml's local file backend).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "lab: run as root (network namespaces and sshd need it)" >&2; exit 1; }

bash scripts/deps.sh
eval "$(tools/bootstrap.sh --env)"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-edgefleet-example}
# Pulumi.yaml's default backend is a folder the file backend expects to exist.
[ -n "${PULUMI_BACKEND_URL:-}" ] || mkdir -p "$HOME/.edgefleet/state"
stack=${EDGEFLEET_LAB_STACK:-lab}
stack_file="stacks/Pulumi.$stack.yaml"
lab_dir=${EDGEFLEET_LAB_DIR:-/var/lib/edgefleet-lab}
export EDGEFLEET_LAB_DIR=$lab_dir

hosts=$(node -e 'const y=require("yaml");const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8")).config;console.log(c["edgefleet:lab"].hosts)' "$stack_file")
bash lab/hosts.sh up "$hosts"

# This machine's keys and checksums go to a config file in the lab folder,
# never into the tracked stack file (lab/prepare-stack.sh).
config_file=$(bash lab/prepare-stack.sh "$stack")
pulumi up --yes --non-interactive --stack "$stack" --config-file "$config_file" --skip-preview=false

kubeconfig="$lab_dir/kubeconfig-$stack.yaml"
( umask 077 && pulumi stack output sites --stack "$stack" --show-secrets --json |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);process.stdout.write(Object.values(o)[0].kubeconfig)})' >"$kubeconfig" )
cat <<EOF

The lab region is up (stack $stack).
  kubeconfig:  $kubeconfig   (mode 0600; the API server is on the lab bridge)
  nodes:       KUBECONFIG=$kubeconfig kubectl get nodes -L node-type,edgefleet.dev/site
  trackers:    KUBECONFIG=$kubeconfig kubectl -n edgefleet get deploy,pods -o wide
  Grafana:     KUBECONFIG=$kubeconfig kubectl -n edgefleet-monitoring get svc grafana
               (pods on simulated nodes do not run: Grafana answers only on real agents;
                its admin password: pulumi stack output sites --stack $stack --show-secrets)
  tear down:   make lab-down
EOF
