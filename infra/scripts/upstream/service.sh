#!/usr/bin/env bash
# Sourced by the lab's host-side scripts: supervised long-running processes on
# hosts without systemd. State lives in /run (gone when the host is), logs in
# /var/log/edgefleet-lab.
# shellcheck shell=bash

SERVICE_RUN_DIR=/run/edgefleet-lab
SERVICE_LOG_DIR=/var/log/edgefleet-lab
SERVICE_SUPERVISOR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/supervise.sh

service_pid() {
  local pid
  pid=$(cat "$SERVICE_RUN_DIR/$1.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q supervise "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

service_stop() {
  local name=$1 pid child
  if pid=$(service_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  child=$(cat "$SERVICE_RUN_DIR/$name.child" 2>/dev/null || true)
  if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
    kill -KILL "$child" 2>/dev/null || true
  fi
  rm -f "$SERVICE_RUN_DIR/$name.pid" "$SERVICE_RUN_DIR/$name.child" "$SERVICE_RUN_DIR/$name.spec"
}

# service_start NAME -- COMMAND [ARGS...]
# Starts COMMAND under the supervisor unless it already runs with the same
# command line and the same binary; a change restarts it. Prints
# "NAME: unchanged|started".
service_start() {
  local name=$1
  shift
  [[ ${1:-} == -- ]] && shift
  mkdir -p "$SERVICE_RUN_DIR" "$SERVICE_LOG_DIR"
  local spec
  spec="$(sha256sum "$(command -v "$1")" | cut -d' ' -f1) $*"
  if service_pid "$name" >/dev/null && [[ $(cat "$SERVICE_RUN_DIR/$name.spec" 2>/dev/null) == "$spec" ]]; then
    echo "$name: unchanged"
    return 0
  fi
  service_stop "$name"
  echo "$spec" >"$SERVICE_RUN_DIR/$name.spec"
  SUPERVISE_RUN_DIR=$SERVICE_RUN_DIR setsid "$SERVICE_SUPERVISOR" "$name" "$SERVICE_LOG_DIR/$name.log" -- "$@" \
    </dev/null >/dev/null 2>&1 &
  echo "$!" >"$SERVICE_RUN_DIR/$name.pid"
  echo "$name: started"
}
