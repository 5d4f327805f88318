#!/usr/bin/env bash
# configure.sh: write K3s's config files, each only when its content changed.
# The tokens go to the root-only files named by `token-file` and (servers)
# `agent-token-file` in CONFIG_YAML; they are never echoed, logged or put on a
# command line. infra/render/joinTokens.ts renders what each host's files hold.
#
# Environment (inputs):
#   HOST_NAME        required  inventory name, used in every message
#   CONFIG_YAML      required  rendered /etc/rancher/k3s/config.yaml (renderK3sConfig); must set token-file;
#                              a server's also sets agent-token-file (an agent's never does)
#   EDGEFLEET_TOKEN  secret    what token-file holds (HostCommand secretEnvironment): the bare server token on
#                              the first server, K10<ca-hash>::server:<token> on a joining server,
#                              K10<ca-hash>::node:<agent-token> on an agent
#   EDGEFLEET_AGENT_TOKEN secret what agent-token-file holds (servers): the bare agent token on the first server,
#                              K10<ca-hash>::node:<agent-token> on a joining one
#   EDGEFLEET_S3_ACCESS_KEY, EDGEFLEET_S3_SECRET_KEY secret  the etcd snapshot S3 credentials, when
#                              CONFIG_YAML sets `etcd-s3: true` (servers): written to S3_CREDENTIALS_FILE, a root-only
#                              config.yaml.d drop-in K3s merges after config.yaml, so config.yaml holds no secret.
#                              Without `etcd-s3: true` the drop-in is removed.
#                              If a secret is unset and TOKEN_STDIN=1, stdin gives it (line 1 the token, line 2
#                              the agent token, lines 3 and 4 the S3 access and secret key). If neither, its file
#                              is left as it is and must already exist.
#   TOKEN_STDIN      optional  1 = read the secrets from stdin (for running the file directly)
#   S3_CREDENTIALS_FILE optional default /etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml
#                              (config/etcdBackup.ts ETCD_S3_CREDENTIALS_FILE)
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
S3_REL="${S3_CREDENTIALS_FILE:-/etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml}"
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

