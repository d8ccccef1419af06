"""Stands in for intake's consumers (planning, notifications): a queue bound to `intake.events`.

In a fresh test vhost nobody else binds `intake.events`, and the relay keeps unroutable events
pending; this sink makes them routable and lets a test read what intake emitted.
"""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection

EXCHANGE = "intake.events"
QUEUE = "test.intake-events"


class EventSink:
    def __init__(self, amqp_url: str) -> None:
        self.connection = Connection(amqp_url)
        channel = self.connection.default_channel
        channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.queue_declare(
            QUEUE, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )
        channel.queue_bind(QUEUE, EXCHANGE, "#")
        self.received: list[dict[str, Any]] = []

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every event received so far (of one type, if given)."""
        channel = self.connection.default_channel
        while (message := channel.basic_get(QUEUE, no_ack=True)) is not None:
            self.received.append(json.loads(message.body))
        return [e for e in self.received if type is None or e["type"] == type]

    def close(self) -> None:
        self.connection.release()
