#!/usr/bin/env bash
# Builds the OPA CLI into $1 (its version is a constant of the module).
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")"
go build -trimpath -ldflags "-s -w" -o "$out/opa" github.com/open-policy-agent/opa
