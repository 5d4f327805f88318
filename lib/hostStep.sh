#!/usr/bin/env bash
# lib/hostStep.sh: the host side of every host step, on both transports.
#
# stepPayload() (lib/hostCommandRun.ts) sends, on the stdin of `bash -s`:
#
#   1. the EDGEFLEET_* settings below, as plain assignments;
#   2. this file, without its comment lines;
#   3. the step: a function holding its exports (secrets included) and its
#      script, and the line that calls it with stdin /dev/null.
#
# The `bash -s` that sshd started (the "outer" shell) runs parts 1 and 2 only:
# the last line of this file ends it with `exit`, so it never reads part 3.
# It takes the host lock, then starts a second `bash -s` in a session of its
# own (setsid) under coreutils `timeout`; that shell inherits the same stdin
# and reads part 3 from where the outer one stopped (bash reads a script on
# stdin no further than the command it runs, which is what makes `bash -s`
# scripts able to hand their stdin on). So the secrets are parsed by the step's
# own shell only, and nothing of the step is ever on a command line.
#
# Why each piece (issue 14): an SSH session without a PTY gets no hangup when
# the controller goes away, so before this wrapper a step whose controller
# timed out or died kept running on the host, unlocked, and could race the
# retry. Now:
#   - the step runs in its own session, so all of it can be signalled at once:
#     its process group, and every other process of the session (a script's
#     own `timeout` puts its command in a new process group, but not in a new
#     session). Only what the step detaches on purpose with setsid (a service
#     supervisor) is not the step's and stays.
#   - a host-side deadline: `timeout` sends TERM to the step's process group at
#     EDGEFLEET_TIMEOUT seconds (the lock wait included) and KILL
#     EDGEFLEET_KILL_AFTER seconds later, and the whole session is swept after
#     it. This holds when the controller died, its network is gone, or the TCP
#     connection is half-open (sshd would not notice for hours): nothing on the
#     controller side is needed for the step to end.
#   - a watcher (a background subshell of the outer shell) checks every second
#     that the sshd process carrying this session is still there. When the
#     connection closes (the controller's own timeout closes it on purpose:
#     lib/hostCommandRun.ts kills its ssh and its control master; the command
#     provider's session ends with the engine), that process exits, and the
#     watcher stops the step's session at once instead of at the deadline.
#     A follow-up "kill" over a new SSH connection would add nothing: the
#     controller gives up only after the host's own deadline, when either the
#     connection is gone (the watcher's case) or the host cannot be reached
#     (a new connection could not reach it either).
#   - a host lock: flock on $EDGEFLEET_LOCK_DIR/host.lock (default
#     /run/edgefleet, a tmpfs: a reboot clears it), exclusive for steps that
#     change the host, shared for steps that only read it (preflight, the
#     kubeconfig), none for steps that run on a server on behalf of another
#     node (readiness, drain), which run side by side on purpose. flock is
#     released by the kernel when the last process holding it exits, so a run
#     that died never blocks the next one; the holder records
#     (holder.<pid>) only name who holds it. The step's own shell does not get
#     the lock's descriptor: a daemon the step starts would otherwise hold the
#     lock for as long as it lives.
#
# Exit codes of the outer shell, besides the step's own: 124 the step timed out
# on the host (message on stderr), 75 the host lock was not free in time
# (message names the holder), 70 the host lacks a tool this wrapper needs.
set -euo pipefail

: "${EDGEFLEET_STEP:=unnamed step}"
: "${EDGEFLEET_LOCK:=exclusive}"
: "${EDGEFLEET_TIMEOUT:=900}"
: "${EDGEFLEET_KILL_AFTER:=10}"
: "${EDGEFLEET_LOCK_WAIT:=60}"
: "${EDGEFLEET_CONTROLLER:=}"

ef_now() { printf '%(%s)T' -1; }

