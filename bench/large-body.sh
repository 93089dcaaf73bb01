#!/usr/bin/env bash
# Memory held for large bodies: signed GitHub pushes padded to SIZE MiB
# (an ignored key), sent one at a time to a release gate-server whose sink
# is an fsynced file; prints the server's peak RSS over its RSS before the
# load, as a multiple of the body. Usage: bench/large-body.sh [SIZE MiB, default 10] [SECONDS, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-10}
SECONDS_PER_RUN=${2:-10}
source bench/common.sh
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p gate-server --bin gate-server
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work/body.json" "$MIB" <<'PY'
import json, sys
push = json.load(open("payloads/github/push-forced.json"))
push["padding"] = "x" * (int(sys.argv[2]) * 1048576 - len(json.dumps(push)) - 20)
open(sys.argv[1], "w").write(json.dumps(push))
PY
cat > "$work/gate.toml" <<TOML
[server]
max_body_bytes = $(( (MIB + 1) * 1048576 ))
[sinks.out]
kind = "file"
path = "$work/out.jsonl"
log = false
[sources.GitHub.doors.bench]
sinks = ["out"]
secrets = ["$SECRET"]
TOML
start_gate "$work/gate.toml"
idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$gate_pid/status")
read -r r _ p bad < <(load 1 "$SECONDS_PER_RUN" "$work/body.json")
peak=$(peak_rss_mib "$gate_pid")
stop_gate
[ "$bad" = 0 ] || echo "warning: $bad non-2xx answers" >&2
size=$(stat -c %s "$work/body.json")
echo "| body MiB | req/s (c=1) | p99 ms | idle RSS MiB | peak RSS MiB | (peak - idle) / body |"
echo "|---|---|---|---|---|---|"
python3 -c "import sys; s,r,p,i,k=sys.argv[1:]; s=int(s)/1048576; print(f'| {s:.1f} | {r} | {p} | {i} | {k} | {(float(k)-float(i))/s:.2f} |')" "$size" "$r" "$p" "$idle" "$peak"
