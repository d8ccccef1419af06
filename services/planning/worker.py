"""Worker process of the planning service: `python -m services.planning.worker`.

Components: the outbox relay (events of `plans`), the consumer of intake's events (queue
`planning.intake-events`, bound to exactly the types `consumers.handlers` handles, on the
exchanges the event catalogue names) and the referral tracker (the date alerts as days pass).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from services.planning import bootstrap, consumers
from services.planning.bootstrap import Deps
from services.planning.repository.indexes import create_indexes
from services.planning.usecases.referral_tracking import check_due_referrals
from shared import outages
from shared.config import Settings
from shared.events import catalog, event_components, subscribe
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from shared.worker import Component, run_worker

log = logging.getLogger("planning.referral_tracker")
QUEUE_PURPOSE = "intake-events"
OUTBOX_COLLECTIONS = ["plans"]


class ReferralTracker:
    """Checks the plans whose referral check is due, every `poll_interval_s` (at once again
    while full batches are due); wakes the relay when it saved events. A store outage pauses the
    checks (a growing pause, up to 3 s) instead of ending the worker: seen when the stand-in was
    busy filling a clinic of 10,000 referrals, pymongo cancelled the tracker's query
    (`AutoReconnect`) and the whole planning worker exited."""

    name = "referral-tracker"

    def __init__(
        self, deps: Deps, poll_interval_s: float, on_events: Callable[[], None] = lambda: None
    ) -> None:
        self.deps = deps
        self.poll_interval_s = poll_interval_s
        self.on_events = on_events

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                done = check_due_referrals(self.deps)
            except outages.STORE_OUTAGE_ERRORS as error:  # the store is away: not the work's
                failures += 1  # fault; the checks wait and are made again, as the relay's
                log.warning(
                    "store unavailable; referral checks wait",
                    extra={"error": f"{type(error).__name__}: {str(error)[:300]}"},
                )
                stop.wait(outages.pause_s(failures))
                continue
            failures = 0
            if done.events_saved:
                self.on_events()
            if not done.more_waiting:
                stop.wait(self.poll_interval_s)


def components(settings: Settings, mongo: Mongo) -> list[Component]:
    deps = bootstrap.build(settings, mongo, cache_ttl_s=bootstrap.WORKER_CACHE_TTL_S)
    create_indexes(deps.db)
    handlers = consumers.handlers(deps)
    subscription = subscribe(settings, QUEUE_PURPOSE, catalog.bindings(handlers), handlers)
    parts = event_components(
        settings, mongo, outbox_collections=OUTBOX_COLLECTIONS, subscriptions=[subscription]
    )
    relay = next(p for p in parts if isinstance(p, OutboxRelay))
    tracker = ReferralTracker(deps, settings.scheduler_poll_interval_s, on_events=relay.wake)
    return [*parts, tracker]


def main() -> int:
    return run_worker("planning", components)


if __name__ == "__main__":
    sys.exit(main())
