#!/usr/bin/env bash
# The file sink with and without fsync, in one run, at each concurrency:
# signed 8 KiB GitHub pushes, each answered after its line is written (and
# fsynced). The ratio fsync / no fsync is what the target speaks of.
# Usage: bench/filesink.sh [SECONDS per cell, default 10] (BENCH_CONCURRENCY="1 16 64")
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
BODY=payloads/github/push-forced.json
source bench/common.sh
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p gate-server --bin gate-server
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
for fsync in true false; do
  cat > "$work/$fsync.toml" <<TOML
[sinks.out]
kind = "file"
path = "$work/out-$fsync.jsonl"
fsync = $fsync
log = false
[sources.GitHub.doors.bench]
sinks = ["out"]
secrets = ["$SECRET"]
TOML
done
echo "| concurrency | fsync req/s | p99 ms | no fsync req/s | p99 ms | ratio | records per fsync |"
echo "|---|---|---|---|---|---|---|"
for c in ${BENCH_CONCURRENCY:-1 16 64}; do
  declare -A rps p99
  for fsync in true false; do
    start_gate "$work/$fsync.toml"
    read -r r _ p bad < <(load "$c" "$SECONDS_PER_RUN" "$BODY")
    [ "$bad" = 0 ] || echo "warning: $bad non-2xx answers (fsync=$fsync)" >&2
    if [ "$fsync" = true ]; then
      group=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/stat="records_written"/ {r=$2} /stat="commits"/ {c=$2} END {if (c > 0) printf "%.1f", r/c; else print "-"}')
    fi
    stop_gate
    rps[$fsync]=$r; p99[$fsync]=$p
  done
  ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "${rps[true]}" "${rps[false]}")
  echo "| $c | ${rps[true]} | ${p99[true]} | ${rps[false]} | ${p99[false]} | $ratio | $group |"
done
