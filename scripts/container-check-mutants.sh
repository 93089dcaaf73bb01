#!/usr/bin/env bash
# Proves that scripts/container-check.py can fail: each mutant of
# deploy/Dockerfile or of its .dockerignore (a BuildKit
# <Dockerfile>.dockerignore beside the mutant) must be refused, and for the
# reason expected. Run after a passing scripts/container-check.py (its caches
# are then warm: each runtime mutant costs one apt-get in a fresh root).
# Needs root. Usage: bash scripts/container-check-mutants.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "container-mutants: FAIL: $*" >&2; exit 1; }
say() { echo "container-mutants: $*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mutant NAME EXPECTED-MESSAGE SED-SCRIPT [IGNORE-SED-SCRIPT] [-- check options]
mutant() {
  local name=$1 expect=$2 edit=$3 ignore_edit=${4:-}
  shift 4 || shift $#
  local dir="$work/$name"
  mkdir -p "$dir"
  sed -e "$edit" deploy/Dockerfile >"$dir/Dockerfile"
  if [ -n "$ignore_edit" ]; then
    sed -e "$ignore_edit" .dockerignore >"$dir/Dockerfile.dockerignore"
    cmp -s .dockerignore "$dir/Dockerfile.dockerignore" && fail "mutant $name: its .dockerignore edit changes nothing"
  elif cmp -s deploy/Dockerfile "$dir/Dockerfile"; then
    fail "mutant $name: its edit changes nothing"
  fi
  if python3 scripts/container-check.py --dockerfile "$dir/Dockerfile" "$@" >"$dir/log" 2>&1; then
    cat "$dir/log" >&2
    fail "mutant $name was accepted"
  fi
  grep -qF -- "$expect" "$dir/log" || { cat "$dir/log" >&2; fail "mutant $name was refused for another reason than: $expect"; }
  say "$name: refused ($expect)"
}

# Refused before anything runs.
mutant unknown-instruction "instruction not interpreted" '$a HEALTHCHECK CMD curl -f http://localhost:8080/status' ""
mutant variable "variable substitution is not interpreted" 's#^WORKDIR /var/lib/gate-server#WORKDIR $HOME#' ""
mutant env-variable "variable substitution is not interpreted" 's#^ENV GLIBC_TUNABLES=#ENV GLIBC_TUNABLES=$GLIBC_TUNABLES:#' ""
mutant unknown-flag "flag --chown is not interpreted" 's#^COPY --from=build#COPY --chown=gate --from=build#' ""
mutant unknown-image "no daemon-free equivalent" 's#^FROM debian:bookworm-slim#FROM alpine:3#' ""
# The build context.
mutant context-target "the build context holds target/" 's/x/x/' '/\*\*\/target/d' --context-only
mutant context-git "the build context holds .git" 's/x/x/' '/^\.git$/d' --context-only
mutant context-lacks-sources "RUN: exit status" 's/x/x/' '$a gate-server/src'
# The runtime image.
mutant no-ca-certificates "no /etc/ssl/certs/ca-certificates.crt" 's/--no-install-recommends ca-certificates/--no-install-recommends procps/' ""
mutant runs-as-root "the image runs as root" '/^USER gate$/d' ""
mutant loopback-only "at a non-loopback address" 's#GATE__SERVER__LISTEN=0.0.0.0:8080#GATE__SERVER__LISTEN=127.0.0.1:8080#' ""
mutant spool-outside-volume "is not under a VOLUME" 's#GATE__SPOOL__PATH=/var/lib/gate-server/spool.redb#GATE__SPOOL__PATH=/tmp/spool.redb#' ""
mutant missing-binary "does not exist in stage build" 's#/src/target/release/gate-server#/src/target/debug/gate-server-missing#' ""
say "every mutant refused"
