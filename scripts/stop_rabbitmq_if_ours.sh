#!/usr/bin/env bash
# Stops the local RabbitMQ node if the bootstrap run that wrote MARKER started it
# (so `make test` and `make run` stop what they started, and nothing else).
# Usage: scripts/stop_rabbitmq_if_ours.sh MARKER
cd "$(dirname "$0")/.."
marker=${1:?marker file}
if [ -f "$marker" ] && [ -z "${AMQP_URL:-}" ]; then
  rm -f "$marker"
  echo "[setup] stopping the RabbitMQ node started for this run"
  timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true
fi
