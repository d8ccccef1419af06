"""What a service announces, seen as its consumers would: a queue of the test's own bound to the
service's exchange (`intake.events`, `planning.events`, ...).

In a fresh vhost nobody else may bind the exchange yet, and the relays keep unroutable events
pending; a tap opened before the service runs also makes its events routable.
"""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection

from testkit.waiting import wait_until


class EventTap:
    def __init__(self, amqp_url: str, exchange: str, queue: str | None = None) -> None:
        self.exchange = exchange
        self.queue = queue or f"test.tap.{exchange}"
        self.connection = Connection(amqp_url)
        channel = self.connection.default_channel
        channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
        channel.queue_declare(
            self.queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )
        channel.queue_bind(self.queue, exchange, "#")
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """Every event received so far (taking what waits in the queue)."""
        channel = self.connection.default_channel
        while (message := channel.basic_get(self.queue, no_ack=True)) is not None:
            self.received.append(json.loads(message.body))
        return self.received

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every event received so far, of one type if given."""
        return [e for e in self.drain() if type is None or e["type"] == type]

    def expect(self, type: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until `count` events of `type` were received; returns them."""
        return wait_until(
            lambda: (found := self.events(type)) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} {type} event(s) on {self.exchange}",
        )

    def close(self) -> None:
        self.connection.release()
