"""Wires the event machinery into a service's worker: topology, outbox relay, consumers."""

from __future__ import annotations

from collections.abc import Sequence

from shared.config import Settings
from shared.events import catalog, topology
from shared.events.consumer import EventConsumer, Subscription
from shared.events.outbox import OUTBOX_INDEX
from shared.events.publisher import ConfirmedPublisher
from shared.events.relay import OutboxRelay
from shared.mongo import Mongo
from shared.worker import Component


def event_components(
    settings: Settings,
    mongo: Mongo,
    *,
    outbox_collections: Sequence[str] = (),
    subscriptions: Sequence[Subscription] = (),
    publishes_to: Sequence[str] = (),
) -> list[Component]:
    """The relay for the service's outbox collections and one consumer for its subscriptions.

    Declares (and so checks) the topology first: a missing or conflicting piece stops start-up.
    The sink of the service's events that nobody consumes is declared here, before its relay
    publishes any.
    """
    exchanges = [topology.events_exchange(settings.service), *publishes_to]
    from shared.broker import connection

    with connection(settings) as conn:
        conn.connect()
        topology.declare(
            conn,
            publishes_to=exchanges,
            queues=[s.spec for s in subscriptions],
            unheard=catalog.unheard_bindings(settings.service),
            retired_queues=topology.RETIRED_QUEUES.get(settings.service, ()),
        )
    collections = [mongo.db[name] for name in outbox_collections]
    for collection in collections:
        collection.create_indexes([OUTBOX_INDEX])
    relay = OutboxRelay(
        collections, lambda: ConfirmedPublisher(settings), settings.outbox_poll_interval_s
    )
    components: list[Component] = [relay]
    if subscriptions:
        components.append(EventConsumer(settings, subscriptions, on_handled=relay.wake))
    return components
