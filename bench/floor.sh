#!/usr/bin/env bash
# bench/floor.sh N...: the floor (lib.sh floor_preview) for N resources: the
# wall time any N resources take through the same engine, the figure
# bench/preview.sh prints each preview's ratio to.
# Usage: bash bench/floor.sh 2401 4303 >> bench/results/preview-$(date +%F).txt
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'rm -rf "$state"' EXIT
echo "# floor: pulumi preview of N trivial resources (bench/floor); $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%FT%TZ)"
for n in "$@"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "usage: bench/floor.sh N... (N >= 3)" >&2; exit 2; }
  floor_preview "$n"
  printf 'floor %-16s wall %7.1f s  maxrss %s KiB  (%.2f ms per resource)\n' "$n" "$FLOOR_WALL" "$FLOOR_RSS" \
    "$(awk -v w="$FLOOR_WALL" -v n="$n" 'BEGIN {print w * 1000 / n}')"
done