# ef_stat PID: sets ef_f to the fields of /proc/PID/stat after the command
# name (ef_f[0] is field 3, the state; ef_f[1] the parent, ef_f[3] the session,
# ef_f[19] the start time) and ef_comm to the name. Fails if PID is gone.
ef_stat() {
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  ef_comm=${line#*(}
  ef_comm=${ef_comm%)*}
  # Word splitting, not a here-string: called for every process of the host
  # in a sweep. The fields are numbers and one state letter: nothing to glob.
  # shellcheck disable=SC2206
  ef_f=(${line##*) })
}

# ef_alive PID START: PID still runs and is the process that started at START
# (a pid can be reused), and is not a zombie.
ef_alive() {
  ef_stat "$1" || return 1
  [ "${ef_f[19]}" = "$2" ] && [ "${ef_f[0]}" != Z ]
}

# ef_members SID: the pids of every live process of session SID.
ef_members() {
  local p
  for p in /proc/[0-9]*; do
    ef_stat "${p#/proc/}" || continue
    if [ "${ef_f[3]}" = "$1" ] && [ "${ef_f[0]}" != Z ]; then printf '%s\n' "${p#/proc/}"; fi
  done
  return 0
}

# ef_signal SIG SID: SIG to the session's process group, then to every other
# process of the session.
ef_signal() {
  local p
  kill "-$1" -- "-$2" 2>/dev/null || true
  for p in $(ef_members "$2"); do kill "-$1" "$p" 2>/dev/null || true; done
}

# ef_stop_session SID GRACE: TERM to all of session SID, KILL to what is left
# after GRACE seconds, until none is left (or 5 more seconds: a process stuck
# in the kernel cannot be killed). Safe to run twice at once.
ef_stop_session() {
  local until
  ef_signal TERM "$1"
  # Whole seconds (printf %()T): the grace is GRACE to GRACE+1 s.
  until=$(($(ef_now) + $2))
  while [ "$(ef_now)" -le "$until" ] && [ "$2" -gt 0 ]; do
    [ -z "$(ef_members "$1")" ] && return 0
    ef_sleep 0.1
  done
  until=$(($(ef_now) + 5))
  while :; do
    ef_signal KILL "$1"
    [ -z "$(ef_members "$1")" ] && return 0
    [ "$(ef_now)" -le "$until" ] || return 1
    ef_sleep 0.1
  done
}

# sleep without the lock's descriptor: a sleep left behind by a killed watcher
# must not hold the lock.
ef_sleep() { sleep "$1" {ef_lock_fd}>&-; }

ef_log() {
  if command -v logger >/dev/null 2>&1; then logger -t edgefleet -- "$*" 2>/dev/null || true; fi
}

# The sshd process that carries this SSH session: the nearest ancestor named
# sshd or sshd-session (OpenSSH) or dropbear; our parent if there is none.
# It exits when the connection closes; this shell does not.
ef_find_anchor() {
  local p=$PPID i
  for ((i = 0; i < 4; i++)); do
    ef_stat "$p" || break
    case $ef_comm in
      sshd | sshd-session | dropbear)
        ef_anchor=$p
        ef_anchor_start=${ef_f[19]}
        return 0
        ;;
    esac
    p=${ef_f[1]}
    [ "$p" -gt 1 ] || break
  done
  ef_anchor=$PPID
  ef_anchor_start=gone
  if ef_stat "$PPID"; then ef_anchor_start=${ef_f[19]}; fi
}

ef_connected() { ef_alive "$ef_anchor" "$ef_anchor_start"; }

# Who holds the lock, one line per live holder record, else what has the lock
# file open.
ef_holders() {
  local r pid started mode step controller from since until session found=""
  for r in "$ef_dir"/holder.*; do
    [ -f "$r" ] || continue
    pid="" started="" mode="" step="" controller="" from="" since="" until="" session=""
    while IFS='=' read -r k v; do
      case $k in
        pid) pid=$v ;; started) started=$v ;; mode) mode=$v ;; step) step=$v ;;
        controller) controller=$v ;; from) from=$v ;; since) since=$v ;; until) until=$v ;; session) session=$v ;;
      esac
    done <"$r"
    if [ -z "$pid" ] || [ "$pid" = "$$" ] || ! ef_alive "$pid" "$started"; then continue; fi
    found=1
    printf '  held (%s) by step %s, controller %s, connected from %s, since %s; it ends by itself by %s at the latest; on this host: pid %s, %s\n' \
      "$mode" "$step" "${controller:-unknown}" "${from:-unknown}" "$since" "$until" "$pid" \
      "$(if [ -n "$session" ]; then printf 'step session %s (to end it now: pkill -s %s)' "$session" "$session"; else printf 'step not started yet'; fi)"
  done
  if [ -z "$found" ]; then
    printf '  held by a process that left no record; it has the lock file open: %s\n' \
      "$(find /proc/[0-9]*/fd -lname "$ef_file" 2>/dev/null | cut -d/ -f3 | grep -vx "$$" | sort -un | tr '\n' ' ')"
  fi
  return 0
}