# config_path <key>: the absolute path CONFIG_YAML gives for <key>, or empty
config_path() {
  local rel
  rel=$(printf '%s\n' "$CONFIG_YAML" | sed -n "s/^$1: *\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\} *\$/\\1/p" | head -n1)
  case "$rel" in
    '' | /*) printf '%s' "$rel" ;;
    *) fail "$1 must be an absolute path, got '$rel'" ;;
  esac
}

# token-file (and agent-token-file) from the rendered config decide where the tokens live
token_rel=$(config_path token-file)
[ -n "$token_rel" ] || fail "CONFIG_YAML has no token-file entry; the token must live in a root-only file"
agent_rel=$(config_path agent-token-file)
[ "$agent_rel" != "$token_rel" ] || fail "token-file and agent-token-file name the same file"

token=""
agent_token=""
if [ "${TOKEN_STDIN:-0}" = 1 ]; then
  IFS= read -r stdin_token || true
  IFS= read -r stdin_agent_token || true
  IFS= read -r stdin_s3_access || true
  IFS= read -r stdin_s3_secret || true
fi
token=${EDGEFLEET_TOKEN:-${stdin_token:-}}
agent_token=${EDGEFLEET_AGENT_TOKEN:-${stdin_agent_token:-}}
s3_access=${EDGEFLEET_S3_ACCESS_KEY:-${stdin_s3_access:-}}
s3_secret=${EDGEFLEET_S3_SECRET_KEY:-${stdin_s3_secret:-}}
unset EDGEFLEET_TOKEN EDGEFLEET_AGENT_TOKEN EDGEFLEET_S3_ACCESS_KEY EDGEFLEET_S3_SECRET_KEY
unset stdin_token stdin_agent_token stdin_s3_access stdin_s3_secret

# token_shape <value> <users>: the bare secret, or K10<64 hex>::<user>:<secret> with <user>
# one of <users> (a regex alternative). Nothing here prints the value.
token_shape() {
  case "$1" in *[[:space:]]*) return 1 ;; esac
  if [[ "$1" =~ ^K10[0-9a-f]{64}::($2):[^:]+$ ]]; then return 0; fi
  [[ "$1" != *:* ]]
}
# secret_of <value>: the secret part (what K3s keeps as the password)
secret_of() { printf '%s' "${1##*:}"; }

if [ -n "$agent_rel" ]; then
  # A server: the server token joins servers, the agent token (K3s's `node` user) agents.
  token_users=server
else
  # An agent never holds the server token in the form that pins the CA; the bare form
  # is a stack from before agent tokens (infra/K3S-NOTES.md §8), replaced on its next up.
  token_users=node
fi

# Every check before any write: a refused token leaves the host as it was.
if [ -n "$token" ]; then
  token_shape "$token" "$token_users" ||
    fail "the join token for token-file must be one line: the bare secret, or K10<sha256 of the cluster CA>::$token_users:<secret>"
elif [ ! -s "$ROOT$token_rel" ]; then
  fail "no join token given (EDGEFLEET_TOKEN) and none present at $token_rel"
fi
if [ -n "$agent_rel" ]; then
  if [ -n "$agent_token" ]; then
    token_shape "$agent_token" node ||
      fail "the agent token for agent-token-file must be one line: the bare secret, or K10<sha256 of the cluster CA>::node:<secret>"
    server_token=$token
    if [ -z "$server_token" ] && [ -s "$ROOT$token_rel" ]; then IFS= read -r server_token <"$ROOT$token_rel" || true; fi
    if [ -n "$server_token" ] && [ "$(secret_of "$server_token")" = "$(secret_of "$agent_token")" ]; then
      fail "the agent token must differ from the server token: an agent holding it could join as a server"
    fi
  elif [ ! -s "$ROOT$agent_rel" ]; then
    fail "no agent token given (EDGEFLEET_AGENT_TOKEN) and none present at $agent_rel"
  fi
elif [ -n "$agent_token" ]; then
  fail "an agent token was given but CONFIG_YAML has no agent-token-file (agents join with token-file only)"
fi

case "$S3_REL" in
  /*.yaml) ;;
  *) fail "S3_CREDENTIALS_FILE must be an absolute path ending in .yaml (K3s reads config.yaml.d/*.yaml only)" ;;
esac
# A credential K3s can read back from YAML as written below: one line of printable
# characters, no space (a quote is doubled inside single quotes).
s3_shape() { [[ "$1" =~ ^[[:graph:]]+$ ]]; }
s3_wanted=0
if printf '%s\n' "$CONFIG_YAML" | grep -qx 'etcd-s3: true'; then s3_wanted=1; fi
if [ "$s3_wanted" = 1 ]; then
  if [ -n "$s3_access$s3_secret" ]; then
    if ! s3_shape "$s3_access" || ! s3_shape "$s3_secret"; then
      fail "the S3 access key and secret key for etcd snapshots must both be given, each one line without spaces"
    fi
  elif [ ! -s "$ROOT$S3_REL" ]; then
    fail "CONFIG_YAML uploads etcd snapshots to S3 (etcd-s3: true) but no S3 credentials were given (EDGEFLEET_S3_ACCESS_KEY, EDGEFLEET_S3_SECRET_KEY) and none are present at $S3_REL"
  fi
elif [ -n "$s3_access$s3_secret" ]; then
  fail "S3 credentials were given but CONFIG_YAML does not set etcd-s3: true"
fi

if [ -n "$token" ] && put_file "$ROOT$token_rel" 0600 "$token"$'\n'; then changed+=(token); fi
if [ -n "$agent_token" ] && put_file "$ROOT$agent_rel" 0600 "$agent_token"$'\n'; then changed+=(agent-token); fi
token=""
agent_token=""
server_token=""

if [ "$s3_wanted" = 1 ] && [ -n "$s3_access" ]; then
  # Single-quoted YAML: a quote inside is doubled, nothing else is special.
  sq="'"
  if put_file "$ROOT$S3_REL" 0600 "# Managed by Edgefleet (Pulumi). Mode 0600.
etcd-s3-access-key: '${s3_access//$sq/$sq$sq}'
etcd-s3-secret-key: '${s3_secret//$sq/$sq$sq}'
"; then changed+=(s3-credentials); fi
elif [ "$s3_wanted" = 0 ] && [ -e "$ROOT$S3_REL" ]; then
  rm -f "$ROOT$S3_REL"
  changed+=(s3-credentials)
fi
s3_access=""
s3_secret=""

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
