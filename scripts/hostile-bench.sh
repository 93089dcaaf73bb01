#!/usr/bin/env bash
# Hostile clients against a release gate-server with the default limits
# (issue 10), one run, numbers for docs/performance.md:
#  1. 5 000 silent sockets, 2 000 slowloris connections and 1 000
#     preface-only sockets held open from 127.0.0.1 (each reopened 1 s after
#     the server closes it) while a signed sender on 127.0.0.2 posts 500
#     pushes one after the other: how many are answered 200 within 2 s.
#  2. 200 concurrent 25 MiB bodies with a bad signature: peak RSS against
#     the budget of body bytes in flight (+64 MiB), and the RSS left after.
#  3. 64 concurrent signed 10 MiB pushes (to a fsynced file), with the
#     default budget and with one large enough for all 64 at once, with
#     glibc's default malloc settings and with deploy/'s fixed mmap threshold.
# Usage: scripts/hostile-bench.sh [SILENT SLOWLORIS PREFACE REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
SILENT=${1:-5000}
SLOWLORIS=${2:-2000}
PREFACE=${3:-1000}
REQUESTS=${4:-500}
SECRET=hostile-bench-secret
BODY=payloads/github/push-forced.json

# Each attacker socket is one descriptor in the client and, while held, one
# in the server (both inherit this shell's limit).
need=$(( SILENT + SLOWLORIS + PREFACE + 1024 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || {
    echo "need $need open files, the hard limit is $(ulimit -Hn): raise it (ulimit -n / LimitNOFILE)" >&2
    exit 1
  }
fi
echo "open files limit: $(ulimit -n)"

cargo build --release -q -p gate-server --bin gate-server --example hostile_bench
work=$(mktemp -d)
server_pid=
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; server_pid=; }
trap 'stop_server; rm -rf "$work"' EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_server() { # extra [server] keys
  cat > "$work/gate.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
default_sinks = ["file"]
$1
[spool]
path = "$work/spool.redb"
[sinks.file]
kind = "file"
path = "$work/out.jsonl"
[sources.GitHub.doors.bench]
secrets = ["$SECRET"]
TOML
  rm -f "$work/out.jsonl"
  RUST_LOG=warn GLIBC_TUNABLES=${TUNABLES:-} target/release/gate-server serve --config "$work/gate.toml" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
bench=target/release/examples/hostile_bench

echo "## 1. idle connections ($SILENT silent, $SLOWLORIS slowloris, $PREFACE preface-only) and a signed sender"
start_server ""
$bench connections "127.0.0.1:$PORT" "$SECRET" "$BODY" "$SILENT" "$SLOWLORIS" "$PREFACE" "$REQUESTS"
stop_server

echo "## 2. 200 x 25 MiB bodies with a bad signature (default budget: 256 MiB in flight)"
start_server ""
$bench bodies "127.0.0.1:$PORT" "$server_pid" "$SECRET" 200 25 bad "$BODY"
stop_server

echo "## 3a. 64 x 10 MiB signed pushes, default budget (256 MiB in flight)"
start_server ""
$bench bodies "127.0.0.1:$PORT" "$server_pid" "$SECRET" 64 10 signed "$BODY"
stop_server

echo "## 3a'. the same with glibc's mmap threshold fixed (as deploy/ sets it)"
TUNABLES=glibc.malloc.mmap_threshold=131072 start_server ""
$bench bodies "127.0.0.1:$PORT" "$server_pid" "$SECRET" 64 10 signed "$BODY"
stop_server

echo "## 3b. 64 x 10 MiB signed pushes, budget 1 GiB (all 64 in flight: 640 MiB)"
start_server "max_body_bytes_in_flight = 1073741824"
$bench bodies "127.0.0.1:$PORT" "$server_pid" "$SECRET" 64 10 signed "$BODY"
stop_server
