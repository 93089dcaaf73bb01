#!/usr/bin/env bash
# The whole test suite: starts what it needs, then every crate's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
cargo test --workspace --all-targets --locked "$@"
