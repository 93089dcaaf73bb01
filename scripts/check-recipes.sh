#!/usr/bin/env bash
# Exercises the deployment recipes of docs/operations.md (deploy/) the way
# their runtime would, and fails on the first one that does not hold:
# - deploy/gate-server.service: `systemd-analyze verify`, a check that every
#   directive is one this script knows how to honour (no unknown key, no
#   trailing comment: systemd has none and would read it as part of the
#   value), then a start as systemd would do it: the unit's User= (created,
#   unprivileged), from `/`, its StateDirectory= and WorkingDirectory=, its
#   EnvironmentFile= (a missing file fails, as it does under systemd without
#   the '-' prefix), ExecStartPre=, ExecStart=, ExecReload= and KillSignal=
#   within TimeoutStopSec=. A signed GitHub push to a door whose secret comes
#   only from the env file must be accepted and written under the state dir.
# - deploy/Dockerfile and .dockerignore: scripts/container-check.sh, which
#   runs `docker build` where a daemon answers, and otherwise (the CI machine)
#   the Dockerfile's own instructions without one, then starts the image.
# Needs root (useradd, setpriv, chroot). Usage: bash scripts/check-recipes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
pid=""
unit=${GATE_RECIPE_UNIT:-deploy/gate-server.service}

fail() { echo "check-recipes: FAIL: $*" >&2; exit 1; }
say() { echo "check-recipes: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (creates the unit's user)"
cargo build --quiet --locked -p gate-server
binary="$repo/target/debug/gate-server"

# --- the unit file, directive by directive -----------------------------------
known="Description After Wants Type User Group StateDirectory StateDirectoryMode
WorkingDirectory EnvironmentFile Environment LimitNOFILE ExecStartPre ExecStart ExecReload KillSignal
TimeoutStopSec Restart NoNewPrivileges ProtectSystem ProtectHome PrivateTmp
ReadWritePaths WantedBy"
declare -A directive
while IFS= read -r line; do
  case "$line" in '' | '#'* | ';'* | '['*']') continue ;; esac
  key=${line%%=*}
  value=${line#*=}
  grep -qw -- "$key" <<<"$known" || fail "$unit: directive $key is not one this check honours"
  case "$value" in *' #'* | *$'\t#'*) fail "$unit: $key has a trailing comment, which systemd reads as part of the value: $value" ;; esac
  directive[$key]=$value
done <"$unit"

verify_dir=$(mktemp -d)
trap 'rm -rf "$verify_dir"' EXIT
sed "s#/usr/local/bin/gate-server#$binary#g" "$unit" >"$verify_dir/gate-server.service"
systemd-analyze verify "$verify_dir/gate-server.service" || fail "systemd-analyze verify refused $unit"
say "systemd-analyze verify: ok"

# The unit's absolute paths, moved under a private root so that the check
# touches nothing of the machine but the user it creates.
root=$(mktemp -d)
chmod 755 "$root"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$root" "$verify_dir"' EXIT
install -D -m 755 "$binary" "$root/usr/local/bin/gate-server"
map() { sed -e "s#/usr/local/bin/gate-server#$root/usr/local/bin/gate-server#g" -e "s#/etc/gate-server#$root/etc/gate-server#g" -e "s#/var/lib/#$root/var/lib/#g" <<<"$1"; }

user=${directive[User]}
group=${directive[Group]:-$user}
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir "/var/lib/${directive[StateDirectory]}" "$user"
state="$root/var/lib/${directive[StateDirectory]}"
install -d -m "${directive[StateDirectoryMode]:-0755}" -o "$user" -g "$group" "$state"
workdir=$(map "${directive[WorkingDirectory]:-/}")
[ "$workdir" = "$state" ] || say "note: WorkingDirectory is $workdir, not the state directory"

port=$((20000 + $$ % 20000))
secret="recipe-secret-$$-$RANDOM"
install -d -m 750 -o "$user" "$root/etc/gate-server"
cat >"$root/etc/gate-server/gate.toml" <<TOML
[server]
listen = "127.0.0.1:$port"

