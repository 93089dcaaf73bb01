#!/usr/bin/env bash
# The long run of the cluster proof: a 3-node RabbitMQ cluster of private
# nodes, 3 gateway processes under steady signed load; one gateway killed
# with SIGKILL and one broker node stopped, then both brought back. Counted
# by message_id on a quorum queue: prints the counts, fails on any loss.
#   scripts/cluster-proof.sh [seconds]     (default 300)
# The CI runs the same test for 16 s (cargo test --test amqp_cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
bash scripts/ensure-services.sh >/dev/null
GATE_CLUSTER_SECONDS="$seconds" cargo test -p gate-server --test amqp_cluster --locked \
  -- --nocapture 2>&1 | grep -E 'cluster proof|test result|panicked|lost|copies'
