"""The soak's stack: testkit's `LocalStack` with each worker under `make run`'s supervisor
(tools/devstack/respawn.py) and each API under gunicorn's master, both of which start again what
the chaos loop kills; and the MongoDB stand-in of its own on SQLite, killed and restarted on the
same port and file."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from testkit.mongo import MongoStandin
from testkit.processes import Worker
from testkit.stack import LocalStack
from testkit.waiting import wait_until
from tools.bench.cpu import descendants


class SoakStack(LocalStack):
    def start_worker(self, service: str) -> Worker:
        self.workers[service] = Worker(service, self.env(service), self.log_dir, respawned=True)
        return self.workers[service]

    def kill_worker(self, service: str) -> int | None:
        """SIGKILL the service's worker (its supervisor stays, and starts another); its pid."""
        return _kill_a_child(self.workers[service].popen.pid)

    def kill_api_process(self, service: str, choose: Any) -> int | None:
        """SIGKILL one of the API's gunicorn workers, `choose`n (its master starts another)."""
        return _kill_a_child(self.apis[service].popen.pid, choose)


def _kill_a_child(parent: int, choose: Any = None) -> int | None:
    children = [pid for pid in descendants(parent) if pid != parent]
    if not children:
        return None  # between a death and its replacement
    pid = choose(children) if choose else children[0]
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return pid


class Store:
    """The MongoDB stand-in on one SQLite file; `restart()` brings it back on the same port."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.standin = MongoStandin(path=path)
        self.url, self.port = self.standin.url, self.standin.port

    def kill(self) -> None:
        self.standin.kill()

    def restart(self) -> None:
        """Start it again; the port may take a moment to be free after the kill."""
        self.standin = wait_until(self._start, timeout=60, interval=0.5, message="the stand-in")

    def _start(self) -> MongoStandin:
        return MongoStandin(path=self.path, port=self.port)

    def stop(self) -> None:
        self.standin.stop()
