#!/usr/bin/env bash
# The fault suite's long runs (docs/reliability.md): each fault is created
# under load through a real gate-server and a private RabbitMQ node, and
# every event is counted by message_id on a queue bound before the load.
# Prints one table row per fault; exits 1 when any run lost an event.
#
# Usage: scripts/faults.sh [EVENTS] [CONCURRENCY] [FAULT...]
#   FAULT: hangup, identical, broker (the soak run's broker restarts);
#   all of them when none is given.
# PROFILE=debug uses a debug build (quicker to build, slower to run).
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-10000}"
concurrency="${2:-32}"
shift $(( $# > 2 ? 2 : $# ))
faults=("$@")
[ ${#faults[@]} -gt 0 ] || faults=(hangup identical broker)

profile="${PROFILE:-release}"
flag=(--release)
[ "$profile" = release ] || flag=()
cargo build "${flag[@]}" -p gate-server --bin gate-server --example faults --example soak
export GATE_SERVER_BIN="target/$profile/gate-server"

echo "| fault | sent | accepted | delivered (distinct ids) | lost | copies | notes |"
echo "|---|---|---|---|---|---|---|"
failed=0
for fault in "${faults[@]}"; do
  case "$fault" in
    broker)
      if line=$("target/$profile/examples/soak" "$events" 3 "$concurrency"); then :; else failed=1; fi
      echo "| broker restarts (soak) | $line |"
      ;;
    *)
      "target/$profile/examples/faults" "$fault" "$events" "$concurrency" || failed=1
      ;;
  esac
done
exit "$failed"
