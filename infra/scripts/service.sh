#!/usr/bin/env bash
# service.sh: run K3s as a service and restart it only when something it
# reads changed (binary, config, tokens, registries, shim, unit/env or
# supervisor). A fingerprint of those files is kept in
# /var/lib/edgefleet/<service>.applied; a re-run with nothing new is a no-op.
#
# Environment (inputs):
#   HOST_NAME           required  inventory name, used in every message
#   ROLE                required  server | agent  (service k3s | k3s-agent, as K3s's install.sh)
#   SERVICE_MODE        required  systemd | supervise (the host config chooses)
#   UNIT_CONTENT        systemd   rendered unit (renderSystemdUnit)
#   ENV_CONTENT         optional  rendered env file (renderEnvFile); default: an empty managed file
#   SUPERVISOR_CONTENT  supervise rendered supervisor script (renderSupervisor)
#   START_TIMEOUT_SECONDS optional how long `systemctl restart` may block (Type=notify), default 600
#   SYSTEMCTL           optional  systemctl command (tests substitute a fake), default systemctl
#   BIN_DIR             optional  default /usr/local/bin
#   S3_CREDENTIALS_FILE optional  the etcd S3 credentials drop-in, as configure.sh's
#   ROOT                optional  path prefix for every path (tests); default empty = the host
# Supervise-mode paths (must match what renderSupervisor was given):
#   SUPERVISOR_PATH     optional  default $BIN_DIR/<service>-supervise
#   SUPERVISOR_PIDFILE  optional  default /run/<service>-supervise.pid
#   SUPERVISOR_ENV_FILE optional  default /etc/rancher/k3s/<service>.env
# Output: `EDGEFLEET_RESULT {json}` on stdout.
set -euo pipefail

: "${HOST_NAME:?HOST_NAME is required}"
: "${ROLE:?ROLE is required (server|agent)}"
: "${SERVICE_MODE:?SERVICE_MODE is required (systemd|supervise)}"
ROOT="${ROOT:-}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
BIN_REL="${BIN_DIR:-/usr/local/bin}"
STATE_DIR="$ROOT/var/lib/edgefleet"

fail() {
  printf 'service failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

case "$ROLE" in
  server) svc=k3s ;;
  agent) svc=k3s-agent ;;
  *) fail "ROLE must be server or agent, got '$ROLE'" ;;
esac
ENV_CONTENT="${ENV_CONTENT:-# Managed by Edgefleet (Pulumi). Mode 0600.
}"

