"""Drives planning in tests: publish intake's events and run planning's worker components in
threads (what planning publishes: `testkit.event_tap.EventTap(url, "planning.events")`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from shared.config import Settings
from shared.events import Event
from shared.events.publisher import ConfirmedPublisher
from shared.worker import Component

INTAKE_EXCHANGE = "intake.events"


def publish(settings: Settings, events: Iterable[Event]) -> None:
    """Publish intake's events to `intake.events` with confirms (as intake's relay would)."""
    publisher = ConfirmedPublisher(settings)
    try:
        for event in events:
            publisher.publish(INTAKE_EXCHANGE, event.type, event.to_json(), message_id=event.id)
    finally:
        publisher.close()


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
