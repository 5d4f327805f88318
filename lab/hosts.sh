#!/usr/bin/env bash
# Lab hosts: N simulated edge hosts on this machine, each reachable over real
# OpenSSH like a physical box.
#
#   hosts.sh up N     converge to exactly hosts ef-1..ef-N (extra hosts are removed)
#   hosts.sh down     remove every lab host, the bridge and their state
#   hosts.sh status   name, address and pinned host key of each host
#
# A host is a network namespace (its own address on bridge efbr0, no route out
# of 198.18.0.0/15), a persistent mount namespace and a UTS namespace (its own
# hostname), both bind-mounted to files so they outlive any process, and an
# sshd running inside all three. In the mount namespace every path that K3s or
# the upstream control plane writes is replaced by a per-host directory (or a
# tmpfs), so what one host writes is seen neither by the machine nor by the
# other hosts, and the lab directory itself is hidden.
#
# Environment: EDGEFLEET_LAB_DIR (default /var/lib/edgefleet-lab). The machine-
# readable result is $EDGEFLEET_LAB_DIR/inventory.json (see lab/README.md).
set -euo pipefail

LAB_DIR=${EDGEFLEET_LAB_DIR:-/var/lib/edgefleet-lab}
BRIDGE=efbr0
BRIDGE_ADDR=198.18.0.1
PREFIX=15
HOST_OFFSET=10
MAX_HOSTS=200

# Paths a host sees as its own, backed by $LAB_DIR/hosts/<name>/fs/<path>.
# /usr/local, /opt and /root are whole trees because installers put binaries,
# staging dirs and kubeconfigs there; hiding the machine's copies also keeps a
# host from depending on tools that a real edge box would not have.
PRIVATE_DIRS=(
  /etc/rancher /var/lib/rancher /usr/local /etc/systemd/system /var/log
  /etc/kubernetes /var/lib/etcd /var/lib/kubelet /etc/cni /var/lib/cni /opt
  /etc/edgefleet /var/lib/edgefleet /root /home /srv
)
# Paths that start empty on every boot of a real host.
TMPFS_DIRS=(/run /tmp /var/tmp)

NS_DIR=$LAB_DIR/ns
HOSTS_DIR=$LAB_DIR/hosts
KEY=$LAB_DIR/id_ed25519
KNOWN_HOSTS=$LAB_DIR/known_hosts
INVENTORY=$LAB_DIR/inventory.json
CREATED_MOUNTPOINTS=$LAB_DIR/created-mountpoints

die() {
  echo "hosts.sh: $*" >&2
  exit 1
}

# Runs a command whose failure means the kernel (or its configuration) refused
# a namespace, link or mount operation, and says so in one line.
kernel() {
  local err
  if ! err=$("$@" 2>&1); then
    die "the kernel refused '$*': ${err:-no message}"
  fi
}

usage() {
  echo "usage: hosts.sh up N | down | status" >&2
  exit 2
}

host_name() { echo "ef-$1"; }
host_addr() { echo "198.18.0.$((HOST_OFFSET + $1))"; }

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (network and mount namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)"
}

