#!/usr/bin/env bash
# pki.sh PKI_DIR ADDRESS [EXTRA_SAN...]
#
# The control plane's certificates and keys, made with openssl once and kept:
# a cluster CA, the API server's serving certificate, the service-account
# signing key pair, client certificates for the admin, the controller-manager,
# the scheduler and the API server's kubelet client, and a front-proxy CA and
# client for API aggregation. A serving certificate whose SANs no longer cover
# the address (or EXTRA_SAN) is re-issued from the same CA; nothing else is
# ever regenerated, so clients keep trusting the cluster across re-runs.
set -euo pipefail

pki=${1:?usage: pki.sh PKI_DIR ADDRESS [EXTRA_SAN...]}
address=${2:?usage: pki.sh PKI_DIR ADDRESS [EXTRA_SAN...]}
shift 2
extra_sans=("$@")

# The first address of the service range (10.43.0.0/16, as K3s uses) is the
# in-cluster `kubernetes` Service, which clients reach the API server through.
SERVICE_IP=10.43.0.1
DAYS=3650

umask 077
mkdir -p "$pki"
cd "$pki"

new_key() {
  [[ -f $1.key ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
}

new_ca() {
  local name=$1 cn=$2
  [[ -f $name.crt ]] && return 0
  new_key "$name"
  openssl req -x509 -new -key "$name.key" -subj "/CN=$cn" -days "$DAYS" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$name.crt"
}

# sign NAME CA SUBJECT EXTENSIONS
sign() {
  local name=$1 ca=$2 subj=$3 ext=$4
  new_key "$name"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -days "$DAYS" -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

client() {
  local name=$1 ca=$2 subj=$3
  [[ -f $name.crt ]] && return 0
  sign "$name" "$ca" "$subj" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
}

new_ca ca edgefleet-lab-ca
new_ca front-proxy-ca edgefleet-lab-front-proxy-ca

sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
sans+=",DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$(hostname)"
sans+=",IP:127.0.0.1,IP:$SERVICE_IP,IP:$address"
for san in "${extra_sans[@]}"; do
  if [[ $san =~ ^[0-9.]+$ || $san == *:* ]]; then sans+=",IP:$san"; else sans+=",DNS:$san"; fi
done
# Re-issue the serving certificate when the wanted SANs changed.
if [[ ! -f apiserver.crt || $(cat apiserver.sans 2>/dev/null) != "$sans" ]]; then
  sign apiserver ca "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans"
  echo "$sans" >apiserver.sans
fi

client admin ca "/O=system:masters/CN=edgefleet-lab-admin"
client controller-manager ca "/CN=system:kube-controller-manager"
client scheduler ca "/CN=system:kube-scheduler"
client apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client"
client front-proxy-client front-proxy-ca "/CN=front-proxy-client"

if [[ ! -f sa.key ]]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
fi
[[ -f sa.pub ]] || openssl pkey -in sa.key -pubout -out sa.pub

# Certificates are public; only keys stay root-only.
chmod 644 ./*.crt sa.pub
chmod 600 ./*.key
