#!/usr/bin/env bash
# down.sh: deletes the KWOK nodes of every site from the lab cluster and stops
# kwok on this host. Idempotent; the control plane stays (controlplane/down.sh
# removes everything).
set -euo pipefail

LIB_DIR=/usr/local/lib/edgefleet-lab
kubeconfig=${EF_KWOK_KUBECONFIG:-/etc/kubernetes/admin.kubeconfig}

[[ $(id -u) -eq 0 ]] || { echo "kwok/down.sh: must run as root" >&2; exit 1; }
[[ -f $LIB_DIR/service.sh ]] || { echo "kwok: nothing to remove"; exit 0; }
# shellcheck source=SCRIPTDIR/../upstream/service.sh
. "$LIB_DIR/service.sh"

if [[ -f $kubeconfig ]] && command -v kubectl >/dev/null; then
  mapfile -t fake < <(kubectl --kubeconfig="$kubeconfig" get nodes -l node-type=edge \
    -o jsonpath='{range .items[?(@.metadata.annotations.kwok\.x-k8s\.io/node=="fake")]}{.metadata.name}{"\n"}{end}' 2>/dev/null || true)
  if ((${#fake[@]} > 0)); then
    # One kubectl deletes its names one after another and, by default, waits
    # on each: 2000 nodes took over ten minutes. Parallel batches without the
    # per-node wait (simulated nodes carry no finalizers), as up.sh does.
    printf '%s\n' "${fake[@]}" |
      xargs -n 100 -P 4 kubectl --kubeconfig="$kubeconfig" delete node --ignore-not-found --wait=false >/dev/null
  fi
fi
service_stop kwok
rm -rf /var/lib/edgefleet/kwok /usr/local/bin/kwok
echo "kwok: removed"
