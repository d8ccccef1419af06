"""Plays intake's part for planning's tests: publishes intake's events to `intake.events`.
(Planning's components in threads: `tests.support.threads`; what planning publishes:
`testkit.event_tap.EventTap(url, "planning.events")`.)"""

from __future__ import annotations

from collections.abc import Iterable

from shared.config import Settings
from shared.events import Event
from shared.events.publisher import ConfirmedPublisher

INTAKE_EXCHANGE = "intake.events"


def publish(settings: Settings, events: Iterable[Event]) -> None:
    """Publish intake's events to `intake.events` with confirms (as intake's relay would)."""
    publisher = ConfirmedPublisher(settings)
    try:
        for event in events:
            publisher.publish(INTAKE_EXCHANGE, event.type, event.to_json(), message_id=event.id)
    finally:
        publisher.close()
