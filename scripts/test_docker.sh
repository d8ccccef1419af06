#!/usr/bin/env bash
# `make test-docker`: the integration tests against docker-compose.yml's real MongoDB 7 and RabbitMQ,
# through pytest-docker. Fails with a clear message where no Docker engine answers.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "make test-docker: no Docker engine answers here ('docker info' failed); it needs one. Plain 'make test' does not." >&2
  exit 1
fi
if [ ! -f .env ]; then
  echo "[test-docker] no .env: writing one from .env.example with random passwords"
  while IFS= read -r line; do
    case "$line" in
      *PASSWORD=change-me*|*_KEY=change-me*|*SECRET=change-me*) echo "${line%%=*}=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" ;;
      *) echo "$line" ;;
    esac
  done < .env.example > .env
fi
CLINIC_TEST_DOCKER=1 .venv/bin/python -m pytest tests/integration -m "docker or not docker" -p no:cacheprovider "$@"
