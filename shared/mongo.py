"""MongoDB access: one client per process, created lazily, recreated after a fork.

Writes use write concern `majority` with a timeout and reads use read concern `majority`, so
behaviour is the same on a replica set and on the development stand-in.

With `MONGO_COMMAND_LOG=<directory>` set, every command is also recorded for the benchmark
(`shared.command_log`); unset, nothing is recorded.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from pymongo import MongoClient, monitoring
from pymongo.database import Database
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared import command_log
from shared.config import Settings
from shared.metrics import CONNECTIONS_OPENED, MONGO_COMMANDS


class _CommandCounter(monitoring.CommandListener):
    """Counts every command the driver sends, by name (for metrics and the benchmark)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        MONGO_COMMANDS.labels(command=event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class DatabaseSource(Protocol):
    """Where a composition root's database comes from: a `Mongo` (one client per process)."""

    @property
    def db(self) -> Database: ...


class Mongo:
    """Lazily opens the client on first use in this process (never at import time or before a fork)."""

    def __init__(
        self, settings: Settings, listeners: list[monitoring.CommandListener] | None = None
    ):
        self._settings = settings
        self._listeners = [
            _CommandCounter(),
            *command_log.from_environment(settings.service),
            *(listeners or []),
        ]
        self._client: MongoClient | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> MongoClient:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                timeout = self._settings.mongo_timeout_ms
                self._client = MongoClient(
                    self._settings.mongo_url,
                    serverSelectionTimeoutMS=timeout,
                    connectTimeoutMS=timeout,
                    socketTimeoutMS=max(timeout * 2, 10_000),
                    tz_aware=True,
                    event_listeners=self._listeners,
                    appname=self._settings.service,
                )
                self._pid = os.getpid()
                CONNECTIONS_OPENED.labels(kind="mongo", pid=str(self._pid)).inc()
            return self._client

    @property
    def db(self) -> Database:
        return self.client.get_database(
            self._settings.mongo_db,
            write_concern=WriteConcern("majority", wtimeout=self._settings.mongo_timeout_ms),
            read_concern=ReadConcern("majority"),
        )

    def ping(self) -> None:
        """Readiness: the `ping` command (works on MongoDB and on the stand-in, unlike buildInfo)."""
        self.client.admin.command("ping")

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None
