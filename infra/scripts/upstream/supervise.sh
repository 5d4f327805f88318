#!/usr/bin/env bash
# supervise.sh NAME LOG -- COMMAND [ARGS...]
#
# Writes the running child's pid to $SUPERVISE_RUN_DIR/NAME.child (if set), so
# that a stop can find a child whose supervisor was killed hard.
#
# Keeps one control-plane process running on a host without systemd (the lab
# hosts have no init of their own): restarts it when it exits, with a short
# back-off, and on TERM stops it and exits. Start it detached (setsid, all fds
# redirected) so that the SSH session that started it can end.
set -euo pipefail

name=${1:?usage: supervise.sh NAME LOG -- COMMAND...}
log=${2:?usage: supervise.sh NAME LOG -- COMMAND...}
shift 2
[[ ${1:-} == -- ]] && shift
(($# > 0)) || { echo "supervise.sh: no command for $name" >&2; exit 2; }

child=""
stopping=0
stop() {
  stopping=1
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit 0
}
trap stop TERM INT

backoff=1
while ((stopping == 0)); do
  started=$SECONDS
  echo "supervise: starting $name" >>"$log"
  "$@" >>"$log" 2>&1 &
  child=$!
  [[ -n ${SUPERVISE_RUN_DIR:-} ]] && echo "$child" >"$SUPERVISE_RUN_DIR/$name.child"
  rc=0
  wait "$child" || rc=$?
  child=""
  echo "supervise: $name exited with status $rc" >>"$log"
  # A process that ran for a while gets restarted at once; one that keeps
  # dying waits up to 30 s between attempts.
  if ((SECONDS - started > 30)); then backoff=1; else backoff=$((backoff * 2 > 30 ? 30 : backoff * 2)); fi
  sleep "$backoff" &
  wait $! || true
done
