#!/usr/bin/env bash
# `make test`: set up what is missing, lint, run the whole suite against the real local RabbitMQ
# and the MongoDB stand-in (started by the tests themselves), then stop what this run started.
# `make unit` / `make integration` / `make e2e`: one layer only (no lint), with only what that
# layer needs set up: unit nothing but .venv; integration also RabbitMQ; e2e also the browser.
# Usage: scripts/test.sh [unit|integration|e2e] [pytest arguments], e.g. `scripts/test.sh -k outbox`.
set -uo pipefail
cd "$(dirname "$0")/.."
layer=all
case "${1:-}" in unit | integration | e2e) layer=$1; shift ;; esac
marker=var/run/rabbitmq.started-by-test
case "$layer" in
  unit) setup=(--no-broker) ;;
  integration) setup=() ;;
  *) setup=(--with-browser) ;;
esac
RABBIT_STARTED_MARKER=$marker scripts/bootstrap.sh "${setup[@]}" || exit $?
trap 'scripts/stop_rabbitmq_if_ours.sh "$marker"' EXIT
if [ "$layer" = all ]; then
  echo "[test] lint: ruff, mypy"
  .venv/bin/ruff check . || exit 1
  .venv/bin/ruff format --check . || exit 1
  .venv/bin/mypy || exit 1
  echo "[test] pytest"
  .venv/bin/python -m pytest "$@"
else
  echo "[test] pytest tests/$layer"
  .venv/bin/python -m pytest "tests/$layer" "$@"
fi