put_file() { # path mode content -> 0 when written
  local path=$1 mode=$2 content=$3 tmp
  if [ -f "$path" ] && [ "$(stat -c %a "$path")" = "${mode#0}" ] &&
    printf '%s' "$content" | cmp -s - "$path"; then
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  tmp=$(umask 077 && mktemp "$(dirname "$path")/.edgefleet.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
}

[ -x "$ROOT$BIN_REL/k3s" ] || fail "k3s is not installed at $BIN_REL/k3s (run install.sh first)"

# Everything K3s reads at start; a change in any of them needs a restart.
fingerprint_lines() {
  local f
  for f in "$ROOT$BIN_REL/k3s" "$ROOT/etc/rancher/k3s/config.yaml" "$ROOT/etc/rancher/k3s/registries.yaml" \
    "$ROOT/etc/rancher/k3s/edgefleet-token" "$ROOT/usr/local/bin/containerd-shim-wasmedge-v1" \
    "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf" "$@"; do
    if [ -f "$f" ]; then sha256sum "$f"; else printf 'absent %s\n' "$f"; fi
  done
  # image tarballs are imported at start; size and mtime are enough to notice a new one
  find "$ROOT/var/lib/rancher/k3s/agent/images" -maxdepth 1 -type f -printf '%f %s %T@\n' 2>/dev/null | sort || true
}
fingerprint() {
  fingerprint_lines "$@" | sha256sum | cut -d' ' -f1
}
# token-file and (servers) agent-token-file may point elsewhere; include them too
extra=()
for key in token-file agent-token-file; do
  rel=$(sed -n "s/^$key: *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\} *\$/\\1/p" "$ROOT/etc/rancher/k3s/config.yaml" 2>/dev/null | head -n1 || true)
  if [ -n "$rel" ]; then extra+=("$ROOT$rel"); fi
done
# The etcd S3 credentials drop-in (configure.sh), only when there: a host without
# one keeps the fingerprint it had, and is not restarted for it.
s3_dropin="$ROOT${S3_CREDENTIALS_FILE:-/etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml}"
if [ -f "$s3_dropin" ]; then extra+=("$s3_dropin"); fi

applied_file="$STATE_DIR/$svc.applied"
action=none

case "$SERVICE_MODE" in
  systemd)
    : "${UNIT_CONTENT:?UNIT_CONTENT is required for SERVICE_MODE=systemd}"
    unit="$ROOT/etc/systemd/system/$svc.service"
    envf="$ROOT/etc/systemd/system/$svc.service.env"
    files_changed=0
    if put_file "$unit" 0644 "$UNIT_CONTENT"; then files_changed=1; fi
    if put_file "$envf" 0600 "$ENV_CONTENT"; then files_changed=1; fi
    if [ "$files_changed" = 1 ]; then "$SYSTEMCTL" daemon-reload; fi
    if ! "$SYSTEMCTL" is-enabled --quiet "$svc" 2>/dev/null; then
      "$SYSTEMCTL" enable "$svc" >/dev/null 2>&1 || fail "systemctl enable $svc failed"
      files_changed=1
    fi
    fp=$(fingerprint "$unit" "$envf" ${extra[@]+"${extra[@]}"})
    if [ "$fp" != "$(cat "$applied_file" 2>/dev/null || true)" ] || ! "$SYSTEMCTL" is-active --quiet "$svc"; then
      if ! timeout "${START_TIMEOUT_SECONDS:-600}" "$SYSTEMCTL" restart "$svc"; then
        fail "$svc did not start within ${START_TIMEOUT_SECONDS:-600}s; see 'journalctl -u $svc'"
      fi
      action=restarted
    elif [ "$files_changed" = 1 ]; then
      action=updated
    fi
    ;;
  supervise)
    : "${SUPERVISOR_CONTENT:?SUPERVISOR_CONTENT is required for SERVICE_MODE=supervise}"
    sup="$ROOT${SUPERVISOR_PATH:-$BIN_REL/$svc-supervise}"
    pidfile="$ROOT${SUPERVISOR_PIDFILE:-/run/$svc-supervise.pid}"
    envf="$ROOT${SUPERVISOR_ENV_FILE:-/etc/rancher/k3s/$svc.env}"
    files_changed=0
    if put_file "$sup" 0755 "$SUPERVISOR_CONTENT"; then files_changed=1; fi
    if put_file "$envf" 0600 "$ENV_CONTENT"; then files_changed=1; fi

    running_pid() { # pid of our supervisor, if alive (guards against pid reuse)
      local pid
      pid=$(cat "$pidfile" 2>/dev/null || true)
      [[ "$pid" =~ ^[0-9]+$ ]] || return 1
      kill -0 "$pid" 2>/dev/null || return 1
      tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$sup" || return 1
      printf '%s' "$pid"
    }

    fp=$(fingerprint "$sup" "$envf" ${extra[@]+"${extra[@]}"})
    pid=$(running_pid || true)
    if [ -n "$pid" ] && [ "$fp" = "$(cat "$applied_file" 2>/dev/null || true)" ]; then
      [ "$files_changed" = 1 ] && action=updated
    else
      if [ -n "$pid" ]; then
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$pid" 2>/dev/null; then fail "supervisor (pid $pid) did not stop within 30s"; fi
      fi
      mkdir -p "$(dirname "$pidfile")"
      rm -f "$pidfile"
      setsid "$sup" </dev/null >/dev/null 2>&1 &
      for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
      running_pid >/dev/null || fail "supervisor $sup did not start (no live pid in ${pidfile#"$ROOT"})"
      action=$([ -n "$pid" ] && echo restarted || echo started)
    fi
    ;;
  *) fail "SERVICE_MODE must be systemd or supervise, got '$SERVICE_MODE'" ;;
esac

if [ "$fp" != "$(cat "$applied_file" 2>/dev/null || true)" ]; then
  mkdir -p "$STATE_DIR"
  printf '%s\n' "$fp" >"$applied_file"
fi
changed=$([ "$action" = none ] && echo false || echo true)
printf 'EDGEFLEET_RESULT {"script":"service","host":"%s","changed":%s,"service":"%s","mode":"%s","action":"%s"}\n' \
  "$HOST_NAME" "$changed" "$svc" "$SERVICE_MODE" "$action"
