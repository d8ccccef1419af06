"""The notifications service in the test's own process, on the real MongoDB stand-in and real
channels (aiosmtpd, the fake SMS provider), with a clock the test controls. No broker: events
are handed to the consumer's handlers directly, as the consumer would.

`worker_in_threads` runs the worker's own components instead (consumer, relay, senders) on the
real RabbitMQ, with the real clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Exchange, Queue
from pymongo.database import Database

from services.notifications.bootstrap import (
    SenderTuning,
    build_deps,
    components,
    sender_loops,
)
from services.notifications.consumers import inbox_handlers
from services.notifications.repository.contacts import contact_id
from services.notifications.repository.indexes import create_indexes
from services.notifications.repository.tenant_configs import TenantConfigs
from services.notifications.senders.loops import SenderLoop
from shared.config import Settings
from shared.events import Event
from shared.mongo import Mongo
from tests.support.notifications_events import TENANT, FixedClock, OtherServices

NOON_UTC = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York, 17:00 in Berlin
NO_QUIET_HOURS: dict[str, Any] = {"quiet_hours": None}
FAST_RETRY = {"retry": {"max_attempts": 3, "first_delay_s": 1, "jitter_s": 0}}
OUTCOMES_OBSERVER = "test.notification-outcomes"
"""A queue bound to what the service announces (`notification.#`), for the tests to read."""


@contextmanager
def worker_in_threads(settings: Settings) -> Iterator[OtherServices]:
    """The notifications worker's components, running in threads of this process; yields a
    publisher playing intake's and planning's part."""
    stop = threading.Event()
    mongo = Mongo(settings)
    parts = components(settings, mongo, tuning=SenderTuning(threads=1, lease_s=5))
    with Connection(settings.amqp_url) as conn:  # a witness of what the service announces
        Queue(
            OUTCOMES_OBSERVER, Exchange("notifications.events", "topic", passive=True),
            routing_key="notification.#", durable=False, channel=conn.default_channel,
        ).declare()  # fmt: skip
    threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in parts]
    for thread in threads:
        thread.start()
    others = OtherServices(settings)
    try:
        yield others
    finally:
        others.close()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        mongo.close()


@dataclass(frozen=True)
class GivenDatabase:
    """The test's database where the service expects a `shared.mongo.Mongo`."""

    db: Database


class InProcessNotifications:
    """The service's own parts (`bootstrap.build_deps`), without caching (ttl 0), the consumer's
    handlers called directly and sender loops run on demand; no handoff."""

    def __init__(self, settings: Settings, db: Database, clock: FixedClock, senders: int = 1):
        create_indexes(db)
        self.db, self.clock = db, clock
        self.deps = build_deps(settings, GivenDatabase(db), clock=clock, cache_ttl_s=0)
        tuning = SenderTuning(threads=senders, lease_s=30, channel_timeout_s=5)
        self.senders: list[SenderLoop] = sender_loops(self.deps, tuning)
        self.handlers = inbox_handlers(self.deps, self.deps.deliveries.insert_planned)

    def handle(self, *events: Event) -> list[bool]:
        return [self.handlers[event.type](event) for event in events]

    def send_due(self, limit: int = 100) -> int:
        """Deliver what is due now (by the test's clock); returns how many were handled."""
        handled = 0
        while handled < limit and self.senders[0].run_once():
            handled += 1
        return handled

    def configure(self, tenant: str = TENANT, **config: Any) -> None:
        TenantConfigs(self.db).put(tenant, config, self.clock())

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.db.deliveries.find(filters).sort("created_at", 1))

    def one(self, **filters: Any) -> dict[str, Any]:
        [delivery] = self.deliveries(**filters)
        return delivery

    def statuses(self, **filters: Any) -> dict[tuple[str, str, str], str]:
        """{(audience, channel, template): status} (one delivery each expected)."""
        return {
            (d["audience"], d["channel"], d["template"]): d["status"]
            for d in self.deliveries(**filters)
        }

    def contact(self, patient_id: str, tenant: str = TENANT) -> dict[str, Any] | None:
        return self.db.contacts.find_one({"_id": contact_id(tenant, patient_id)})

    def at(self, when: datetime) -> InProcessNotifications:
        self.clock.set(when)
        return self
