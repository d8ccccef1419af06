"""Test-only pause points: named steps where a test can catch a real process and kill it there.

A process started with `CLINIC_TEST_PAUSE_AT=<point>` (or `<point>:<detail>`, e.g.
`consumer.before_ack:intake.completed`; several separated by commas) stops the first time it
reaches that point: it appends one JSON line (`point`, `detail`, `pid` and what the caller
adds) to the file `CLINIC_TEST_PAUSE_FILE` (when set) and to stderr, then blocks the thread
that reached it: for `CLINIC_TEST_PAUSE_S` seconds when set (the step then goes on, e.g. to
show what SIGTERM does mid-handler), else until the process is killed. Each named point
pauses once per process. Without `CLINIC_TEST_PAUSE_AT` (production), `reach` returns at once.

The points (`POINTS`) are where the reliability properties are decided: see docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

POINTS = {
    "consumer.handling": "a handler has the event (decoded, validated), before its effect",
    "consumer.before_ack": "the handler's effect is saved, the message is not acked yet",
    "relay.before_mark": "the broker confirmed the relayed events, not yet marked sent",
}
"""point -> the step it stops at (its detail: the event type, or the relay's collection)."""

_lock = threading.Lock()
_reached: set[str] = set()


def armed() -> list[str]:
    """The points this process was asked to pause at (read from the environment each time)."""
    value = os.environ.get("CLINIC_TEST_PAUSE_AT", "")  # test-only: not a setting
    return [part.strip() for part in value.split(",") if part.strip()]


def reach(point: str, detail: str = "", **info: Any) -> None:
    """Pause here when a test asked for `point` (or `point:detail`); else return at once."""
    if point not in POINTS:
        raise ValueError(f"unknown pause point {point!r}; add it to POINTS")
    wanted = armed()
    if not wanted:
        return
    name = next((w for w in wanted if w in (point, f"{point}:{detail}")), None)
    if name is None:
        return
    with _lock:
        if name in _reached:
            return
        _reached.add(name)
    line = json.dumps({"point": point, "detail": detail, "pid": os.getpid(), **info}, default=str)
    marker = os.environ.get("CLINIC_TEST_PAUSE_FILE")
    if marker:
        with open(marker, "a", encoding="utf-8") as file:
            file.write(line + "\n")
    print(f"pause point reached: {line}", file=sys.stderr, flush=True)
    seconds = os.environ.get("CLINIC_TEST_PAUSE_S")
    threading.Event().wait(float(seconds) if seconds else None)