[sinks.local]
kind = "file"
path = "notifications.jsonl"

[sources.GitHub]
sinks = ["local"]

[sources.GitHub.doors.acme]
secrets = ["env:GITHUB_ACME_SECRET"]
TOML
chown "$user" "$root/etc/gate-server/gate.toml"
envfile=$(map "${directive[EnvironmentFile]}")
case "$envfile" in -*) fail "EnvironmentFile= starts with '-': a missing file would leave env: secrets unset without a word" ;; esac
printf 'GITHUB_ACME_SECRET=%s\n' "$secret" >"$envfile"
chmod 640 "$envfile"

# Run a unit command as systemd does: the unit's user, no new privileges,
# the env file's variables in a clean environment, from the working directory.
# Call it in a subshell: it replaces the shell, so a signal reaches the service.
exec_as_unit() {
  local env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin "HOME=$state")
  # Environment= (one assignment, as the unit writes it), then the env file.
  [ -n "${directive[Environment]:-}" ] && env+=("${directive[Environment]}")
  while IFS= read -r kv; do [ -n "$kv" ] && env+=("$kv"); done <"$envfile"
  # LimitNOFILE=, within this machine's hard limit (systemd may raise that).
  if [ -n "${directive[LimitNOFILE]:-}" ]; then
    local hard
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "${directive[LimitNOFILE]}" ]; then
      ulimit -n "${directive[LimitNOFILE]}"
    else
      ulimit -n "$hard"
    fi
  fi
  cd "$workdir"
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs env -i "${env[@]}" "$@"
}

read -ra pre <<<"$(map "${directive[ExecStartPre]}")"
(exec_as_unit "${pre[@]}") >/dev/null || fail "ExecStartPre failed: ${directive[ExecStartPre]}"
say "ExecStartPre (config check) as $user: ok"

read -ra start <<<"$(map "${directive[ExecStart]}")"
log="$root/serve.log"
(cd / && exec_as_unit "${start[@]}") >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "ExecStart exited before answering"; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/status" >/dev/null || { cat "$log" >&2; fail "no answer on /status"; }
say "ExecStart as $user from $workdir: answering"

body='{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"full_name":"acme/site","name":"site","html_url":"https://github.com/acme/site"},"sender":{"login":"octocat"}}'
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')"
status=$(curl -s -o "$root/answer.json" -w '%{http_code}' "http://127.0.0.1:$port/gate/GitHub/acme" \
  -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' -H "X-GitHub-Delivery: recipe-$$" \
  -H "X-Hub-Signature-256: $signature" --data-binary "$body")
[ "$status" = 200 ] || { cat "$root/answer.json" "$log" >&2; fail "signed ping with the env file's secret answered $status"; }
grep -q "recipe-$$" "$state/notifications.jsonl" || fail "the notification is not in $state/notifications.jsonl"
say "env file secret used, notification written under the state directory: ok"

reload=$(map "${directive[ExecReload]}")
reload=${reload//\$MAINPID/$pid}
read -ra reload_cmd <<<"$reload"
"${reload_cmd[@]}" || fail "ExecReload failed"
sleep 1
kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the service died on ExecReload"; }
grep -qi "reload" "$log" || { cat "$log" >&2; fail "ExecReload left no trace in the log"; }

kill -s "${directive[KillSignal]:-SIGTERM}" "$pid"
stop_seconds=${directive[TimeoutStopSec]:-90}
for _ in $(seq $((stop_seconds * 5))); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then fail "still running ${stop_seconds}s after ${directive[KillSignal]}"; fi
wait "$pid" && code=0 || code=$?
[ "$code" = 0 ] || { cat "$log" >&2; fail "exit status $code after ${directive[KillSignal]}"; }
say "ExecReload, then ${directive[KillSignal]}: exit 0"

# --- the container recipe -----------------------------------------------------
bash scripts/container-check.sh || fail "deploy/Dockerfile (scripts/container-check.sh)"
say "all recipes hold"
