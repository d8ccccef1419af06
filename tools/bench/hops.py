"""Which hops do work: an event a consumer handles with an effect, against one it only acks.

Notifications binds every documented event type so that none is ever unroutable
(services/notifications/consumers.py); the types it neither plans deliveries for nor keeps a
replica of are acknowledged and nothing else (`ack_only`). The fair CPU ratio divides by the
hops that do work; the ack-only ones are counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.notifications.consumers import planned_event_types
from shared.replicas import replica_handlers

ACK_ONLY_QUEUES = frozenset({"notifications.outcomes"})
"""Queues whose every type is only acknowledged."""
DOING_QUEUE = "notifications.inbox"


def handled_in_notifications_inbox() -> frozenset[str]:
    """The types notifications' inbox does something with (deliveries, contacts, replicas)."""
    replicas = replica_handlers(None, None, None)  # type: ignore[arg-type]  # the names only
    return planned_event_types() | frozenset(replicas)


def ack_only(queue: str, event_type: str) -> bool:
    if queue in ACK_ONLY_QUEUES:
        return True
    return queue == DOING_QUEUE and event_type not in handled_in_notifications_inbox()


def split_hops(handled: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """{(queue, type): events handled or skipped as duplicates} -> working and ack-only hops."""
    working = sum(n for (q, t), n in handled.items() if not ack_only(q, t))
    acked = sum(n for (q, t), n in handled.items() if ack_only(q, t))
    return {"working": working, "ack_only": acked}


def ack_only_types(handled: Mapping[tuple[str, str], float]) -> list[str]:
    """`queue type` of each ack-only pair seen, for the report."""
    return sorted(f"{q} {t}" for (q, t), n in handled.items() if n and ack_only(q, t))
