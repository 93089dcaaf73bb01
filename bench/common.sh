# Shared by the bench scripts (sourced): a release gate-server on $PORT,
# loaded by wrk with signed GitHub pushes (bench/push.lua).
PORT=${PORT:-18080}
# Another build to compare (a copy of an earlier target/release/gate-server).
GATE_BIN=${GATE_BIN:-target/release/gate-server}
SECRET=bench-secret

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

signature_of() {
  python3 -c 'import hmac,hashlib,sys; print("sha256="+hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$1"
}

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

# load CONCURRENCY SECONDS BODY -> "req/s p50 p99 non-2xx"
load() {
  local c=$1 seconds=$2 body=$3 threads=2 out
  [ "$c" -lt 2 ] && threads=1
  out=$(mktemp)
  BENCH_BODY=$body BENCH_SIG=$(signature_of "$body") wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 30s --latency -s bench/push.lua "http://127.0.0.1:$PORT" > "$out"
  python3 - "$out" <<'PY'
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
  rm -f "$out"
}

peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# start_gate CONFIG -> pid in $gate_pid
start_gate() {
  RUST_LOG=warn GATE__SERVER__LISTEN=127.0.0.1:$PORT "$GATE_BIN" serve --config "$1" 2>>"$1.log" &
  gate_pid=$!
  wait_port
}

stop_gate() { kill -TERM "$gate_pid"; wait "$gate_pid" || true; }
