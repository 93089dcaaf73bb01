#!/usr/bin/env bash
# The long run of the cluster proof: a 3-node RabbitMQ cluster of private
# nodes, the shared Redis (127.0.0.1:6379, a key prefix of the run) and 3
# gateway processes sharing it, under steady signed load spread over them;
# one gateway killed with SIGKILL and one broker node stopped, then both
# brought back; accepted deliveries redelivered to other gateways (at once
# and after the faults) must be answered `duplicate`. Counted by message_id
# on a quorum queue: prints the counts, fails on any loss, unexplained copy
# or redelivery not answered `duplicate`.
#   scripts/cluster-proof.sh [seconds]     (default 300)
# The CI runs the same test for 16 s (cargo test --test amqp_cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
bash scripts/ensure-services.sh >/dev/null
GATE_CLUSTER_SECONDS="$seconds" cargo test -p gate-server --test amqp_cluster --locked \
  -- --nocapture 2>&1 | grep -E 'cluster proof|test result|panicked|lost|copies|redeliveries'