install_packages() {
  local missing=()
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v jq >/dev/null || missing+=(jq)
  command -v openssl >/dev/null || missing+=(openssl)
  ((${#missing[@]} == 0)) && return 0
  echo "hosts.sh: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]} with apt-get"
}

is_mountpoint() { mountpoint -q "$1" 2>/dev/null; }

# The mount-namespace files must live on a private mount, or the kernel
# refuses to bind a namespace file there (and copies would propagate).
ensure_ns_dir() {
  mkdir -p "$NS_DIR"
  if ! is_mountpoint "$NS_DIR"; then
    kernel mount --bind "$NS_DIR" "$NS_DIR"
  fi
  kernel mount --make-private "$NS_DIR"
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    kernel ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $BRIDGE_ADDR/$PREFIX"; then
    kernel ip addr add "$BRIDGE_ADDR/$PREFIX" dev "$BRIDGE"
  fi
  kernel ip link set "$BRIDGE" up
}

ensure_netns() {
  local name=$1 addr=$2 veth="efv-${1#ef-}"
  if ! ip netns list | grep -qw "^$name"; then
    kernel ip netns add "$name"
  fi
  kernel ip -n "$name" link set lo up
  if ! ip link show "$veth" >/dev/null 2>&1; then
    # A half-made pair (eth0 left inside) would block the re-create.
    ip -n "$name" link del eth0 >/dev/null 2>&1 || true
    kernel ip link add "$veth" type veth peer name eth0 netns "$name"
  fi
  kernel ip link set "$veth" master "$BRIDGE" up
  if ! ip -n "$name" -4 addr show dev eth0 | grep -q "inet $addr/$PREFIX"; then
    kernel ip -n "$name" addr add "$addr/$PREFIX" dev eth0
  fi
  kernel ip -n "$name" link set eth0 up
}

# Mount points that do not exist on the machine are created empty and recorded,
# so that `down` removes exactly those again.
ensure_mountpoint() {
  local dir=$1
  [[ -d $dir ]] && return 0
  mkdir -p "$dir"
  echo "$dir" >>"$CREATED_MOUNTPOINTS"
}

write_host_files() {
  local name=$1 addr=$2 state=$HOSTS_DIR/$1
  local dir
  mkdir -p "$state/fs"
  for dir in "${PRIVATE_DIRS[@]}"; do
    mkdir -p "$state/fs$dir"
  done
  # The layout a fresh Debian box has, which installers expect to exist.
  mkdir -p "$state/fs/usr/local/"{bin,sbin,lib,etc,share,include,src}
  chmod 700 "$state/fs/root"
  mkdir -p "$state/fs/root/.ssh"
  chmod 700 "$state/fs/root/.ssh"
  install -m 600 "$KEY.pub" "$state/fs/root/.ssh/authorized_keys"
  echo "$name" >"$state/hostname"

  mkdir -p "$state/etc-ssh"
  # The machine's client config and moduli, never its host keys.
  cp -a /etc/ssh/moduli /etc/ssh/ssh_config "$state/etc-ssh/"
  [[ -d /etc/ssh/ssh_config.d ]] && cp -a /etc/ssh/ssh_config.d "$state/etc-ssh/"
  if [[ ! -f $state/etc-ssh/ssh_host_ed25519_key ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$state/etc-ssh/ssh_host_ed25519_key"
  fi
  # Pulumi opens many sessions at once; the defaults (10 sessions, 10:30:100
  # startups) would drop some of them.
  cat >"$state/etc-ssh/sshd_config" <<EOF
# Lab host $name (written by lab/hosts.sh).
ListenAddress $addr
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
LogLevel VERBOSE
MaxSessions 100
MaxStartups 100:30:200
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# Creates the host's mount and UTS namespaces and sets up its private view of
# the file system inside them. Runs once per host; the namespace files keep
# both alive without any process.
ensure_mountns() {
  local name=$1 state=$HOSTS_DIR/$1
  local mnt=$NS_DIR/$name.mnt uts=$NS_DIR/$name.uts
  if is_mountpoint "$mnt" && is_mountpoint "$uts"; then
    return 0
  fi
  is_mountpoint "$mnt" && umount "$mnt"
  is_mountpoint "$uts" && umount "$uts"
  touch "$mnt" "$uts"

  local dir
  for dir in "${PRIVATE_DIRS[@]}" "${TMPFS_DIRS[@]}"; do
    ensure_mountpoint "$dir"
  done

  local setup="set -eu"$'\n'
  for dir in "${PRIVATE_DIRS[@]}"; do
    setup+="mount --bind '$state/fs$dir' '$dir'"$'\n'
  done
  for dir in "${TMPFS_DIRS[@]}"; do
    setup+="mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs '$dir'"$'\n'
  done
  setup+="chmod 755 /run; mkdir -p -m 755 /run/sshd"$'\n'
  setup+="mount --bind '$state/etc-ssh' /etc/ssh"$'\n'
  setup+="mount --bind '$state/hostname' /etc/hostname"$'\n'
  setup+="hostname '$name'"$'\n'
  # Drop this namespace's copies of the other hosts' namespace files (they
  # would keep those namespaces alive after `down`) and hide the lab directory
  # (other hosts' files, the client key).
  setup+="umount -l '$NS_DIR'"$'\n'
  setup+="mount -t tmpfs -o ro,mode=755,size=64k tmpfs '$LAB_DIR'"$'\n'

  local err
  if ! err=$(unshare --mount="$mnt" --uts="$uts" --propagation private sh -c "$setup" 2>&1); then
    is_mountpoint "$mnt" && umount "$mnt"
    is_mountpoint "$uts" && umount "$uts"
    die "the kernel refused to set up the mount namespace of $name: $err"
  fi
}

host_enter() {
  local name=$1
  shift
  nsenter --mount="$NS_DIR/$name.mnt" --uts="$NS_DIR/$name.uts" --net="/run/netns/$name" -- "$@"
}

port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/22" 2>/dev/null
}

sshd_running() {
  local name=$1 pid
  for pid in $(ip netns pids "$name" 2>/dev/null); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sshd ]] && return 0
  done
  return 1
}

ensure_sshd() {
  local name=$1 addr=$2 i
  if ! sshd_running "$name"; then
    local err
    err=$(host_enter "$name" /usr/sbin/sshd -E /var/log/sshd.log 2>&1) ||
      die "sshd did not start on $name: $err"
  fi
  for i in $(seq 1 50); do
    port_open "$addr" && return 0
    sleep 0.1
  done
  die "sshd on $name does not answer on $addr:22 (log: $HOSTS_DIR/$name/fs/var/log/sshd.log)"
}

# Every process whose mount or network namespace is the host's: sshd, its
# sessions and whatever they started.
host_pids() {
  local name=$1 ino=""
  if is_mountpoint "$NS_DIR/$name.mnt"; then
    ino=$(stat -L -c %i "$NS_DIR/$name.mnt")
  fi
  {
    ip netns pids "$name" 2>/dev/null || true
    if [[ -n $ino ]]; then
      find /proc/[0-9]*/ns -maxdepth 1 -name mnt -lname "mnt:\[$ino\]" 2>/dev/null | cut -d/ -f3
    fi
  } | sort -un
}

kill_host_processes() {
  local name=$1 pids i
  mapfile -t pids < <(host_pids "$name")
  ((${#pids[@]} == 0)) && return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in $(seq 1 50); do
    mapfile -t pids < <(host_pids "$name")
    ((${#pids[@]} == 0)) && return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.2
}

remove_host() {
  local name=$1 veth="efv-${1#ef-}"
  kill_host_processes "$name"
  local f
  for f in "$NS_DIR/$name.mnt" "$NS_DIR/$name.uts"; do
    if is_mountpoint "$f"; then
      kernel umount "$f"
    fi
    rm -f "$f"
  done
  if ip link show "$veth" >/dev/null 2>&1; then
    kernel ip link del "$veth"
  fi
  if ip netns list | grep -qw "^$name"; then
    kernel ip netns del "$name"
  fi
  rm -rf "${HOSTS_DIR:?}/$name"
}

existing_hosts() {
  {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ef-[0-9]+$' || true
    if [[ -d $HOSTS_DIR ]]; then
      find "$HOSTS_DIR" -mindepth 1 -maxdepth 1 -name 'ef-*' -printf '%f\n'
    fi
    if [[ -d $NS_DIR ]]; then
      find "$NS_DIR" -mindepth 1 -maxdepth 1 -name 'ef-*.mnt' -printf '%f\n' | sed 's/\.mnt$//'
    fi
  } | sort -u -t- -k2,2n
}

write_inventory() {
  local hosts_json="[]" name idx addr key
  : >"$KNOWN_HOSTS.tmp"
  while read -r name; do
    [[ -n $name ]] || continue
    idx=${name#ef-}
    addr=$(host_addr "$idx")
    key=$(cut -d' ' -f1,2 "$HOSTS_DIR/$name/etc-ssh/ssh_host_ed25519_key.pub")
    echo "$addr $key" >>"$KNOWN_HOSTS.tmp"
    hosts_json=$(jq -c \
      --arg name "$name" --arg addr "$addr" --arg key "$key" \
      --arg log "$HOSTS_DIR/$name/fs/var/log/sshd.log" \
      --arg root "$HOSTS_DIR/$name/fs" \
      '. + [{name: $name, address: $addr, port: 22, user: "root", hostKey: $key,
             sshdLog: $log, fsRoot: $root, netns: $name}]' <<<"$hosts_json")
  done < <(existing_hosts)
  mv "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"
  jq -n \
    --arg labDir "$LAB_DIR" --arg key "$KEY" --arg known "$KNOWN_HOSTS" \
    --arg bridge "$BRIDGE" --arg baddr "$BRIDGE_ADDR" --argjson prefix "$PREFIX" \
    --argjson hosts "$hosts_json" \
    '{version: 1, labDir: $labDir, privateKeyPath: $key, publicKeyPath: ($key + ".pub"),
      knownHostsPath: $known,
      bridge: {name: $bridge, address: $baddr, prefixLength: $prefix},
      hosts: $hosts}' >"$INVENTORY.tmp"
  mv "$INVENTORY.tmp" "$INVENTORY"
}

# The lab directory must stay reachable at the same path inside a host's mount
# namespace until the setup is done, so it cannot sit under a path the host
# replaces.
check_lab_dir() {
  [[ $LAB_DIR == /* ]] || die "EDGEFLEET_LAB_DIR must be an absolute path"
  local dir
  for dir in "${PRIVATE_DIRS[@]}" "${TMPFS_DIRS[@]}"; do
    [[ $LAB_DIR == "$dir" || $LAB_DIR == "$dir"/* ]] &&
      die "EDGEFLEET_LAB_DIR=$LAB_DIR is under $dir, which every lab host replaces; choose another directory"
  done
  return 0
}

cmd_up() {
  local n=${1:-}
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_HOSTS)); then
    die "up needs a host count between 1 and $MAX_HOSTS"
  fi
  require_root
  check_lab_dir
  install_packages
  mkdir -p "$LAB_DIR" "$HOSTS_DIR"
  chmod 700 "$LAB_DIR"
  if [[ ! -f $KEY ]]; then
    ssh-keygen -q -t ed25519 -N '' -C edgefleet-lab -f "$KEY"
  fi
  touch "$CREATED_MOUNTPOINTS"
  ensure_ns_dir
  ensure_bridge

  local name
  while read -r name; do
    [[ -n $name ]] || continue
    ((${name#ef-} > n)) && remove_host "$name"
  done < <(existing_hosts)

  local i addr
  for i in $(seq 1 "$n"); do
    name=$(host_name "$i")
    addr=$(host_addr "$i")
    ensure_netns "$name" "$addr"
    write_host_files "$name" "$addr"
    ensure_mountns "$name"
    ensure_sshd "$name" "$addr"
  done
  write_inventory
  cmd_status
}

cmd_down() {
  require_root
  local name
  while read -r name; do
    [[ -n $name ]] || continue
    remove_host "$name"
  done < <(existing_hosts)
  # Stray veths of hosts whose netns is already gone.
  local veth
  for veth in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^efv-[0-9]+$' || true); do
    kernel ip link del "$veth"
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    kernel ip link del "$BRIDGE"
  fi
  if is_mountpoint "$NS_DIR"; then
    kernel umount "$NS_DIR"
  fi
  if [[ -f $CREATED_MOUNTPOINTS ]]; then
    # Deepest first, and only if still empty: never remove what someone else
    # has put there since.
    sort -ru "$CREATED_MOUNTPOINTS" | while read -r dir; do
      if [[ -n $dir ]]; then rmdir "$dir" 2>/dev/null || true; fi
    done
  fi
  # The client key pair stays, so stack config that names it stays valid.
  rm -rf "${NS_DIR:?}" "${HOSTS_DIR:?}" "$INVENTORY" "$KNOWN_HOSTS" "$CREATED_MOUNTPOINTS"
}

cmd_status() {
  local name idx addr key state
  printf '%-8s %-14s %-8s %s\n' NAME ADDRESS SSHD HOST_KEY
  while read -r name; do
    [[ -n $name ]] || continue
    idx=${name#ef-}
    addr=$(host_addr "$idx")
    key=-
    [[ -f $HOSTS_DIR/$name/etc-ssh/ssh_host_ed25519_key.pub ]] &&
      key=$(cut -d' ' -f1,2 "$HOSTS_DIR/$name/etc-ssh/ssh_host_ed25519_key.pub")
    state=down
    port_open "$addr" && state=up
    printf '%-8s %-14s %-8s %s\n' "$name" "$addr" "$state" "$key"
  done < <(existing_hosts)
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up | down)
      require_root
      mkdir -p "$LAB_DIR"
      # One `up`/`down` at a time: both rewrite the same namespaces and files.
      exec 9>"$LAB_DIR/.lock"
      flock 9
      "cmd_$cmd" "$@"
      ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
