"""The one composition root: what the API and the worker of notifications are made of.

`build_deps` makes the `Deps` of a process once (settings, the database, the clock, the caches
of tenant settings and template overrides, the renderer, the unsubscribe links); the app puts
it in `app.extensions["deps"]`. `components` wires the worker from it: the event consumer (its
use case saves deliveries through the in-memory handoff), the outbox relay, and
`SenderTuning.threads` sender loops, each with its own channel connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import cast

from pymongo.database import Database

from shared.cache import TtlCache
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.events import event_components
from shared.events.relay import OutboxRelay
from shared.mongo import DatabaseSource, Mongo
from shared.worker import Component

from . import consumers
from .channels.outbound import Channels
from .domain.templates import TemplateRenderer
from .domain.unsubscribe_links import UnsubscribeLinks
from .repository.contacts import ContactDirectory
from .repository.deliveries import DeliveryStore
from .repository.indexes import create_indexes
from .repository.template_overrides import TemplateOverrides, TenantOverrides
from .repository.tenant_configs import TenantConfigs, TenantSettings
from .senders.handoff import Handoff, NewDeliveries
from .senders.loops import SenderLoop
from .usecases import sending

CACHE_TTL_S = 2.0
"""How stale a worker's view of a clinic's settings and template overrides may be."""


@dataclass(frozen=True)
class SenderTuning:
    """Operational knobs of the sender (not tenant settings)."""

    lease_s: float = 120.0  # well above the channel timeout: a live sender never loses its lease
    threads: int = 2
    channel_timeout_s: float = 10.0
    idle_poll_s: float | None = None  # None: the SCHEDULER_POLL_INTERVAL_S setting
    handoff: int = 16  # deliveries claimed as planned, waiting in memory (0: claim them all later)


@dataclass(frozen=True)
class Deps:
    """A process's parts. The repositories are made on first use, in the process that uses them
    (the API builds its `Deps` in each gunicorn worker, after the fork), and kept."""

    settings: Settings
    mongo: DatabaseSource
    clock: Clock
    tenants: TtlCache[str, TenantSettings]
    renderer: TemplateRenderer
    links: UnsubscribeLinks

    @cached_property
    def db(self) -> Database:
        return self.mongo.db

    @cached_property
    def deliveries(self) -> DeliveryStore:
        return DeliveryStore(self.db.deliveries)

    @cached_property
    def contacts(self) -> ContactDirectory:
        return ContactDirectory(self.db.contacts)

    @cached_property
    def tenant_configs(self) -> TenantConfigs:
        return TenantConfigs(self.db)

    @cached_property
    def overrides(self) -> TemplateOverrides:
        return TemplateOverrides(self.db.template_overrides)


def build_deps(
    settings: Settings,
    mongo: DatabaseSource,
    *,
    clock: Clock = utc_now,
    cache_ttl_s: float = CACHE_TTL_S,
) -> Deps:
    """The process's parts; nothing connects until first used."""

    def tenant_settings(tenant_id: str) -> TenantSettings:
        return TenantConfigs(mongo.db).settings(tenant_id)

    def override_sources(tenant_id: str) -> dict[tuple[str, str, str], str]:
        return TemplateOverrides(mongo.db.template_overrides).sources(tenant_id)

    overrides = TenantOverrides(TtlCache(override_sources, cache_ttl_s).get)
    own = settings.own
    return Deps(
        settings=settings,
        mongo=mongo,
        clock=clock,
        tenants=TtlCache(tenant_settings, cache_ttl_s),
        renderer=TemplateRenderer(overrides),
        links=UnsubscribeLinks(own.unsubscribe_secret, own.notifications_public_url),
    )


def components(
    settings: Settings,
    mongo: Mongo,
    *,
    tuning: SenderTuning = SenderTuning(),
    clock: Clock = utc_now,
) -> list[Component]:
    """The worker: consumer, relay and sender loops, sharing one `Deps`.

    New deliveries wake the senders; recorded outcomes wake the relay (bound below). Those due at
    once are claimed as they are planned and handed to the senders in memory.
    """
    create_indexes(mongo.db)
    deps = build_deps(settings, mongo, clock=clock)
    handoff = Handoff(tuning.lease_s, tuning.handoff, clock) if tuning.handoff else None
    loops = sender_loops(deps, tuning, handoff, on_outbox=lambda: relay.wake())
    new_deliveries = NewDeliveries(
        deps.deliveries, handoff, clock,
        wake_store=lambda: wake_all(loops), wake_handoff=lambda: nudge_all(loops),
    )  # fmt: skip
    parts = event_components(
        settings,
        mongo,
        outbox_collections=["deliveries"],
        subscriptions=consumers.subscriptions(settings, deps, new_deliveries.save),
    )
    relay = cast(OutboxRelay, parts[0])  # event_components lists the relay first
    return [*parts, *loops]


def sender_loops(
    deps: Deps,
    tuning: SenderTuning,
    handoff: Handoff | None = None,
    on_outbox: Callable[[], None] = lambda: None,
) -> list[SenderLoop]:
    """`tuning.threads` loops, each with its own channel connections."""
    poll = tuning.idle_poll_s or deps.settings.scheduler_poll_interval_s
    loops = []
    for index in range(tuning.threads):
        channels = Channels.from_settings(deps.settings, tuning.channel_timeout_s)
        deliver = partial(sending.deliver, deps, channels, on_outbox=on_outbox)
        loops.append(
            SenderLoop(
                f"sender-{index + 1}",
                deliver,
                deps.deliveries,
                tuning.lease_s,
                poll,
                deps.clock,
                handoff,
            )  # fmt: skip
        )
    return loops


def wake_all(loops: list[SenderLoop]) -> None:
    for loop in loops:
        loop.wake()


def nudge_all(loops: list[SenderLoop]) -> None:
    for loop in loops:
        loop.nudge()
