#!/usr/bin/env bash
# preflight.sh: can this host run K3s as declared? Runs before anything is
# installed; changes nothing. Every failed check is collected and reported on
# ONE stderr line "preflight failed on <host>: <reason>; <reason>", exit 1.
#
# Environment (inputs):
#   HOST_NAME             required  inventory name, used in every message
#   ROLE                  required  server | agent
#   MIN_CPU_MILLIS        required  declared CPU of the size class, millicores
#   MIN_MEMORY_MIB        required  declared memory of the size class, MiB
#   TOLERANCE_PERCENT     optional  how far below the declared size a host may be (default 10:
#                                   the kernel reserves part of RAM, so a "4G" box reports ~3.8 GiB)
#   EXPECTED_ARCH         optional  amd64 | arm64 | arm; default: any architecture K3s ships for
#   OTHER_HOSTNAMES       optional  hostnames of the site's other hosts (space or comma separated)
#   REFERENCE_EPOCH       optional  controller's clock (unix seconds) when the step was sent
#   MAX_CLOCK_SKEW_SECONDS optional default 30
#   CHECK_PORTS           optional  1 (default) | 0
#   ROOT                  optional  path prefix for every file read (tests); default empty = the host
#   MACHINE_ARCH          optional  stands in for `uname -m` (tests)
# Output: one line `EDGEFLEET_RESULT {json}` on stdout on success.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${ROLE:?ROLE is required (server|agent)}"
: "${MIN_CPU_MILLIS:?MIN_CPU_MILLIS is required}"
: "${MIN_MEMORY_MIB:?MIN_MEMORY_MIB is required}"
ROOT="${ROOT:-}"
TOLERANCE_PERCENT="${TOLERANCE_PERCENT:-10}"
MAX_CLOCK_SKEW_SECONDS="${MAX_CLOCK_SKEW_SECONDS:-30}"
CHECK_PORTS="${CHECK_PORTS:-1}"

failures=()
fail_check() { failures+=("$1"); }

case "$ROLE" in server | agent) ;; *)
  printf 'preflight failed on %s: ROLE must be server or agent, got "%s"\n' "$HOST_NAME" "$ROLE" >&2
  exit 1
  ;;
esac

# --- architecture: the arches K3s publishes binaries for ---
machine="${MACHINE_ARCH:-$(uname -m)}"
case "$machine" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  armv7l | armv7 | armhf | arm) arch=arm ;;
  *) arch="" ;;
esac
if [ -z "$arch" ]; then
  fail_check "architecture $machine is not supported by K3s (amd64, arm64, arm)"
elif [ -n "${EXPECTED_ARCH:-}" ] && [ "$arch" != "$EXPECTED_ARCH" ]; then
  fail_check "architecture is $arch but the artifacts are for $EXPECTED_ARCH"
fi

# --- cgroup v2 with the memory controller ---
controllers_file="$ROOT/sys/fs/cgroup/cgroup.controllers"
if [ ! -f "$controllers_file" ]; then
  fail_check "cgroup v2 is not mounted at /sys/fs/cgroup (unified hierarchy required)"
else
  for c in cpu memory pids; do
    if ! grep -qw "$c" "$controllers_file"; then
      fail_check "cgroup v2 controller '$c' is not available"
    fi
  done
fi

# --- CPU: online CPUs, capped by a cgroup quota when the host is a container ---
cpus=0
if [ -r "$ROOT/proc/cpuinfo" ]; then
  cpus=$(grep -c '^processor' "$ROOT/proc/cpuinfo" || true)
fi
if [ -z "$ROOT" ] && command -v nproc >/dev/null 2>&1; then
  n=$(nproc)
  if [ "$cpus" -eq 0 ] || [ "$n" -lt "$cpus" ]; then cpus=$n; fi
fi
cpu_millis=$((cpus * 1000))
if [ -r "$ROOT/sys/fs/cgroup/cpu.max" ]; then
  read -r quota period <"$ROOT/sys/fs/cgroup/cpu.max" || true
  if [[ "${quota:-max}" =~ ^[0-9]+$ ]] && [[ "${period:-0}" =~ ^[1-9][0-9]*$ ]]; then
    q=$((quota * 1000 / period))
    if [ "$q" -lt "$cpu_millis" ]; then cpu_millis=$q; fi
  fi
fi
need_cpu=$((MIN_CPU_MILLIS * (100 - TOLERANCE_PERCENT) / 100))
if [ "$cpu_millis" -lt "$need_cpu" ]; then
  fail_check "CPU ${cpu_millis}m is below the declared ${MIN_CPU_MILLIS}m (tolerance ${TOLERANCE_PERCENT}%)"
