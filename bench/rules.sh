#!/usr/bin/env bash
# Group rules sweep, in one run: a door with no rules, then with 10, 100
# and 1 000 glob rules and 1 000 keyword rules (none matching, so every
# rule is tried), at concurrency 64. The ratio to the door without rules
# is what the target speaks of (instruction counts: bench/callgrind.sh).
# Usage: bench/rules.sh [SECONDS per cell, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
C=${BENCH_CONCURRENCY:-64}
BODY=payloads/github/push-forced.json
source bench/common.sh
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q -p gate-server --bin gate-server
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
door() { # NAME GLOBS KEYWORDS
  {
    printf '[sinks.out]\nkind = "file"\nlog = true\n[sources.GitHub.doors.bench]\nsinks = ["out"]\nsecrets = ["%s"]\n' "$SECRET"
    for i in $(seq 1 "$2"); do printf '[[sources.GitHub.doors.bench.groups]]\ngroup = "g%d"\nrepositories = ["team-%d-*"]\n' "$i" "$i"; done
    for i in $(seq 1 "$3"); do printf '[[sources.GitHub.doors.bench.groups]]\ngroup = "k%d"\nkeywords = ["word%dx"]\n' "$i" "$i"; done
  } > "$work/$1.toml"
}
door none 0 0; door globs10 10 0; door globs100 100 0; door globs1000 1000 0; door keywords1000 0 1000
echo "| door (c=$C) | req/s | p99 ms | ratio to no rules |"
echo "|---|---|---|---|"
base=
for name in none globs10 globs100 globs1000 keywords1000; do
  start_gate "$work/$name.toml"
  read -r r _ p bad < <(load "$C" "$SECONDS_PER_RUN" "$BODY")
  stop_gate
  [ "$bad" = 0 ] || echo "warning: $bad non-2xx answers ($name)" >&2
  [ -n "$base" ] || base=$r
  echo "| $name | $r | $p | $(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$r" "$base") |"
done
