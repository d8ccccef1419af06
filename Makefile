# The two commands: `make run` (the whole stack) and `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup run test unit integration e2e lint test-docker bench bench-console bench-events bench-scale soak demo clean
MINUTES ?= 30

help:
	@echo "make run          install what is missing, start RabbitMQ, the MongoDB stand-in, a dev SMTP server, the six service processes and the staff console (http://127.0.0.1:8004)"
	@echo "make demo         one referral through the whole loop, on top of a running 'make run' (start that in another terminal first); prints a console sign-in"
	@echo "make test         install what is missing, start what the tests need, run lint and the whole suite, stop what it started"
	@echo "make unit         the unit tests only (pure rules; no broker, store or browser)"
	@echo "make integration  the integration tests only (each service's parts on the real RabbitMQ and the MongoDB stand-in)"
	@echo "make e2e          the end-to-end tests only (the services as real processes; the browser too)"
	@echo "make test-docker  the integration tests against docker-compose.yml's real MongoDB 7 and RabbitMQ (needs a Docker engine)"
	@echo "make lint         ruff and mypy only"
	@echo "make bench        the whole loop on fresh databases: cost per referral, CPU against a bare hop, latency, HTTP, every query on an index; JSON (docs/benchmark.md)"
	@echo "make bench-console the staff console's main pages on a clinic of 1,000 patients and 5,000 sessions: server time p50/p95 and API calls per page, as JSON"
	@echo "make bench-scale  the largest referral rate before p99 passes 1 s (in-memory stand-in), and the cost per referral in a clinic of 1,000 and of 3,000 referrals, as JSON"
	@echo "make bench-events one event hop (outbox -> publish -> consume -> effect) against bare kombu, as JSON"
	@echo "make soak         MINUTES (default 30) of partner and staff traffic while workers, API processes, the broker and the store are killed; then every effect counted once; JSON, exit 1 on a loss or a double (docs/ops.md)"
	@echo "make clean        remove local data (var/) and the virtualenv"

setup:
	@scripts/bootstrap.sh

run:
	@scripts/run.sh

test:
	@scripts/test.sh

unit:
	@scripts/test.sh unit

integration:
	@scripts/test.sh integration

e2e:
	@scripts/test.sh e2e

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

test-docker: setup
	@scripts/test_docker.sh

demo: setup
	@.venv/bin/python -m tools.demo

bench: setup
	@.venv/bin/python -m tools.bench

bench-console: setup
	@.venv/bin/python -m tools.bench.console_pages

bench-events: setup
	@.venv/bin/python -m tools.bench.event_hop

bench-scale: setup
	@.venv/bin/python -m tools.bench.scale

soak: setup
	@.venv/bin/python -m tools.soak --minutes $(MINUTES)

clean:
	rm -rf var .venv
