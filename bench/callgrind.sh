#!/usr/bin/env bash
# Instructions per request, counted by valgrind (repeatable on a busy
# machine, unlike timings): signed 8 KiB GitHub pushes through
# gate_server::route with no socket (gate-server/examples/request_cost.rs),
# a run of N+20 requests minus a run of 20, divided by N.
# Usage: bench/callgrind.sh [N, default 200]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p gate-server --example request_cost
# COST_BIN: another build to compare (a copy of an earlier one).
bin=${COST_BIN:-target/release/examples/request_cost}

# instructions REQUESTS [OPTIONS...] -> total instructions of the run
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 \
    | awk '/Collected :/ {print $4}'
}

per_request() {
  local base full
  base=$(instructions 20 "$@")
  full=$(instructions $((N + 20)) "$@")
  echo $(((full - base) / N))
}

one=$(per_request)
globs=$(per_request --glob-rules 1000)
keywords=$(per_request --keyword-rules 1000)
echo "| door | instructions per request | ratio to no rules |"
echo "|---|---|---|"
echo "| no group rules | $one | 1.00 |"
python3 -c "import sys; a,b,c=map(int,sys.argv[1:]); print(f'| 1 000 glob rules (none matching) | {b} | {b/a:.2f} |'); print(f'| 1 000 keyword rules (none matching) | {c} | {c/a:.2f} |')" "$one" "$globs" "$keywords"