ef_record() {
  printf '%s\n' "pid=$$" "started=$ef_self_start" "mode=$EDGEFLEET_LOCK" "step=$EDGEFLEET_STEP" \
    "controller=$EDGEFLEET_CONTROLLER" "from=${ef_from}" "since=$ef_since" \
    "until=$(date -u -d "@$((ef_deadline + EDGEFLEET_KILL_AFTER + 2))" +%FT%TZ)" "session=${1:-}" >"$ef_record.tmp"
  mv -f "$ef_record.tmp" "$ef_record"
}

ef_take_lock() {
  local flag=-x waited=0 until
  [ "$EDGEFLEET_LOCK" = shared ] && flag=-s
  until=$((ef_start + EDGEFLEET_LOCK_WAIT))
  [ "$until" -le "$ef_deadline" ] || until=$ef_deadline
  until flock "$flag" -w 1 "$ef_lock_fd"; do
    if ! ef_connected; then
      ef_log "step $EDGEFLEET_STEP: the controller's connection closed while it waited for the host lock; not started"
      exit 75
    fi
    if [ "$waited" = 0 ]; then
      printf 'edgefleet: %s: waiting up to %ss for the host lock (%s):\n%s\n' "$HOSTNAME" "$((until - ef_start))" \
        "$ef_file" "$(ef_holders)" >&2
      waited=1
    fi
    if [ "$(ef_now)" -ge "$until" ]; then
      printf 'edgefleet: %s is being changed by another run: the host lock %s was not free after %ss (wanted %s for step %s).\n%s\n' \
        "$HOSTNAME" "$ef_file" "$(($(ef_now) - ef_start))" "$EDGEFLEET_LOCK" "$EDGEFLEET_STEP" "$(ef_holders)" >&2
      printf 'Fix: let that run finish, then run again. If its controller is gone, its step ends by itself by the time shown, or end it now on the host with the pkill shown; the lock is free as soon as it has exited. Do not delete %s: that does not stop the holder and lets two runs change the host at once.\n' \
        "$ef_file" >&2
      ef_log "step $EDGEFLEET_STEP: refused, the host lock was not free after $((until - ef_start))s"
      exit 75
    fi
  done
  # Records of holders that died without cleaning up (an exclusive holder is
  # alone; a shared one removes only the dead).
  local r pid started
  for r in "$ef_dir"/holder.*; do
    if [ ! -f "$r" ] || [ "$r" = "$ef_record" ]; then continue; fi
    pid=$(sed -n 's/^pid=//p' "$r")
    started=$(sed -n 's/^started=//p' "$r")
    if [ "$EDGEFLEET_LOCK" = exclusive ] || ! ef_alive "$pid" "$started"; then rm -f "$r"; fi
  done
}

# Runs in the background for the life of the step: stops the step's session
# when the connection closes, or when the deadline has passed and the step
# still runs (the outer shell is stuck or gone). Ignores HUP and PIPE: it must
# outlive whatever happens to the session it guards.
ef_watch() {
  trap '' HUP PIPE INT
  local sid=""
  while :; do
    if [ -z "$sid" ] && read -r sid 2>/dev/null <"$ef_sid_file"; then
      [ "$EDGEFLEET_LOCK" = none ] || ef_record "$sid"
    fi
    if ! ef_connected; then
      if [ -n "$sid" ]; then
        ef_log "step $EDGEFLEET_STEP: the controller's connection closed; stopping its session $sid"
        ef_stop_session "$sid" "$EDGEFLEET_KILL_AFTER" || true
      fi
      return 0
    fi
    if [ "$(ef_now)" -ge $((ef_deadline + EDGEFLEET_KILL_AFTER + 2)) ] && [ -n "$sid" ]; then
      ef_log "step $EDGEFLEET_STEP: past its deadline; stopping its session $sid"
      ef_stop_session "$sid" 0 || true
      return 0
    fi
    # The outer shell gone and nothing of the step left: nothing to guard.
    if ! ef_alive "$$" "$ef_self_start" && { [ -z "$sid" ] || [ -z "$(ef_members "$sid")" ]; }; then return 0; fi
    ef_sleep 1
  done
}

# shellcheck disable=SC2317 # run by the EXIT trap
ef_cleanup() {
  if [ -n "$ef_watcher" ]; then
    kill "$ef_watcher" 2>/dev/null || true
    wait "$ef_watcher" 2>/dev/null || true
  fi
  rm -f "$ef_record" "$ef_record.tmp" "$ef_sid_file"
}

