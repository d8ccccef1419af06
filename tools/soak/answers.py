"""Every HTTP answer the soak's staff had, counted: by status code, the 5xx by code (and which
of them came while a dependency was away), and the calls that got no answer at all (an API
process killed under them)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests


class Answers:
    def __init__(self, away: Callable[[], frozenset[str]]) -> None:
        self.away = away  # what the chaos loop has taken away right now ("broker", "store")
        self.by_code: Counter[int] = Counter()
        self.server_errors: Counter[str] = Counter()  # "503 intake POST /intakes"
        self.server_errors_while_away: Counter[int] = Counter()
        self.unanswered = 0
        self.samples_500: list[str] = []  # what a 500 said (the first few)
        self._lock = threading.Lock()

    def note(self, service: str, method: str, path: str, response: requests.Response) -> None:
        code = response.status_code
        with self._lock:
            self.by_code[code] += 1
            if code >= 500:
                self.server_errors[f"{code} {service} {method} {_shape(path)}"] += 1
                if self.away():
                    self.server_errors_while_away[code] += 1
                if code != 503 and len(self.samples_500) < 5:
                    self.samples_500.append(f"{service} {method} {path}: {response.text[:300]}")

    def note_unanswered(self) -> None:
        with self._lock:
            self.unanswered += 1

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
                "not_503_samples": list(self.samples_500),
                "unanswered": self.unanswered,
            }


def _shape(path: str) -> str:
    """A path with its ids left out, so that calls group by route."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if any(ch.isdigit() for ch in part) else part for part in parts)
