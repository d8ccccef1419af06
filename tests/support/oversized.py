"""An event body far larger than any event may be (`shared.events.envelope.MAX_EVENT_BYTES`):
a valid event padded to `size` bytes, for the tests that show a consumer refuses it unread."""

from __future__ import annotations

import json
from typing import Any

FIVE_MB = 5 * 1024 * 1024


def padded(event: dict[str, Any], size: int = FIVE_MB) -> bytes:
    """The event's JSON, its data padded so the body is `size` bytes long."""
    body = json.loads(json.dumps(event))
    body.setdefault("data", {})["padding"] = ""
    short = len(json.dumps(body).encode())
    body["data"]["padding"] = "x" * (size - short)
    return json.dumps(body).encode()
