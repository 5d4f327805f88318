#!/usr/bin/env bash
# bench/lab.sh: wall time and peak memory of the lab region's `pulumi up`,
# the no-op re-run (as `pulumi up --yes`, and as pulumi/actions runs it) and
# `pulumi destroy`, each measured with GNU time
# (/usr/bin/time -v: "Elapsed (wall clock) time" and "Maximum resident set
# size", the largest single process of the run's tree: the CLI, the language
# host or a provider). Uses a throwaway backend; leaves no lab behind.
# With N > 1 it generates a throwaway N-site lab stack (the lab stack's site
# copied per lab host: each site is its own cluster on its own host, as the
# lab's upstream distribution runs one server per site).
# LAB_SETTLE_SECONDS (default 120) is the pause before the second no-op.
# Usage (root): bash bench/lab.sh [N] >> bench/results/lab-$(date +%F).txt
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${1:-1}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: [KWOK_NODES=K] bench/lab.sh [N lab hosts]" >&2; exit 2; }
# KWOK_NODES=K gives each site K simulated nodes (the lab's maximum is 2000)
# and lets the site derive its tracker replicas from them, as a real site does.
kwok=${KWOK_NODES:-}
[[ -z $kwok || $kwok =~ ^[1-9][0-9]*$ ]] || { echo "KWOK_NODES must be a positive integer" >&2; exit 2; }
if ((n == 1)) && [[ -z $kwok ]]; then
  stack=lab
  trap 'bash lab/hosts.sh down >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
else
  stack=bench-lab-$n${kwok:+x$kwok}
  trap 'bash lab/hosts.sh down >/dev/null 2>&1 || true; rm -rf "$state" "stacks/Pulumi.$stack.yaml"' EXIT
  node - "$n" stacks/Pulumi.lab.yaml "stacks/Pulumi.$stack.yaml" "$kwok" <<'JS'
const fs = require("fs");
const { parseDocument } = require("yaml");
const [n, from, to, kwok] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5]];
const doc = parseDocument(fs.readFileSync(from, "utf8"));
const site = doc.getIn(["config", "edgefleet:sites"]).items[0].toJSON();
if (kwok) {
  site.kwok.nodes = Number(kwok);
  delete site.overrides.tracker;
}
const sites = [];
for (let i = 1; i <= n; i++) {
  const s = structuredClone(site);
  s.name = `lab-${i}`;
  s.hosts = [{ ...site.hosts[0], name: `ef-${i}`, address: `198.18.0.${10 + i}` }];
  sites.push(s);
}
doc.setIn(["config", "edgefleet:sites"], doc.createNode(sites));
doc.setIn(["config", "edgefleet:lab", "hosts"], n);
doc.setIn(["config", "edgefleet:lab", "kwokNodes"], n * site.kwok.nodes);
fs.writeFileSync(to, doc.toString({ lineWidth: 0 }));
JS
fi

# SSH logins the lab hosts' sshd has accepted so far (LogLevel VERBOSE, lab/hosts.sh).
ssh_logins() {
  cat "${EDGEFLEET_LAB_DIR:-/var/lib/edgefleet-lab}"/hosts/*/fs/var/log/sshd.log 2>/dev/null | grep -c 'Accepted publickey' || true
}

measure() { # measure <label> <command...>
  local logins
  logins=$(ssh_logins)
  timed "${@:2}"
  # The engine's own summary ("468 unchanged") shows the no-op really was one;
  # the hosts' sshd logs, how many SSH sessions it opened.
  printf '%-10s wall %s  maxrss %s KiB  ssh sessions %s  (%s)\n' "$1" "$TIMED_WALL" "$TIMED_RSS" "$(($(ssh_logins) - logins))" \
    "$(awk '/^Resources:/ {on=1; next} on && NF {sub(/^ +/, ""); printf "%s%s", sep, $0; sep="; "} on && !NF {on=0}' "$TIMED_LOG")"
  rm -f "$TIMED_LOG"
}

echo "# lab region, $n lab host(s), $n site(s) of ${kwok:-5} KWOK nodes; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
bash lab/hosts.sh up "$n" >/dev/null
cfg=$(bash lab/prepare-stack.sh "$stack" 2>/dev/null)
measure up pulumi up --yes --non-interactive --stack "$stack" --config-file "$cfg"
echo "# resources in state: $(pulumi stack export --stack "$stack" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).deployment.resources.length))')"
measure noop pulumi up --yes --non-interactive --stack "$stack" --config-file "$cfg"
# Right after the first `up` the region's own control planes are still busy
# (controllers reconciling what was just created, KWOK starting its pods), and
# on 2 cores that slows the engine. The figure an operator meets on any later
# day is the settled one: the same no-op again after a pause.
sleep "${LAB_SETTLE_SECONDS:-120}"
echo "# settled ${LAB_SETTLE_SECONDS:-120} s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
measure noop pulumi up --yes --non-interactive --stack "$stack" --config-file "$cfg"
# What pulumi/actions and the Automation API run (`up --yes --skip-preview`):
# one program run instead of the preview's and the update's.
measure noop-ci pulumi up --yes --skip-preview --non-interactive --stack "$stack" --config-file "$cfg"
measure destroy pulumi destroy --yes --non-interactive --stack "$stack" --config-file "$cfg"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