ef_main() {
  local tool
  for tool in flock setsid timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      printf 'edgefleet: %s has no %s (util-linux, coreutils): host steps need it. Install it and run again.\n' "$HOSTNAME" "$tool" >&2
      exit 70
    fi
  done
  ef_start=$(ef_now)
  ef_deadline=$((ef_start + EDGEFLEET_TIMEOUT))
  ef_since=$(date -u +%FT%TZ)
  ef_from=${SSH_CLIENT:-}
  ef_from=${ef_from%% *}
  ef_stat "$$"
  ef_self_start=${ef_f[19]}
  ef_find_anchor

  # The lock directory: /run/edgefleet unless the session's environment says
  # otherwise (tests, or sshd's SetEnv); a user who cannot create it (not
  # root) gets one of their own.
  ef_dir=${EDGEFLEET_LOCK_DIR:-/run/edgefleet}
  mkdir -m 0755 "$ef_dir" 2>/dev/null || true
  if [ ! -d "$ef_dir" ] || [ ! -w "$ef_dir" ]; then
    ef_dir=${TMPDIR:-/tmp}/edgefleet-$(id -u)
    mkdir -m 0700 "$ef_dir" 2>/dev/null || true
    [ -O "$ef_dir" ] || {
      printf 'edgefleet: %s: %s is not owned by this user; refusing to use it as the host lock directory\n' "$HOSTNAME" "$ef_dir" >&2
      exit 70
    }
  fi
  ef_file=$ef_dir/host.lock
  ef_record=$ef_dir/holder.$$
  ef_sid_file=$ef_dir/session.$$
  rm -f "$ef_sid_file"
  ef_watcher=""
  trap 'ef_cleanup' EXIT
  exec {ef_lock_fd}>>"$ef_file"
  if [ "$EDGEFLEET_LOCK" != none ]; then
    ef_take_lock
    ef_record ""
  fi

  local remaining=$((ef_deadline - $(ef_now)))
  [ "$remaining" -ge 1 ] || remaining=1
  # The watcher gets the lock's descriptor (it holds the lock until it is done
  # stopping a step); its sleeps and signals do not need it.
  ef_watch </dev/null >/dev/null 2>&1 &
  ef_watcher=$!

  # The step: a new session whose first process writes its id (= its pid)
  # where the watcher reads it, then becomes `timeout`, whose child reads the
  # rest of this stdin. Only the lock's descriptor is withheld.
  local rc=0
  # This shell's own stderr is /dev/null meanwhile: it would add "Killed" and
  # the command line when the deadline kills the step; the step writes to the
  # session's stderr through ef_err.
  exec {ef_err}>&2
  {
    # shellcheck disable=SC2016 # expanded by that bash, from its arguments
    setsid -w bash -c 'printf "%s\n" "$$" >"$1" && exec timeout --kill-after="$2" "$3" bash -s' \
      edgefleet-step "$ef_sid_file" "${EDGEFLEET_KILL_AFTER}s" "${remaining}s" 2>&"$ef_err" {ef_err}>&- {ef_lock_fd}>&- || rc=$?
  } 2>/dev/null
  trap '' PIPE
  local sid=""
  read -r sid 2>/dev/null <"$ef_sid_file" || sid=""

  if ! ef_connected; then
    # Nobody listens any more: stop what is left of the step, report to syslog.
    [ -z "$sid" ] || ef_stop_session "$sid" "$EDGEFLEET_KILL_AFTER" || true
    exit "$rc"
  fi
  if [ "$rc" -ne 0 ] && [ "$(ef_now)" -ge "$ef_deadline" ]; then
    local left=""
    if [ -n "$sid" ] && ! ef_stop_session "$sid" "$EDGEFLEET_KILL_AFTER"; then left=$(ef_members "$sid" | tr '\n' ' '); fi
    ef_log "step $EDGEFLEET_STEP: timed out after ${EDGEFLEET_TIMEOUT}s; its session $sid was stopped"
    if [ -n "$left" ]; then
      printf 'edgefleet: timed out after %ss on %s (step %s); processes %sof its session %s could not be killed.\n' \
        "$EDGEFLEET_TIMEOUT" "$HOSTNAME" "$EDGEFLEET_STEP" "$left" "$sid" >&2
    else
      printf 'edgefleet: timed out after %ss on %s (step %s); every process of it was stopped (TERM, then KILL after %ss).\n' \
        "$EDGEFLEET_TIMEOUT" "$HOSTNAME" "$EDGEFLEET_STEP" "$EDGEFLEET_KILL_AFTER" >&2
    fi
    exit 124
  fi
  return "$rc"
}

# One line: this shell has read it whole before the step's shell reads on.
ef_main; exit
