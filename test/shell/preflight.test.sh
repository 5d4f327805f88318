#!/usr/bin/env bash
# preflight.sh against a fake /proc and /sys: each failure is one line naming host and reason.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$(new_root)
trap 'rm -rf "$ROOT"' EXIT
fake_host() { # cpus mem_kib
  rm -rf "$ROOT/proc" "$ROOT/sys"
  mkdir -p "$ROOT/proc/net" "$ROOT/proc/sys/kernel" "$ROOT/sys/fs/cgroup"
  for i in $(seq 0 $(($1 - 1))); do printf 'processor\t: %d\n\n' "$i"; done >"$ROOT/proc/cpuinfo"
  printf 'MemTotal:       %d kB\nMemFree:        1000 kB\n' "$2" >"$ROOT/proc/meminfo"
  printf 'cpuset cpu io memory hugetlb pids rdma misc\n' >"$ROOT/sys/fs/cgroup/cgroup.controllers"
  printf 'edge-a1\n' >"$ROOT/proc/sys/kernel/hostname"
  local hdr='  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'
  printf '%s\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n' "$hdr" >"$ROOT/proc/net/tcp"
  printf '%s\n' "$hdr" >"$ROOT/proc/net/udp"
}
base=(ROOT="$ROOT" HOST_NAME=edge-a1 ROLE=server MIN_CPU_MILLIS=2000 MIN_MEMORY_MIB=4096 MACHINE_ARCH=x86_64
  OTHER_HOSTNAMES="edge-s1,edge-a2" REFERENCE_EPOCH="$(date +%s)")

t "a 2C4G host whose kernel reports 3.8 GiB passes as 2c4g"
fake_host 2 3990000
run_script preflight.sh "${base[@]}"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"script":"preflight","host":"edge-a1","changed":false,"arch":"amd64","cpuMillis":2000,"memoryMiB":3896'
assert_eq "$ERR" ""

t "a host too small fails with one line naming host and reason"
fake_host 2 2048000
run_script preflight.sh "${base[@]}"
assert_eq "$STATUS" 1
assert_eq "$ERR" "preflight failed on edge-a1: memory 2000Mi is below the declared 4096Mi (tolerance 10%)"

t "a container CPU quota counts, not the host's CPUs"
fake_host 8 8000000
printf '100000 100000\n' >"$ROOT/sys/fs/cgroup/cpu.max"
run_script preflight.sh "${base[@]}"
assert_eq "$ERR" "preflight failed on edge-a1: CPU 1000m is below the declared 2000m (tolerance 10%)"

t "several problems still make exactly one line"
fake_host 1 1024000
rm "$ROOT/sys/fs/cgroup/cgroup.controllers"
printf 'edge-s1\n' >"$ROOT/proc/sys/kernel/hostname"
run_script preflight.sh "${base[@]}" MACHINE_ARCH=riscv64 REFERENCE_EPOCH=$(($(date +%s) - 3600))
assert_eq "$STATUS" 1
assert_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "stderr lines"
assert_contains "$ERR" "preflight failed on edge-a1: architecture riscv64 is not supported by K3s"
assert_contains "$ERR" "; cgroup v2 is not mounted at /sys/fs/cgroup"
assert_contains "$ERR" "; CPU 1000m is below the declared 2000m"
assert_contains "$ERR" "; hostname edge-s1 is also used by another host of the site"
assert_contains "$ERR" "; clock is off by 36"

t "ports K3s needs that are taken are named (tcp 6443, udp 8472)"
fake_host 2 4000000
printf '   1: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n' >>"$ROOT/proc/net/tcp"
printf '   1: 00000000:2118 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3\n' >>"$ROOT/proc/net/udp"
run_script preflight.sh "${base[@]}"
assert_eq "$ERR" "preflight failed on edge-a1: port(s) 6443/tcp 8472/udp already in use"

t "an agent does not need the server ports, and a port in TIME_WAIT is not a listener"
fake_host 2 4000000
printf '   1: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n' >>"$ROOT/proc/net/tcp"
printf '   2: 0100007F:2802 0100007F:9C40 06 00000000:00000000 00:00000000 00000000     0        0 4\n' >>"$ROOT/proc/net/tcp"
run_script preflight.sh "${base[@]}" ROLE=agent
assert_eq "$STATUS" 0 "exit status ($ERR)"

t "on a host that already runs K3s the port check steps aside"
fake_host 2 4000000
printf '   1: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n' >>"$ROOT/proc/net/tcp"
mkdir -p "$ROOT/var/lib/rancher/k3s"
cp "$FAKES/k3s" "$ROOT/usr/local/bin/k3s"
run_script preflight.sh "${base[@]}"
assert_eq "$STATUS" 0 "exit status ($ERR)"
assert_contains "$OUT" '"ports":"skipped-k3s-installed"'
rm -rf "$ROOT/var/lib/rancher" "$ROOT/usr/local/bin/k3s"

t "artifacts for another architecture are caught"
fake_host 2 4000000
run_script preflight.sh "${base[@]}" EXPECTED_ARCH=arm64
assert_eq "$ERR" "preflight failed on edge-a1: architecture is amd64 but the artifacts are for arm64"

done_tests
