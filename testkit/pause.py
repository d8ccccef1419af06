"""Catch a real process at a named step (`shared.pause_points`): the environment that arms the
point, and a wait for the process to reach it (its marker line)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from testkit.waiting import wait_until


class PausePoint:
    """`point` is `<name>` or `<name>:<detail>` (e.g. `consumer.before_ack:intake.completed`)."""

    def __init__(self, point: str, directory: Path) -> None:
        self.point = point
        self.marker = directory / f"pause-{uuid.uuid4().hex[:8]}.jsonl"

    def env(self, seconds: float | None = None) -> dict[str, str]:
        """Variables for the process to start with: it blocks there until killed, or for
        `seconds` and then goes on."""
        env = {"CLINIC_TEST_PAUSE_AT": self.point, "CLINIC_TEST_PAUSE_FILE": str(self.marker)}
        if seconds is not None:
            env["CLINIC_TEST_PAUSE_S"] = str(seconds)
        return env

    def reached(self) -> list[dict[str, Any]]:
        """The marker lines written so far (one per process that reached the point)."""
        if not self.marker.exists():
            return []
        return [json.loads(line) for line in self.marker.read_text().splitlines() if line]

    def wait(self, timeout: float = 60) -> dict[str, Any]:
        """The marker line of the first process that reached the point."""
        found = wait_until(self.reached, timeout=timeout, message=f"pause point {self.point}")
        return found[0]
