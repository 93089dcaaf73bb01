#!/usr/bin/env bash
# Fuzz targets of the sources' parsers and signature checks (fuzz/, its own
# cargo workspace). No nightly toolchain and no cargo-fuzz needed: the
# targets are built with the flags cargo-fuzz uses, on the stable compiler
# (RUSTC_BOOTSTRAP=1 admits -Zsanitizer), and run as plain libFuzzer binaries.
#
#   bash scripts/fuzz.sh build               build every target (CI check)
#   bash scripts/fuzz.sh seed                (re)write the seeds from payloads/
#   bash scripts/fuzz.sh SECONDS [TARGET...] build, seed from payloads/,
#                                            run each target for SECONDS
#
# Findings land in fuzz/artifacts/<target>/; replay one with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."

TRIPLE=x86_64-unknown-linux-gnu
BIN_DIR="fuzz/target/$TRIPLE/release"
TARGETS=(fuzz_github fuzz_dockerhub fuzz_jenkins fuzz_native fuzz_phabricator fuzz_mapping fuzz_signature)

usage() {
  sed -n '2,14p' "$0" >&2
  exit 2
}

build() {
  # What `cargo fuzz build` passes (cargo-fuzz 0.13, address sanitizer);
  # --target keeps these flags off build scripts and proc macros.
  local flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    --cfg fuzzing
    -Cllvm-args=-simplifycfg-branch-fold-threshold=0
    -Zsanitizer=address
    -Cllvm-args=-sanitizer-coverage-stack-depth
    -Cdebug-assertions
    -Ccodegen-units=1
  )
  echo "== building fuzz targets"
  # Not --locked: fuzz/Cargo.lock pins libFuzzer and friends, and cargo
  # amends it when a source crate gains a dependency.
  (
    cd fuzz
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="${flags[*]}" \
      cargo build --release --target "$TRIPLE" --bins
  )
  for target in "${TARGETS[@]}"; do
    test -x "$BIN_DIR/$target" || { echo "error: $BIN_DIR/$target was not built" >&2; exit 1; }
  done
  echo "built: ${TARGETS[*]}"
}

# Seeds: every sample payload, prefixed as fuzz/src/input.rs reads it
# (mode byte, tag, newline, body). Mode 0 = usual content type, right
# credentials; 1 = form content type; 0x20 sets variant bit 0.
seed() {
  python3 - <<'PY'
import json, pathlib, urllib.parse

root = pathlib.Path("payloads")
corpus = pathlib.Path("fuzz/corpus")

def put(target, name, mode, tag, body):
    folder = corpus / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(bytes([mode]) + tag + b"\n" + body)

def samples(source, suffix=".json"):
    for path in sorted((root / source).glob("*" + suffix)):
        if not path.name.endswith(".expected.json"):
            yield path.name[: -len(suffix)], path.read_bytes()

for case, body in samples("github"):
    expected = json.loads((root / "github" / f"{case}.expected.json").read_text())
    event = expected["headers"].get("X-GitHub-Event", "push").encode()
    put("fuzz_github", case, 0x00, event, body)
    put("fuzz_github", case + "-sha1", 0x20, event, body)
    form = b"payload=" + urllib.parse.quote_plus(body).encode()
    put("fuzz_github", case + "-form", 0x01, event, form)
# Bare shapes, so that odd bodies for known and unknown events are near.
for event in ("push", "ping", "team_add"):
    for name, body in (("object", b"{}"), ("array", b"[{}]")):
        put("fuzz_github", f"{event}-{name}", 0x00, event.encode(), body)
for case, body in samples("dockerhub"):
    put("fuzz_dockerhub", case, 0x00, b"", body)
    put("fuzz_dockerhub", case + "-proxied", 0x20, b"203.0.113.7, 127.0.0.1", body)
for case, body in samples("jenkins"):
    for variant in range(3):
        put("fuzz_jenkins", f"{case}-{variant}", variant << 5, b"", body)
for case, body in samples("native"):
    put("fuzz_native", case, 0x00, b"delivery-" + case.encode(), body)
    put("fuzz_native", case + "-bearer", 0x20, b"", body)
for case, body in samples("phabricator"):
    put("fuzz_phabricator", case, 0x00, b"", body)
for case, body in samples("phabricator", ".form"):
    put("fuzz_phabricator", case, 0x01, b"", body)
    put("fuzz_phabricator", case + "-header", 0x21, b"", body)
for target in ("fuzz_mapping", "fuzz_signature"):
    (corpus / target).mkdir(parents=True, exist_ok=True)
PY
}

run() {
  local seconds=$1 target=$2
  mkdir -p "fuzz/artifacts/$target"
  echo "== $target for ${seconds}s"
  local dict=()
  case "$target" in
    fuzz_mapping | fuzz_signature) ;;
    *) dict=(-dict=fuzz/json.dict) ;;
  esac
  "$BIN_DIR/$target" "fuzz/corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=65536 -timeout=10 \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1
}

[ $# -ge 1 ] || usage
case "$1" in
  build)
    build
    ;;
  seed)
    seed
    ;;
  *[!0-9]* | "")
    usage
    ;;
  *)
    seconds=$1
    shift
    selected=("$@")
    [ ${#selected[@]} -gt 0 ] || selected=("${TARGETS[@]}")
    build
    seed
    failed=()
    for target in "${selected[@]}"; do
      run "$seconds" "$target" || failed+=("$target")
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "findings in: ${failed[*]} (see fuzz/artifacts/)" >&2
      exit 1
    fi
    ;;
esac
