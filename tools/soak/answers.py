"""Every HTTP answer the soak's staff had, counted: by status code, the 5xx by code (and which
of them came while a dependency was away), and the calls that got no answer at all (an API
process killed under them). A 5xx other than 503 is traced, by its X-Request-ID, to the error
its API logged; one the MongoDB stand-in itself caused (a fault of mongoeco's, which a real
MongoDB does not have: `STAND_IN_FAULTS`) is counted apart from the services' own."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests

STAND_IN_FAULTS = (
    # mongoeco's wire server under concurrent writes answers an insert with this Python error
    # as an OperationFailure (seen on planning's audit insert after a session was recorded)
    "dictionary changed size during iteration",
)


class Answers:
    def __init__(self, away: Callable[[], frozenset[str]]) -> None:
        self.away = away  # what the chaos loop has taken away right now ("broker", "store")
        self.by_code: Counter[int] = Counter()
        self.server_errors: Counter[str] = Counter()  # "503 intake POST /intakes"
        self.server_errors_while_away: Counter[int] = Counter()
        self.unanswered = 0
        self.samples_500: list[str] = []  # what a 500 said (the first few)
        self.traced: list[tuple[str, str]] = []  # (service, request id) of each 5xx but 503
        self.causes: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def note(self, service: str, method: str, path: str, response: requests.Response) -> None:
        code = response.status_code
        with self._lock:
            self.by_code[code] += 1
            if code >= 500:
                self.server_errors[f"{code} {service} {method} {_shape(path)}"] += 1
                if self.away():
                    self.server_errors_while_away[code] += 1
                if code != 503:
                    self.traced.append((service, response.headers.get("X-Request-ID", "")))
                if code != 503 and len(self.samples_500) < 5:
                    self.samples_500.append(f"{service} {method} {path}: {response.text[:300]}")

    def note_unanswered(self) -> None:
        with self._lock:
            self.unanswered += 1

    def trace(self, logs: dict[str, str]) -> None:
        """Find what each 5xx but 503 was in its API's log (`logs`: service -> log text)."""
        for service, request_id in self.traced:
            self.causes.append(
                {"service": service, "cause": logged_error(logs.get(service, ""), request_id)}
            )

    def report(self) -> dict[str, Any]:
        with self._lock:
            fives = Counter({str(c): n for c, n in self.by_code.items() if c >= 500})
            return {
                "by_code": {str(c): n for c, n in sorted(self.by_code.items())},
                "5xx_by_code": dict(sorted(fives.items())),
                "5xx_while_a_dependency_was_away": {
                    str(c): n for c, n in sorted(self.server_errors_while_away.items())
                },
                "5xx_by_call": dict(self.server_errors.most_common()),
                "not_503": sum(n for c, n in self.by_code.items() if c >= 500 and c != 503),
                "not_503_from_the_stand_in": sum(
                    any(fault in c["cause"] for fault in STAND_IN_FAULTS) for c in self.causes
                ),
                "not_503_causes": list(self.causes),
                "not_503_samples": list(self.samples_500),
                "unanswered": self.unanswered,
            }


def _shape(path: str) -> str:
    """A path with its ids left out, so that calls group by route."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if any(ch.isdigit() for ch in part) else part for part in parts)


def logged_error(log: str, request_id: str) -> str:
    """The last line of the error an API logged as "unhandled error" for `request_id`."""
    for line in log.splitlines():
        if request_id and request_id in line and "unhandled error" in line:
            try:
                exc = json.loads(line).get("exc") or ""
            except ValueError:
                continue
            return exc.strip().splitlines()[-1][:300] if exc.strip() else "?"
    return "not found in the log"
