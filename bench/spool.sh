#!/usr/bin/env bash
# Spool drain and memory (issue 14, targets 1 and 2), one run: live rate,
# then EVENTS spooled with the broker stopped, then the drain with the
# broker back while one probe sender measures live latency. Prints the
# figures judged: drain / live rate, live p99 while draining / idle, peak
# RSS, spool file / payload bytes.
# Usage: bench/spool.sh [EVENTS, default 100000] [CONCURRENCY, 32] [LIVE, 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p gate-server --bin gate-server --example spool_bench
target/release/examples/spool_bench "${1:-100000}" "${2:-32}" "${3:-20000}"
