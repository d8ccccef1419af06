"""The chaos loop: every `interval_s` the next fault of a fixed cycle, on a target chosen at
random (seeded; each service in turn, in a shuffled order, so a short run hits several):
SIGKILL a service's worker (its supervisor starts another), SIGKILL one of an API's gunicorn
workers (the master starts another), stop the broker application for `BROKER_AWAY_S`
(`rabbitmqctl stop_app`, then `start_app`), kill the MongoDB stand-in and start it again on the
same file and port after `STORE_AWAY_S`. `away()` says what is down right now (or just back),
for the HTTP answers to be told apart."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

from testkit.rabbit import rabbitmqctl
from testkit.stack import SERVICES
from tools.soak.stack import SoakStack, Store

CYCLE = ("worker", "store", "api", "broker", "worker", "api")
"""The store and the broker early in the cycle: a short run (tests/e2e/test_soak.py) sees their
aftermath within its chaos, and ends on kills, which the system gets over in seconds."""
BROKER_AWAY_S = 20.0  # how long each fault lasts: the point of the soak, not a wait for an event
STORE_AWAY_S = 10.0
AFTERMATH_S = 10.0  # clients reconnect: a dependency counts as away until this long after


class Chaos:
    def __init__(self, stack: SoakStack, store: Store, interval_s: float, seed: int) -> None:
        self.stack, self.store, self.interval_s = stack, store, interval_s
        self.random = random.Random(seed)
        self._turns: dict[str, list[str]] = {}
        self.kills: Counter[str] = Counter()  # "intake-worker", "planning-api", ...
        self.broker_stops = 0
        self.store_restarts = 0
        self.failures = 0  # faults that could not be made or undone (see the log)
        self.log: list[str] = []  # one line per fault, with its time since the start
        self._away: set[str] = set()
        self._back_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._work, name="soak-chaos", daemon=True)

    def away(self) -> frozenset[str]:
        """What is down now, or came back less than `AFTERMATH_S` ago."""
        now = time.monotonic()
        with self._lock:
            recent = {what for what, at in self._back_at.items() if now - at < AFTERMATH_S}
            return frozenset(self._away | recent)

    def _gone(self, what: str) -> None:
        with self._lock:
            self._away.add(what)

    def _back(self, what: str) -> None:
        with self._lock:
            self._away.discard(what)
            self._back_at[what] = time.monotonic()

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def stop(self) -> None:
        """No new fault; one under way is ended first (the broker and the store are back)."""
        self.stopping.set()
        self.thread.join(timeout=BROKER_AWAY_S + 120)

    def report(self) -> dict[str, Any]:
        return {
            "worker_kills": sum(n for k, n in self.kills.items() if k.endswith("-worker")),
            "api_process_kills": sum(n for k, n in self.kills.items() if k.endswith("-api")),
            "kills": dict(sorted(self.kills.items())),
            "broker_stops": self.broker_stops,
            "store_restarts": self.store_restarts,
            "faults_failed": self.failures,
        }

    def _work(self) -> None:
        step = 0
        while not self.stopping.wait(self.interval_s):
            fault = CYCLE[step % len(CYCLE)]
            step += 1
            try:
                getattr(self, f"_{fault}")()
            except Exception as error:  # a fault that could not be made is said, not fatal
                self.failures += 1
                self._note(f"{fault}: could not be made or undone: {error!r}")

    def _note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:7.1f} s  {what}")

    def _next_service(self, kind: str) -> str:
        """Each service once per round, the rounds in a shuffled order."""
        turns = self._turns.setdefault(kind, [])
        if not turns:
            turns.extend(self.random.sample(SERVICES, len(SERVICES)))
        return turns.pop()

    def _worker(self) -> None:
        service = self._next_service("worker")
        pid = self.stack.kill_worker(service)
        if pid is not None:
            self.kills[f"{service}-worker"] += 1
            self._note(f"SIGKILL {service} worker (pid {pid})")

    def _api(self) -> None:
        service = self._next_service("api")
        pid = self.stack.kill_api_process(service, self.random.choice)
        if pid is not None:
            self.kills[f"{service}-api"] += 1
            self._note(f"SIGKILL one {service} API process (pid {pid})")

    def _broker(self) -> None:
        self._note("rabbitmqctl stop_app")
        self._gone("broker")
        try:
            rabbitmqctl("stop_app")
            self.broker_stops += 1
            time.sleep(BROKER_AWAY_S)
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
            self._back("broker")
            self._note("rabbitmqctl start_app: the broker is back")

    def _store(self) -> None:
        self._note("SIGKILL the MongoDB stand-in")
        self._gone("store")
        try:
            self.store.kill()
            self.store_restarts += 1
            time.sleep(STORE_AWAY_S)
        finally:
            self.store.restart()
            self._back("store")
            self._note("the MongoDB stand-in is back (same file, same port)")
