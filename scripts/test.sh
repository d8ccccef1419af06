#!/usr/bin/env bash
# `make test`: set up what is missing, lint, run the whole suite against the real local RabbitMQ
# and the MongoDB stand-in (started by the tests themselves), then stop what this run started.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k outbox`.
set -uo pipefail
cd "$(dirname "$0")/.."
marker=var/run/rabbitmq.started-by-test
RABBIT_STARTED_MARKER=$marker scripts/bootstrap.sh --with-browser || exit $?
trap 'scripts/stop_rabbitmq_if_ours.sh "$marker"' EXIT
echo "[test] lint: ruff, mypy"
.venv/bin/ruff check . || exit 1
.venv/bin/ruff format --check . || exit 1
.venv/bin/mypy || exit 1
echo "[test] pytest"
.venv/bin/python -m pytest "$@"
