"""Which hops do work: an event a consumer handles with an effect, against one it only acks.

Every queue is bound to exactly the types its consumer handles (shared/events/catalog.py); the
types no service consumes (`catalog.UNHEARD`) go to their publisher's `.unheard` sink, which no
consumer reads. A hop of such a type would be one a consumer only acknowledges (`ack_only`):
the report counts them apart (none since the bindings were narrowed, Dec 2026; before, the
notifications worker bound every type so that none was unroutable, and acknowledged 4 hops per
referral). The fair CPU ratio divides by the hops that do work.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.events import catalog


def ack_only(queue: str, event_type: str) -> bool:
    """A hop of a type no service consumes: its consumer could only acknowledge it."""
    return event_type in catalog.UNHEARD


def split_hops(handled: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """{(queue, type): events handled or skipped as duplicates} -> working and ack-only hops."""
    working = sum(n for (q, t), n in handled.items() if not ack_only(q, t))
    acked = sum(n for (q, t), n in handled.items() if ack_only(q, t))
    return {"working": working, "ack_only": acked}


def ack_only_types(handled: Mapping[tuple[str, str], float]) -> list[str]:
    """`queue type` of each ack-only pair seen, for the report."""
    return sorted(f"{q} {t}" for (q, t), n in handled.items() if n and ack_only(q, t))
