#!/usr/bin/env bash
# `make run`: set up what is missing, then run the stack until Ctrl-C; stop RabbitMQ only if we started it.
set -uo pipefail
cd "$(dirname "$0")/.."
marker=var/run/rabbitmq.started-by-run
RABBIT_STARTED_MARKER=$marker scripts/bootstrap.sh || exit $?
trap 'true' INT TERM
.venv/bin/python -m tools.devstack
rc=$?
scripts/stop_rabbitmq_if_ours.sh "$marker"
exit $rc
