"""The worker process: runs a service's components (consumers, outbox relay, schedulers) in threads.

SIGTERM or Ctrl-C asks every component to finish what it is doing and stop; the process then
exits 0. A component that dies makes the whole process exit non-zero, so its supervisor
restarts it: never a live process that does nothing. While all components are alive the
worker touches its heartbeat file (for container healthchecks).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from prometheus_client import start_http_server

from shared.config import ConfigError, Settings, load_settings
from shared.logs import configure_logging
from shared.mongo import Mongo

log = logging.getLogger("worker")
HEARTBEAT_INTERVAL_S = 5.0


class Component(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; return cleanly then. Raise on an unrecoverable failure."""


ComponentFactory = Callable[[Settings, Mongo], Sequence[Component]]


class _Runner:
    def __init__(self, components: Sequence[Component]) -> None:
        self.stop = threading.Event()
        self.failed: list[str] = []
        self.threads = [
            threading.Thread(target=self._guard, args=(c,), name=c.name, daemon=True)
            for c in components
        ]

    def _guard(self, component: Component) -> None:
        try:
            component.run(self.stop)
        except BaseException:
            log.exception("component failed", extra={"component": component.name})
            self.failed.append(component.name)
        finally:
            self.stop.set()

    def run(self, heartbeat: Path | None) -> int:
        for thread in self.threads:
            thread.start()
        while not self.stop.wait(HEARTBEAT_INTERVAL_S if heartbeat else 1.0):
            if heartbeat:
                heartbeat.touch()
        for thread in self.threads:
            thread.join(timeout=60)
        stuck = [t.name for t in self.threads if t.is_alive()]
        if stuck:
            log.error("components did not stop in time", extra={"components": stuck})
        return 1 if (self.failed or stuck) else 0


def run_worker(service: str, build: ComponentFactory) -> int:
    """Process entrypoint shared by every service's `worker` module."""
    try:
        settings = load_settings(service)
    except ConfigError as error:
        print(f"{service} worker: {error}", file=sys.stderr)
        return 2
    configure_logging(service, settings.log_level)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_addr)
    mongo = Mongo(settings)
    runner = _Runner(build(settings, mongo))

    def _ask_to_stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        runner.stop.set()

    signal.signal(signal.SIGTERM, _ask_to_stop)
    signal.signal(signal.SIGINT, _ask_to_stop)
    heartbeat = Path(settings.worker_heartbeat_file) if settings.worker_heartbeat_file else None
    if heartbeat:
        heartbeat.touch()
    log.info("worker started", extra={"components": [t.name for t in runner.threads]})
    code = runner.run(heartbeat)
    mongo.close()
    log.info("worker stopped", extra={"exit_code": code})
    return code
