"""Prometheus metrics shared by every process.

Under gunicorn, `shared.gunicorn_conf` sets PROMETHEUS_MULTIPROC_DIR before this module is
imported, so the API's workers aggregate; a worker process serves its own registry.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["method", "endpoint"]
)
MONGO_COMMANDS = Counter(
    "mongo_commands_total", "MongoDB commands sent, by command name", ["command"]
)
CONNECTIONS_OPENED = Counter(
    "process_connections_opened",
    "MongoDB clients and RabbitMQ connections opened, by kind and by the process that opened them",
    ["kind", "pid"],
)


def render() -> tuple[bytes, str]:
    """The exposition text of this process (or of all gunicorn workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
