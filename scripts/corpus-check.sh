#!/usr/bin/env bash
# Development check of the GitHub texts on real bodies: posts every
# `<folder>/<event>/*.json` (a folder laid out like octokit/webhooks'
# examples, one sub-folder per X-GitHub-Event) to a gateway, signed, then
# prints per event how many notifications got a specific text, the generic
# one, or an error, and counts empty links where the payload has an html_url.
#
# Usage: scripts/corpus-check.sh FOLDER   (TEXTS=1 also prints every text and link)
#   GATE_URL=http://host:port NOTIFICATIONS=path SECRET=... to use a running
#   gateway whose GitHub door `corpus` writes to the file sink at
#   NOTIFICATIONS; without GATE_URL, the script builds and starts its own
#   gate-server on a free loopback port and stops it at the end.
# Needs: curl, jq, openssl. Exit status 1 when any post failed.
# A text is counted generic when it is the fallback ("X triggered E (a) ...")
# or a renderer's sentence for an unknown action ("... (action words)").
set -euo pipefail

folder=${1:?usage: scripts/corpus-check.sh FOLDER}
for tool in curl jq openssl; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

secret=${SECRET:-corpus-check-secret-$$}
if [[ -z ${GATE_URL:-} ]]; then
    (cd "$root" && cargo build --quiet -p gate-server)
    port=$(( 20000 + $$ % 20000 ))
    NOTIFICATIONS=$work/notifications.jsonl
    cat >"$work/gate.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
default_sinks = ["file"]
[sinks.file]
kind = "file"
path = "$NOTIFICATIONS"
[sources.GitHub.doors.corpus]
secrets = ["$secret"]
TOML
    "$root/target/debug/gate-server" serve --config "$work/gate.toml" >"$work/server.log" 2>&1 &
    server_pid=$!
    GATE_URL=http://127.0.0.1:$port
    for _ in $(seq 100); do
        curl -fsS "$GATE_URL/status" >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
: "${NOTIFICATIONS:?set NOTIFICATIONS to the file sink path of the running gateway}"
start_line=$(( $( [[ -f $NOTIFICATIONS ]] && wc -l <"$NOTIFICATIONS" || echo 0) + 1 ))

# Post every body; remember delivery id → event, file, status.
run=$(date +%s)-$$
n=0
: >"$work/posted.tsv"
for dir in "$folder"/*/; do
    event=$(basename "$dir")
    for file in "$dir"*.json; do
        [[ -f $file ]] || continue
        n=$((n + 1))
        delivery=corpus-$run-$n
        signature=$(openssl dgst -sha256 -hmac "$secret" -r <"$file" | cut -d' ' -f1)
        status=$(curl -sS -o "$work/answer" -w '%{http_code}' \
            -H "Content-Type: application/json" \
            -H "X-GitHub-Event: $event" \
            -H "X-GitHub-Delivery: $delivery" \
            -H "X-Hub-Signature-256: sha256=$signature" \
            --data-binary "@$file" "$GATE_URL/gate/GitHub/corpus") || status=000
        has_url=$(jq '[.. | objects | .html_url? | strings | select(length > 0)] | length > 0' "$file")
        action=$(jq -r '.action? // "" | strings' "$file")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$delivery" "$event" "$status" "$has_url" "$action" "$file" >>"$work/posted.tsv"
    done
done

tail -n "+$start_line" "$NOTIFICATIONS" \
    | jq -c '{delivery, text: .notification.text, link: .notification.link}' >"$work/seen.jsonl"

jq -n --rawfile posted "$work/posted.tsv" --slurpfile seen "$work/seen.jsonl" '
  # The file sink names events <Source>/<door>/<delivery id>.
  ($seen | map({(.delivery | split("/") | last): .}) | add // {}) as $by_delivery
  | [$posted | split("\n")[] | select(length > 0) | split("\t")
     | {delivery: .[0], event: .[1], status: .[2], has_url: (.[3] == "true"), action: .[4], file: .[5]}
     | . + {n: $by_delivery[.delivery]}]
  | map(. as $r | . + {
      error: ((($r.status | test("^2")) | not) or $r.n == null),
      generic: ($r.n != null and (($r.n.text | contains(" triggered " + $r.event))
                 or ($r.action != "" and ($r.n.text | contains("(" + ($r.action | gsub("_"; " ")) + ")"))))),
      empty_link: ($r.n != null and $r.n.link == "" and $r.has_url)
    })' >"$work/results.json"

jq -r '
  group_by(.event)[] as $rows
  | [$rows[0].event, ($rows | map(select((.error or .generic) | not)) | length),
     ($rows | map(select(.generic)) | length), ($rows | map(select(.error)) | length),
     ($rows | map(select(.empty_link)) | length)] | @tsv
' "$work/results.json" | { printf 'event\tspecific\tgeneric\terrors\tempty links\n'; cat; } \
    | column -t -s $'\t' | tee "$work/report.txt"
jq -r '
  "total: \(length) bodies, \(map(select((.error or .generic) | not)) | length) specific (\(map(select((.error or .generic) | not)) | length * 1000 / (length | if . == 0 then 1 else . end) | floor / 10)%), \(map(select(.generic)) | length) generic, \(map(select(.error)) | length) errors, \(map(select(.empty_link)) | length) empty links where the payload has an html_url",
  (.[] | select(.error) | "error: \(.event) \(.file) (HTTP \(.status))"),
  (.[] | select(.generic) | "generic: \(.event) \(.file): \(.n.text)"),
  (.[] | select(.empty_link) | "empty link: \(.event) \(.file)")
' "$work/results.json" | tee -a "$work/report.txt"
if [[ -n ${TEXTS:-} ]]; then
    jq -r '.[] | [.event, (.file | split("/") | last), .n.text // "-", .n.link // "-"] | @tsv' "$work/results.json"
fi

if grep -q '^error:' "$work/report.txt"; then
    exit 1
fi
