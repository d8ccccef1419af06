"""gunicorn settings for every service's API: `gunicorn -c python:shared.gunicorn_conf 'services.X.app:create_app()'`.

Loaded in the master before the app: it prepares prometheus-client's multiprocess directory
(before any metric exists), validates the configuration, and leaves connections to each worker.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
control_socket_disable = True  # no shared control socket in $HOME for several masters
preload_app = False  # each worker builds its own app, MongoClient and broker connections
accesslog = None  # the app logs one JSON line per request, with its request id
errorlog = "-"
_service = next(
    (arg.split(".")[1] for arg in reversed(sys.argv) if arg.startswith("services.")), "gunicorn"
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "shared.logs.JsonFormatter", "service": _service}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="clinic-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
else:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
os.makedirs(_metrics_dir, exist_ok=True)


def on_starting(server) -> None:
    """Stop at once, naming the variable, when the configuration is invalid."""
    from shared.config import ConfigError, load_settings

    app_uri = server.app.app_uri or ""
    service = app_uri.split(".")[1] if app_uri.startswith("services.") else None
    if service:
        try:
            load_settings(service)
        except ConfigError as error:
            print(f"{service}: {error}", file=sys.stderr)
            sys.exit(2)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
