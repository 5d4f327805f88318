#!/usr/bin/env bash
# up.sh: brings up the upstream Kubernetes control plane on this host (the lab's
# stand-in for `k3s server`, see lab/README.md) and waits until it is ready.
#
# Expects the staging layout that the caller uploaded:
#   STAGING/bin/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   STAGING/controlplane/*.sh   (this script and its helpers)
#
# Environment:
#   EF_CP_ADDRESS         address the API server advertises and serves on
#                         (default: this host's first global IPv4 address)
#   EF_CP_EXTRA_SANS      more names/addresses for the serving certificate
#   EF_CP_READY_TIMEOUT   seconds to wait for /readyz (default 180)
#
# Idempotent: binaries are replaced only when they differ, certificates are
# kept, and a component is restarted only when its binary or flags changed.
# Prints the admin kubeconfig path on its last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
staging=$(dirname "$here")

BIN_DIR=/usr/local/bin
LIB_DIR=/usr/local/lib/edgefleet-lab
K8S_DIR=/etc/kubernetes
PKI=$K8S_DIR/pki
ETCD_DATA=/var/lib/etcd
ADMIN_KUBECONFIG=$K8S_DIR/admin.kubeconfig
SERVICE_CIDR=10.43.0.0/16
CLUSTER_CIDR=10.42.0.0/16
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

die() {
  echo "controlplane/up.sh: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root"
command -v openssl >/dev/null || die "openssl is missing on $(hostname)"

address=${EF_CP_ADDRESS:-$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')}
[[ -n $address ]] || die "no global IPv4 address on $(hostname); set EF_CP_ADDRESS"
read -r -a extra_sans <<<"${EF_CP_EXTRA_SANS:-}"
timeout=${EF_CP_READY_TIMEOUT:-180}
started_at=$SECONDS

for c in "${COMPONENTS[@]}"; do
  [[ -x $staging/bin/$c ]] || die "missing $staging/bin/$c"
done

# Install binaries and helpers outside the staging dir, so the running control
# plane does not depend on it; rewrite only what changed.
install_if_changed() {
  local src=$1 dst=$2
  cmp -s "$src" "$dst" 2>/dev/null && return 0
  install -D -m 755 "$src" "$dst.new"
  mv -f "$dst.new" "$dst"
}
for c in "${COMPONENTS[@]}"; do
  install_if_changed "$staging/bin/$c" "$BIN_DIR/$c"
done
for f in supervise.sh service.sh pki.sh down.sh; do
  install_if_changed "$here/$f" "$LIB_DIR/$f"
done

# shellcheck source=SCRIPTDIR/service.sh
. "$LIB_DIR/service.sh"

"$LIB_DIR/pki.sh" "$PKI" "$address" "${extra_sans[@]}"

# kubeconfig FILE SERVER CERT_NAME
kubeconfig() {
  local file=$1 server=$2 cert=$3 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: edgefleet-lab
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $cert
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 "$PKI/$cert.key")
contexts:
- name: edgefleet-lab
  context:
    cluster: edgefleet-lab
    user: $cert
current-context: edgefleet-lab
EOF
  chmod 600 "$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; fi
}
# The admin kubeconfig names the host address so it works from other hosts
# and the machine too; the components talk to their own host over loopback.
kubeconfig "$ADMIN_KUBECONFIG" "https://$address:6443" admin
kubeconfig "$K8S_DIR/controller-manager.kubeconfig" https://127.0.0.1:6443 controller-manager
kubeconfig "$K8S_DIR/scheduler.kubeconfig" https://127.0.0.1:6443 scheduler
mkdir -p /root/.kube
install -m 600 "$ADMIN_KUBECONFIG" /root/.kube/config

mkdir -p "$ETCD_DATA"
chmod 700 "$ETCD_DATA"
# etcd listens on loopback only, and a lab host's loopback is its own network
# namespace's: nothing but this host's API server can reach it.
service_start etcd -- "$BIN_DIR/etcd" \
  --name=default \
  --data-dir="$ETCD_DATA" \
  --listen-client-urls=http://127.0.0.1:2379 \
  --advertise-client-urls=http://127.0.0.1:2379 \
  --listen-peer-urls=http://127.0.0.1:2380 \
  --initial-advertise-peer-urls=http://127.0.0.1:2380 \
  --initial-cluster=default=http://127.0.0.1:2380 \
  --log-level=warn

service_start kube-apiserver -- "$BIN_DIR/kube-apiserver" \
  --advertise-address="$address" \
  --bind-address=0.0.0.0 \
  --secure-port=6443 \
  --etcd-servers=http://127.0.0.1:2379 \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --client-ca-file="$PKI/ca.crt" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-username-headers=X-Remote-User \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
  --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true \
  --profiling=false

service_start kube-controller-manager -- "$BIN_DIR/kube-controller-manager" \
  --kubeconfig="$K8S_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$K8S_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$K8S_DIR/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 \
  --cluster-cidr="$CLUSTER_CIDR" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --use-service-account-credentials=true \
  --controllers='*,bootstrapsigner,tokencleaner' \
  --kube-api-qps=100 \
  --kube-api-burst=200 \
  --profiling=false

service_start kube-scheduler -- "$BIN_DIR/kube-scheduler" \
  --kubeconfig="$K8S_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig="$K8S_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig="$K8S_DIR/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 \
  --profiling=false

deadline=$((SECONDS + timeout))
until out=$("$BIN_DIR/kubectl" --kubeconfig="$ADMIN_KUBECONFIG" --request-timeout=5s get --raw /readyz 2>&1) && [[ $out == ok ]]; do
  if ((SECONDS >= deadline)); then
    echo "$out" >&2
    die "the API server on $address is not ready after ${timeout}s (logs: $SERVICE_LOG_DIR)"
  fi
  sleep 1
done
echo "control plane ready on https://$address:6443 after $((SECONDS - started_at))s"
echo "$ADMIN_KUBECONFIG"
