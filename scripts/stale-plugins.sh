#!/usr/bin/env bash
# stale-plugins.sh [--kill]: the plugin processes a killed `pulumi` CLI left
# running (README "Recovery").
#
# The CLI starts its language host and providers as children, each given the
# engine's address (127.0.0.1:<port>) as its last argument. When the CLI dies
# by SIGKILL they are not told: they live on with init as parent, and a
# provider in the middle of a host step keeps that step's SSH session, so the
# step runs on until it ends by itself and holds the host lock meanwhile. A
# plugin is stale when nothing listens on its engine's port any more. Only
# this project's are listed: the plugin's working directory is the project
# folder (this checkout), and with PULUMI_BACKEND_URL set, its environment
# names the same backend.
#
# Prints one line per stale plugin (pid, process group, command line).
# --kill sends TERM to each one's process group (the plugin, its node process,
# the ssh clients of its steps); once the SSH connection closes, the host ends
# the step (lib/hostStep.sh). Exits 0 either way.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kill_them=0
case ${1:-} in
  "") ;;
  --kill) kill_them=1 ;;
  *) echo "usage: stale-plugins.sh [--kill]" >&2; exit 2 ;;
esac

listening() { # listening PORT: something on this machine accepts on 127.0.0.1:PORT
  [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

groups=()
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [ "$(readlink "$dir/cwd" 2>/dev/null)" = "$repo" ] || continue
  mapfile -d '' -t argv <"$dir/cmdline" 2>/dev/null || continue
  [ ${#argv[@]} -ge 2 ] || continue
  case "${argv[*]}" in
    *pulumi-language-* | *pulumi-resource-* | *@pulumi/pulumi/cmd/dynamic-provider/*) ;;
    *) continue ;;
  esac
  engine=${argv[${#argv[@]} - 1]}
  [[ $engine =~ ^127\.0\.0\.1:([0-9]+)$ ]] || continue
  if [ -n "${PULUMI_BACKEND_URL:-}" ] &&
    ! tr '\0' '\n' <"$dir/environ" 2>/dev/null | grep -qxF "PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL"; then
    continue
  fi
  listening "${BASH_REMATCH[1]}" && continue
  # /proc/PID/stat after "(comm) ": state, parent, process group.
  pgid=$(sed 's/^.*) //' "$dir/stat" | cut -d' ' -f3)
  echo "$pid $pgid ${argv[*]}"
  groups+=("$pgid")
done

if [ "$kill_them" = 1 ] && [ ${#groups[@]} -gt 0 ]; then
  for g in $(printf '%s\n' "${groups[@]}" | sort -un); do
    kill -TERM -- "-$g" 2>/dev/null || true
  done
fi
