#!/usr/bin/env bash
# observe.sh: what a host has installed, for `pulumi refresh` (HostCommand's
# observe script). Run with the step's own environment (never its secrets)
# and changes nothing. Prints the step's environment keys it can observe as
# the host has them, in the form lib/hostCommandRun.ts observedEnvironment
# compares with the declared values: a *_SHA256 key as the installed file's
# sha256; a content key as sha256:<hex> of its file; "" for a file that is
# absent. Secret files (the token files) are never read: no value derived
# from them may reach state in clear, and configure.sh rewrites them anyway.
#
# Environment (inputs):
#   OBSERVE_STEP     required  install | configure | service: whose files to read
#   HOST_NAME        required  inventory name, used in every message
#   install:   K3S_SHA256, IMAGES_FILE, WASM_SHIM_SHA256 (empty: no shim), BIN_DIR, SHIM_DIR, IMAGES_DIR
#              as install.sh takes them
#   configure: CONFIG_YAML, REGISTRIES_YAML, SYSCTL_CONF (each observed only when set), CONFIG_DIR
#   service:   ROLE, SERVICE_MODE, SYSTEMCTL, BIN_DIR, SUPERVISOR_PATH, SUPERVISOR_PIDFILE,
#              SUPERVISOR_ENV_FILE as service.sh takes them
#   ROOT             optional  path prefix for every path (tests); default empty = the host
# Output: `EDGEFLEET_OBSERVED {json}` on stdout; failure: one line on stderr, exit 1.
set -euo pipefail

: "${OBSERVE_STEP:?OBSERVE_STEP is required (install|configure|service)}"
: "${HOST_NAME:?HOST_NAME is required}"
ROOT="${ROOT:-}"

fail() {
  printf 'observe failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

sum_of() { # file -> sha256, or empty when absent
  if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; fi
}
content_of() { # file -> sha256:<hex>, or empty when absent
  local s
  s=$(sum_of "$1")
  printf '%s' "${s:+sha256:$s}"
}

# Every value is a digest, "" or a fixed word: no JSON escaping is needed.
fields=()
put() { fields+=("\"$1\":\"$2\""); }

case "$OBSERVE_STEP" in
  install)
    : "${IMAGES_FILE:?IMAGES_FILE is required}"
    case "$IMAGES_FILE" in */* | .* | "") fail "IMAGES_FILE must be a plain file name, got '$IMAGES_FILE'" ;; esac
    bin="$ROOT${BIN_DIR:-/usr/local/bin}"
    shim="$ROOT${SHIM_DIR:-/usr/local/bin}/containerd-shim-wasmedge-v1"
    put K3S_SHA256 "$(sum_of "$bin/k3s")"
    put IMAGES_SHA256 "$(sum_of "$ROOT${IMAGES_DIR:-/var/lib/rancher/k3s/agent/images}/$IMAGES_FILE")"
    # A site without Wasm has none of ours: one install.sh put there (its
    # marker) and did not remove is drift; someone else's shim is not ours.
    if [ -n "${WASM_SHIM_SHA256:-}" ] || [ -f "$ROOT/var/lib/edgefleet/wasm-shim.installed" ]; then
      put WASM_SHIM_SHA256 "$(sum_of "$shim")"
    fi
    ;;
  configure)
    : "${CONFIG_YAML:?CONFIG_YAML is required}"
    conf="$ROOT${CONFIG_DIR:-/etc/rancher/k3s}"
    put CONFIG_YAML "$(content_of "$conf/config.yaml")"
    if [ -n "${REGISTRIES_YAML+set}" ]; then put REGISTRIES_YAML "$(content_of "$conf/registries.yaml")"; fi
    if [ -n "${SYSCTL_CONF+set}" ]; then put SYSCTL_CONF "$(content_of "$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf")"; fi
    ;;
  service)
    : "${ROLE:?ROLE is required (server|agent)}"
    : "${SERVICE_MODE:?SERVICE_MODE is required (systemd|supervise)}"
    case "$ROLE" in
      server) svc=k3s ;;
      agent) svc=k3s-agent ;;
      *) fail "ROLE must be server or agent, got '$ROLE'" ;;
    esac
    bin_rel="${BIN_DIR:-/usr/local/bin}"
    running=1
    case "$SERVICE_MODE" in
      systemd)
        put UNIT_CONTENT "$(content_of "$ROOT/etc/systemd/system/$svc.service")"
        put ENV_CONTENT "$(content_of "$ROOT/etc/systemd/system/$svc.service.env")"
        "${SYSTEMCTL:-systemctl}" is-active --quiet "$svc" || running=0
        ;;
      supervise)
        sup="$ROOT${SUPERVISOR_PATH:-$bin_rel/$svc-supervise}"
        put SUPERVISOR_CONTENT "$(content_of "$sup")"
        put ENV_CONTENT "$(content_of "$ROOT${SUPERVISOR_ENV_FILE:-/etc/rancher/k3s/$svc.env}")"
        # As service.sh's running_pid: our supervisor, not a reused pid.
        pid=$(cat "$ROOT${SUPERVISOR_PIDFILE:-/run/$svc-supervise.pid}" 2>/dev/null || true)
        if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null ||
          ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$sup"; then
          running=0
        fi
        ;;
      *) fail "SERVICE_MODE must be systemd or supervise, got '$SERVICE_MODE'" ;;
    esac
    # The applied digest is the controller's; a stopped service is the one
    # thing the host can say against it, and the next up starts it.
    if [ "$running" = 0 ]; then put EDGEFLEET_APPLIED "not running"; fi
    ;;
  *) fail "OBSERVE_STEP must be install, configure or service, got '$OBSERVE_STEP'" ;;
esac

list=$(printf '%s,' "${fields[@]}")
printf 'EDGEFLEET_OBSERVED {%s}\n' "${list%,}"
