"""Drives planning in tests: publish intake's events, read what planning publishes, and run
planning's worker components in threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from kombu import Connection, Exchange, Queue

from shared.config import Settings
from shared.events import Event
from shared.events.publisher import ConfirmedPublisher
from shared.worker import Component
from testkit.waiting import wait_until

PLANNING_EXCHANGE = "planning.events"
INTAKE_EXCHANGE = "intake.events"


def publish(settings: Settings, events: Iterable[Event]) -> None:
    """Publish intake's events to `intake.events` with confirms (as intake's relay would)."""
    publisher = ConfirmedPublisher(settings)
    try:
        for event in events:
            publisher.publish(INTAKE_EXCHANGE, event.type, event.to_json(), message_id=event.id)
    finally:
        publisher.close()


class EventTap:
    """A test queue bound to everything planning publishes; `expect` waits for an event."""

    def __init__(self, amqp_url: str, name: str = "test.planning-tap") -> None:
        self.connection = Connection(amqp_url)
        self.queue = Queue(
            name,
            Exchange(PLANNING_EXCHANGE, type="topic", durable=True),
            routing_key="#",
            durable=False,
            auto_delete=False,
        )
        self.queue(self.connection.default_channel).declare()
        self.seen: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        bound = self.queue(self.connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            self.seen.append(json.loads(message.body))
        return self.seen

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e["type"] == type_]

    def expect(self, type_: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        return wait_until(
            lambda: (found := self.of_type(type_)) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} {type_} event(s) from planning",
        )

    def close(self) -> None:
        self.connection.release()


class Threads:
    """Runs worker components in threads until `stop()`."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, components: Sequence[Component]) -> Sequence[Component]:
        for component in components:
            thread = threading.Thread(target=component.run, args=(self.stop_event,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return components

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=30)
