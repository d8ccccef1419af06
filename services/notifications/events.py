"""Every event the notifications service emits, built from a stored delivery (docs/events.md).

Each is saved with the delivery's outcome in one write (the transactional outbox) and
published by the relay. No personal data: a delivery is named by its id; the delivery log API
has the rest. Payload schemas: `shared/events/payloads/notifications.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events import new_event, outbox

from .domain.deliveries import NOTIFICATIONS_SOURCE

SENT, FAILED = "notification.sent", "notification.failed"


def notification_sent(delivery: Mapping[str, Any]) -> outbox.Outgoing:
    """The provider accepted the delivery."""
    return _outcome(SENT, delivery, outcome_data(delivery))


def notification_failed(delivery: Mapping[str, Any], reason: str) -> outbox.Outgoing:
    """The delivery failed for good (refused, or retries exhausted); staff are told."""
    return _outcome(FAILED, delivery, outcome_data(delivery, reason))


def outcome_data(delivery: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]:
    """`notification.sent` / `notification.failed` data: no personal data."""
    data = {
        "delivery_id": delivery["_id"],
        "event_type": delivery["event"]["type"],
        "audience": delivery["audience"],
        "channel": delivery["channel"],
        "template": delivery["template"],
        "attempts": delivery.get("attempts", 0),
    }
    if reason is not None:
        data["reason"] = reason
    return data


def _outcome(type_: str, delivery: Mapping[str, Any], data: dict[str, Any]) -> outbox.Outgoing:
    event = new_event(
        type_,
        source=NOTIFICATIONS_SOURCE,
        tenant_id=delivery["tenant_id"],
        data=data,
        subject=delivery["_id"],
        correlation_id=delivery.get("correlation_id"),
    )
    return outbox.to_exchange_of("notifications", event)
