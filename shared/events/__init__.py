"""Reliable events: the CloudEvents envelope, topology, transactional outbox and idempotent consumers.

What a service uses (it never touches kombu):

    from shared.events import new_event, outbox, subscribe, apply_once, insert_once, Reject

    event = new_event("referral.accepted", source="clinic/intake", tenant_id=t, data={...})
    collection.update_one(f, outbox.with_events({"$set": {...}}, [outbox.to_exchange_of("intake", event)]))

    subscribe(settings, "intake-events", [("intake.events", "intake.completed")],
              {"intake.completed": on_intake_completed})
"""

from shared.events import outbox
from shared.events.consumer import Reject, Subscription, subscribe
from shared.events.envelope import Event, InvalidEvent, new_event, parse_event
from shared.events.idempotency import Duplicate, apply_once, insert_once
from shared.events.worker import event_components

__all__ = [
    "Duplicate",
    "Event",
    "InvalidEvent",
    "Reject",
    "Subscription",
    "apply_once",
    "event_components",
    "insert_once",
    "new_event",
    "outbox",
    "parse_event",
    "subscribe",
]
