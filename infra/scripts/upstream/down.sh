#!/usr/bin/env bash
# down.sh: stops every supervised lab process on this host (the control plane
# and kwok) and removes what up.sh installed: binaries, helpers, PKI,
# kubeconfigs, etcd data and logs. Idempotent; leaves the staging dir alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "controlplane/down.sh: must run as root" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/service.sh
. "$here/service.sh"

# Clients before servers, so nothing logs a storm of connection errors.
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  service_stop "$name"
done
if [[ -d $SERVICE_RUN_DIR ]]; then
  for pidfile in "$SERVICE_RUN_DIR"/*.pid; do
    [[ -e $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    service_stop "$name"
  done
fi

rm -f /usr/local/bin/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl,kwok}
rm -f /root/.kube/config
# Empty a directory and remove it; a directory that is a mount point (as on
# the lab hosts, where it is the host's private copy) can only be emptied.
remove_dir() {
  [[ -d $1 ]] || return 0
  find "$1" -mindepth 1 -delete
  if ! mountpoint -q "$1"; then rmdir "$1"; fi
}
for dir in /etc/kubernetes /var/lib/etcd /var/lib/edgefleet/kwok "$SERVICE_LOG_DIR" "$SERVICE_RUN_DIR"; do
  remove_dir "$dir"
done
# Last, since this script may be running from there.
rm -rf /usr/local/lib/edgefleet-lab
echo "control plane removed from $(hostname)"
