"""Worker process of the notifications service: `python -m services.notifications.worker`.

Components: the event consumer (events -> deliveries, contact directory, access replicas),
the outbox relay (`notification.sent` / `notification.failed`), and the sender loops that
deliver due deliveries, reminders included (they are deliveries with a later `send_at`).
"""

from __future__ import annotations

import sys
from typing import cast

from shared.config import Settings
from shared.events import event_components
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from shared.replicas import replica_handlers
from shared.worker import Component, run_worker

from . import consumers
from .domain.templates import TemplateRenderer
from .repository.indexes import ensure_indexes
from .repository.template_overrides import CachedOverrides, TemplateOverrides
from .repository.tenant_configs import CachedTenantSettings, TenantConfigs
from .senders.handoff import Handoff
from .usecases.delivery_planning import EventPlanner
from .usecases.sending import Clock, SenderLoop, SenderTuning, sender_loops, utc_now


def components(
    settings: Settings,
    mongo: Mongo,
    *,
    tuning: SenderTuning = SenderTuning(),
    clock: Clock = utc_now,
) -> list[Component]:
    db = mongo.db
    ensure_indexes(db)
    tenants = CachedTenantSettings(TenantConfigs(db))
    renderer = TemplateRenderer(CachedOverrides(TemplateOverrides(db.template_overrides)))
    # New deliveries wake the senders; recorded outcomes wake the relay (bound below). Those due
    # at once are claimed as they are planned and handed to the senders in memory.
    handoff = Handoff(tuning.lease_s, tuning.handoff, clock) if tuning.handoff else None
    loops = sender_loops(
        settings, db, tenants, renderer, tuning, clock, lambda: relay.wake(), handoff
    )
    planner = EventPlanner(
        db, tenants, clock,
        on_planned=lambda: wake_all(loops), handoff=handoff, on_handoff=lambda: nudge_all(loops),
    )  # fmt: skip
    handlers = {**planner.handlers(), **replica_handlers(db.principals, db.locations)}
    parts = event_components(
        settings,
        mongo,
        outbox_collections=["deliveries"],
        subscriptions=[consumers.inbox(settings, handlers), consumers.outcomes(settings)],
    )
    relay = cast(OutboxRelay, parts[0])  # event_components lists the relay first
    return [*parts, *loops]


def wake_all(loops: list[SenderLoop]) -> None:
    for loop in loops:
        loop.wake()


def nudge_all(loops: list[SenderLoop]) -> None:
    for loop in loops:
        loop.nudge()


def main() -> int:
    return run_worker("notifications", components)


if __name__ == "__main__":
    sys.exit(main())
