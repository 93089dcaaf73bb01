#!/usr/bin/env bash
# The long fault run (issue: never lose an accepted event): 100k signed
# requests through a release gate-server while a private RabbitMQ node is
# restarted several times. Prints sent / accepted / delivered / lost.
# Usage: scripts/soak.sh [EVENTS] [RESTARTS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p gate-server --example soak
exec target/release/examples/soak "${1:-100000}" "${2:-3}" "${3:-32}"
