"""Worker process of the planning service: `python -m services.planning.worker`.

Components: the outbox relay (events of `plans`), the consumer of intake's events (queue
`planning.intake-events`) and the referral tracker.
"""

from __future__ import annotations

import sys

from services.planning.consumers import IntakeEventHandlers
from services.planning.referral_tracker import ReferralTracker
from services.planning.storage.indexes import prepare
from shared.config import Settings
from shared.events import event_components, subscribe
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from shared.worker import Component, run_worker

INTAKE_EXCHANGE = "intake.events"
QUEUE_PURPOSE = "intake-events"


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    prepare(mongo.db)
    handlers = IntakeEventHandlers(mongo.db).handlers()
    subscription = subscribe(
        settings, QUEUE_PURPOSE, [(INTAKE_EXCHANGE, t) for t in sorted(handlers)], handlers
    )
    parts = event_components(
        settings, mongo, outbox_collections=["plans"], subscriptions=[subscription]
    )
    relay = next(p for p in parts if isinstance(p, OutboxRelay))
    tracker = ReferralTracker(mongo.db, settings.scheduler_poll_interval_s, on_events=relay.wake)
    return [*parts, tracker]


def main() -> int:
    return run_worker("planning", components)


if __name__ == "__main__":
    sys.exit(main())