fi

# --- memory: MemTotal, capped by a cgroup limit when the host is a container ---
mem_mib=0
if [ -r "$ROOT/proc/meminfo" ]; then
  kb=$(awk '/^MemTotal:/ {print $2}' "$ROOT/proc/meminfo")
  mem_mib=$((${kb:-0} / 1024))
fi
if [ -r "$ROOT/sys/fs/cgroup/memory.max" ]; then
  limit=$(cat "$ROOT/sys/fs/cgroup/memory.max")
  if [[ "$limit" =~ ^[0-9]+$ ]]; then
    l=$((limit / 1048576))
    if [ "$l" -lt "$mem_mib" ]; then mem_mib=$l; fi
  fi
fi
need_mem=$((MIN_MEMORY_MIB * (100 - TOLERANCE_PERCENT) / 100))
if [ "$mem_mib" -lt "$need_mem" ]; then
  fail_check "memory ${mem_mib}Mi is below the declared ${MIN_MEMORY_MIB}Mi (tolerance ${TOLERANCE_PERCENT}%)"
fi

# --- ports K3s binds; skipped once K3s is installed, since then K3s itself holds them ---
ports_state=checked
if [ "$CHECK_PORTS" != 1 ]; then
  ports_state=skipped
elif [ -x "$ROOT/usr/local/bin/k3s" ] && [ -d "$ROOT/var/lib/rancher/k3s" ]; then
  ports_state=skipped-k3s-installed
else
  # port numbers in /proc/net/* are hex; LISTEN is state 0A for tcp, 07 is a bound udp socket
  listening() { # proto port
    local proto=$1 port=$2 hex file state=07
    hex=$(printf '%04X' "$port")
    if [ "$proto" = tcp ]; then state=0A; fi
    for file in "$ROOT/proc/net/$proto" "$ROOT/proc/net/${proto}6"; do
      [ -r "$file" ] || continue
      if awk -v p=":$hex" -v st="$state" \
        'NR > 1 && substr($2, length($2) - 4) == p && $4 == st {found = 1} END {exit !found}' "$file"; then
        return 0
      fi
    done
    return 1
  }
  tcp_ports=(6444 10250)
  if [ "$ROLE" = server ]; then tcp_ports=(2379 2380 6443 6444 10250); fi
  busy=()
  for p in "${tcp_ports[@]}"; do
    if listening tcp "$p"; then busy+=("$p/tcp"); fi
  done
  if listening udp 8472; then busy+=("8472/udp"); fi
  if [ "${#busy[@]}" -gt 0 ]; then
    fail_check "port(s) ${busy[*]} already in use"
  fi
fi

# --- hostname: K3s registers nodes by name, two hosts with one name collide ---
hostname_now=""
if [ -r "$ROOT/proc/sys/kernel/hostname" ]; then
  hostname_now=$(cat "$ROOT/proc/sys/kernel/hostname")
else
  hostname_now=$(hostname)
fi
lower_self=$(printf '%s' "$hostname_now" | tr '[:upper:]' '[:lower:]')
others="${OTHER_HOSTNAMES:-}"
for other in ${others//,/ }; do
  if [ "$(printf '%s' "$other" | tr '[:upper:]' '[:lower:]')" = "$lower_self" ]; then
    fail_check "hostname $hostname_now is also used by another host of the site"
    break
  fi
done

# --- clock skew against the controller: TLS certificates and etcd leases need agreeing clocks ---
skew=0
if [ -n "${REFERENCE_EPOCH:-}" ]; then
  now=$(date +%s)
  skew=$((now - REFERENCE_EPOCH))
  abs=${skew#-}
  if [ "$abs" -gt "$MAX_CLOCK_SKEW_SECONDS" ]; then
    fail_check "clock is off by ${skew}s from the controller (limit ${MAX_CLOCK_SKEW_SECONDS}s)"
  fi
fi

if [ "${#failures[@]}" -gt 0 ]; then
  joined=$(printf '%s; ' "${failures[@]}")
  printf 'preflight failed on %s: %s\n' "$HOST_NAME" "${joined%; }" >&2
  exit 1
fi

printf 'EDGEFLEET_RESULT {"script":"preflight","host":"%s","changed":false,"arch":"%s","cpuMillis":%d,"memoryMiB":%d,"hostname":"%s","clockSkewSeconds":%d,"ports":"%s"}\n' \
  "$HOST_NAME" "$arch" "$cpu_millis" "$mem_mib" "$hostname_now" "$skew" "$ports_state"
