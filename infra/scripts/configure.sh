#!/usr/bin/env bash
# configure.sh: write K3s's config files, each only when its content changed.
# The join token goes to the root-only file named by `token-file` in
# CONFIG_YAML; it is never echoed, logged or put on a command line.
#
# Environment (inputs):
#   HOST_NAME        required  inventory name, used in every message
#   CONFIG_YAML      required  rendered /etc/rancher/k3s/config.yaml (renderK3sConfig); must set token-file
#   EDGEFLEET_TOKEN  secret    the join token (HostCommand secretEnvironment). If unset and TOKEN_STDIN=1,
#                              the first line of stdin is the token. If neither, the token file is left
#                              as it is and must already exist.
#   TOKEN_STDIN      optional  1 = read the token from stdin (for running the file directly)
#   REGISTRIES_YAML  optional  rendered registries.yaml; unset = leave as is, empty = remove
#   SYSCTL_CONF      optional  kubelet sysctls (renderKubeletSysctls); unset = leave, empty = remove
#   APPLY_SYSCTL     optional  1 = `sysctl -p` the file whenever the running values differ from it
#                              (default 1 without ROOT, 0 with)
#   CONFIG_DIR       optional  default /etc/rancher/k3s
#   ROOT             optional  path prefix for every path (tests); default empty = the host
# Output: `EDGEFLEET_RESULT {json}` on stdout listing what changed.
set -euo pipefail
set +x

: "${HOST_NAME:?HOST_NAME is required}"
: "${CONFIG_YAML:?CONFIG_YAML is required}"
ROOT="${ROOT:-}"
CONF_D="$ROOT${CONFIG_DIR:-/etc/rancher/k3s}"
SYSCTL_FILE="$ROOT/etc/sysctl.d/90-edgefleet-k3s.conf"
APPLY_SYSCTL="${APPLY_SYSCTL:-$([ -z "$ROOT" ] && echo 1 || echo 0)}"

fail() {
  printf 'configure failed on %s: %s\n' "$HOST_NAME" "$*" >&2
  exit 1
}

changed=()

# put_file <path> <mode> <content>: atomic write when content or mode differ
put_file() {
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
  return 0
}

# token-file from the rendered config decides where the token lives
token_rel=$(printf '%s\n' "$CONFIG_YAML" | sed -n 's/^token-file: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' | head -n1)
[ -n "$token_rel" ] || fail "CONFIG_YAML has no token-file entry; the token must live in a root-only file"
case "$token_rel" in /*) ;; *) fail "token-file must be an absolute path, got '$token_rel'" ;; esac
token_path="$ROOT$token_rel"

token=""
if [ -n "${EDGEFLEET_TOKEN:-}" ]; then
  token=$EDGEFLEET_TOKEN
elif [ "${TOKEN_STDIN:-0}" = 1 ]; then
  IFS= read -r token || true
fi
unset EDGEFLEET_TOKEN
if [ -n "$token" ]; then
  case "$token" in *[[:space:]]*) fail "the join token must be one line without whitespace" ;; esac
  if put_file "$token_path" 0600 "$token"$'\n'; then changed+=(token); fi
elif [ ! -s "$token_path" ]; then
  fail "no join token given (EDGEFLEET_TOKEN) and none present at $token_rel"
fi
token=""

if put_file "$CONF_D/config.yaml" 0600 "$CONFIG_YAML"; then changed+=(config); fi

if [ -n "${REGISTRIES_YAML+set}" ]; then
  if [ -n "$REGISTRIES_YAML" ]; then
    if put_file "$CONF_D/registries.yaml" 0600 "$REGISTRIES_YAML"; then changed+=(registries); fi
  elif [ -e "$CONF_D/registries.yaml" ]; then
    rm -f "$CONF_D/registries.yaml"
    changed+=(registries)
  fi
fi

# sysctl_holds <file>: every `key = value` of the file is the running value
# (read from $ROOT/proc/sys, so tests can stand in for the kernel).
sysctl_holds() {
  local key value want have
  while IFS='=' read -r key value || [ -n "$key" ]; do
    key=$(printf '%s' "$key" | tr -d '[:space:]')
    case "$key" in '' | '#'* | ';'*) continue ;; esac
    want=$(printf '%s' "$value" | tr -s ' \t' ' ' | sed 's/^ //; s/ $//')
    [ -r "$ROOT/proc/sys/${key//.//}" ] || return 1
    have=$(tr -s ' \t' ' ' <"$ROOT/proc/sys/${key//.//}" | sed 's/^ //; s/ $//')
    [ "$have" = "$want" ] || return 1
  done <"$1"
}

if [ -n "${SYSCTL_CONF+set}" ]; then
  if [ -n "$SYSCTL_CONF" ]; then
    if put_file "$SYSCTL_FILE" 0644 "$SYSCTL_CONF"; then changed+=(sysctl); fi
    # Applied whenever the running values differ, not only when the file
    # changed: a run whose `sysctl -p` failed after the write is finished by
    # the next, and values changed on the host since are put back. Without
    # them the kubelet exits under protect-kernel-defaults.
    if [ "$APPLY_SYSCTL" = 1 ] && ! sysctl_holds "$SYSCTL_FILE"; then
      sysctl -q -p "$SYSCTL_FILE" >/dev/null || fail "could not apply kernel settings from ${SYSCTL_FILE#"$ROOT"}"
      sysctl_holds "$SYSCTL_FILE" || fail "kernel settings from ${SYSCTL_FILE#"$ROOT"} did not take effect (sysctl -p succeeded, the values differ)"
      case " ${changed[*]:-} " in *" sysctl "*) ;; *) changed+=(sysctl) ;; esac
    fi
  elif [ -e "$SYSCTL_FILE" ]; then
    rm -f "$SYSCTL_FILE"
    changed+=(sysctl)
  fi
fi

list=""
if [ "${#changed[@]}" -gt 0 ]; then
  list=$(printf '"%s",' "${changed[@]}")
  list=${list%,}
fi
printf 'EDGEFLEET_RESULT {"script":"configure","host":"%s","changed":%s,"files":[%s]}\n' \
  "$HOST_NAME" "$([ -n "$list" ] && echo true || echo false)" "$list"
