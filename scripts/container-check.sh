#!/usr/bin/env bash
# Builds and runs deploy/Dockerfile. With a Docker daemon: `docker build`.
# Without one (the CI machine): scripts/container-check.py runs the
# Dockerfile's own instructions with debootstrap, chroot and namespaces, and
# fails on any instruction it does not interpret (docs/decisions.md); then
# scripts/container-check-mutants.sh proves it refuses broken recipes.
# Either way the build context is checked (.dockerignore: no target/, .git).
# Needs root. Caches the Debian base and the build stage's cargo output under
# /var/cache/gate-container-check (GATE_CONTAINER_CACHE).
# Usage: bash scripts/container-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "container-check: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, namespaces)"

if docker info >/dev/null 2>&1; then
  python3 scripts/container-check.py --context-only
  docker build -q -f deploy/Dockerfile -t gate-server-recipe-check . >/dev/null || fail "docker build failed"
  echo "container-check: docker build: ok"
  exit 0
fi

# The tools the daemon-free run needs, installed as the other services are.
missing=()
for tool in debootstrap:debootstrap unshare:util-linux nsenter:util-linux ip:iproute2 curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "container-check: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "container-check: no Docker daemon answers: running deploy/Dockerfile's instructions without one"
python3 scripts/container-check.py "$@"
# A check that cannot fail proves nothing: mutants of the recipe must fail it.
bash scripts/container-check-mutants.sh
