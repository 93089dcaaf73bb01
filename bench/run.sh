#!/usr/bin/env bash
# End-to-end benchmark, one run: signed 8 KiB GitHub pushes through a release
# gate-server at concurrency 1, 16 and 64, (e2e) publishing to RabbitMQ with
# confirms, (a) the same server answering without publishing, (b) a bare hyper
# server reading the same bodies, and (c) a plain lapin publisher with
# pipelined confirms. Prints a markdown table: req/s, p50, p99, peak RSS.
# Usage: bench/run.sh [SECONDS per cell, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
PORT=18080
BODY=payloads/github/push-forced.json
SECRET=bench-secret

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
bash scripts/ensure-services.sh >/dev/null
cargo build --release -q -p gate-server --bin gate-server --example bare_hyper --example lapin_publisher

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
SIG="sha256=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$BODY")"
EXCHANGE="bench.notifications.$$"
target/release/examples/lapin_publisher setup "$EXCHANGE" "bench.sink.$$"

cat > "$work/amqp.toml" <<TOML
[spool]
path = "$work/spool.redb"
[sinks.rabbit]
kind = "amqp"
url = "amqp://guest:guest@127.0.0.1:5672/%2f"
exchange = "$EXCHANGE"
[sources.GitHub.doors.bench]
sinks = ["rabbit"]
secrets = ["$SECRET"]
TOML
cat > "$work/null.toml" <<TOML
[spool]
path = "$work/spool-null.redb"
[sinks.null]
kind = "file"
log = true
[sources.GitHub.doors.bench]
sinks = ["null"]
secrets = ["$SECRET"]
TOML

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

# wrk CONCURRENCY -> "req/s p50 p99 errors"
load() {
  local c=$1 threads=2
  [ "$c" -lt 2 ] && threads=1
  BENCH_BODY=$BODY BENCH_SIG=$SIG wrk -t"$threads" -c"$c" -d"${SECONDS_PER_RUN}s" --latency -s bench/push.lua "http://127.0.0.1:$PORT" > "$work/wrk.txt"
  python3 - "$work/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad.group(1) if bad else 0}")
PY
}

peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

echo "| target | concurrency | req/s | p50 ms | p99 ms | non-2xx | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for c in ${BENCH_CONCURRENCY:-1 16 64}; do
  for mode in amqp null; do
    RUST_LOG=warn GATE__SERVER__LISTEN=127.0.0.1:$PORT target/release/gate-server serve --config "$work/$mode.toml" 2>"$work/gate-$mode.log" &
    pid=$!
    wait_port
    read -r rps p50 p99 bad < <(load "$c")
    rss=$(peak_rss_mib $pid)
    kill -TERM $pid; wait $pid || true
    name="gate-server, RabbitMQ with confirms (e2e)"; [ "$mode" = null ] && name="gate-server, not publishing (a)"
    echo "| $name | $c | $rps | $p50 | $p99 | $bad | $rss |"
  done
  target/release/examples/bare_hyper $PORT &
  pid=$!
  wait_port
  read -r rps p50 p99 bad < <(load "$c")
  rss=$(peak_rss_mib $pid)
  kill $pid; wait $pid 2>/dev/null || true
  echo "| bare hyper, reads body, 200 (b) | $c | $rps | $p50 | $p99 | $bad | $rss |"
  read -r rps p50 p99 < <(target/release/examples/lapin_publisher run "$EXCHANGE" "$SECONDS_PER_RUN" "$c")
  echo "| lapin publisher, $c in flight (c) | $c | $rps | $p50 | $p99 | 0 | - |"
done
