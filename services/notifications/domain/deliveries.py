"""Deliveries: one document per (event, recipient, channel), and what a stored one stands for.

Pure: no I/O. The `_id` is `delivery_key(...)`, so inserting an event's deliveries is its
deduplication (a duplicate key means "already planned"). A delivery keeps what sending it needs
(the event's data, rendered only at send time; no patient address, which is looked up in the
contact directory when it is sent) and drops the data once it is sent or failed. Which
deliveries an event makes is `delivery_plan`'s decision; this module is their shape.

Statuses: queued (due at `send_at`), deferred (waiting out quiet hours), sent, failed,
suppressed (`reason`: "consent", or "no_address" when nobody is configured to receive it),
cancelled (a reminder or message whose session moved or was cancelled) and waiting (a failure
notice waiting for its staff inbox's report; it then takes the report's status).

Kinds: message, reminder, failure_notice (one per failed delivery, never sent alone) and
failure_report (the digest of an inbox's notices, one per period: `failure_digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .quiet_hours import as_utc
from .rules import Notification

QUEUED, DEFERRED, SENT, FAILED, SUPPRESSED, CANCELLED, WAITING = (
    "queued", "deferred", "sent", "failed", "suppressed", "cancelled", "waiting",
)  # fmt: skip
STATUSES = (QUEUED, DEFERRED, SENT, FAILED, SUPPRESSED, CANCELLED, WAITING)
PENDING = (QUEUED, DEFERRED)
MESSAGE, REMINDER, FAILURE_NOTICE, FAILURE_REPORT = (
    "message", "reminder", "failure_notice", "failure_report",
)  # fmt: skip
KINDS = (MESSAGE, REMINDER, FAILURE_NOTICE, FAILURE_REPORT)
NOTIFICATIONS_SOURCE = "clinic/notifications"
NO_ADDRESS = "no_address"
TOO_LATE = "too_late"
"""Why a reminder found due only after its session began is cancelled."""


@dataclass(frozen=True)
class Origin:
    """The event a delivery answers; reminders and failure reports have internal ones."""

    source: str
    id: str
    type: str
    time: datetime
    correlation_id: str | None = None

    def as_document(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.id, "type": self.type, "time": self.time}


def delivery_key(event_source: str, event_id: str, recipient_key: str, channel: str) -> str:
    """The idempotency key of one delivery: hex, no PHI (recipient keys hold emails)."""
    material = "\x1f".join((event_source, event_id, recipient_key, channel)).encode()
    return hashlib.sha256(material).hexdigest()


def delivery_document(
    tenant_id: str,
    origin: Origin,
    data: Mapping[str, Any],
    notification: Notification,
    *,
    now: datetime,
    due: datetime,
    kind: str = MESSAGE,
    session_time: datetime | None = None,
) -> dict[str, Any]:
    """A new delivery. Patient addresses are left out: they are resolved when it is sent."""
    patient = notification.audience == "patient"
    address = None if patient else notification.address
    if notification.suppressed:
        status, reason = SUPPRESSED, notification.suppressed
    elif not patient and not address:
        status, reason = SUPPRESSED, NO_ADDRESS
    else:
        status, reason = (DEFERRED if kind == MESSAGE and due > now else QUEUED), None
    pending = status in PENDING
    return {
        "_id": delivery_key(
            origin.source, origin.id, notification.recipient_key, notification.channel
        ),
        "tenant_id": tenant_id,
        "kind": kind,
        "event": origin.as_document(),
        "correlation_id": origin.correlation_id,
        "audience": notification.audience,
        "recipient_key": notification.recipient_key,
        "channel": notification.channel,
        "template": notification.template,
        "language": notification.language,
        "urgent": notification.urgent,
        "address": address,
        "location_id": data.get("location_id"),
        "session_id": data.get("session_id") if session_time else None,
        "session_time": session_time,
        "data": dict(data) if pending else None,
        "status": status,
        "reason": reason,
        "attempts": 0,
        "send_at": due if pending else None,
        "created_at": now,
        "updated_at": now,
    }


def delivery_documents(
    tenant_id: str,
    origin: Origin,
    data: Mapping[str, Any],
    timed: Iterable[tuple[Notification, datetime]],
    *,
    now: datetime,
    kind: str = MESSAGE,
    session_time: datetime | None = None,
) -> list[dict[str, Any]]:
    """`delivery_document` for each (notification, when it is due) of one origin."""
    return [
        delivery_document(
            tenant_id,
            origin,
            data,
            notification,
            now=now,
            due=due,
            kind=kind,
            session_time=session_time,
        )  # fmt: skip
        for notification, due in timed
    ]


def notification_of(delivery: Mapping[str, Any]) -> Notification:
    """The `rules.Notification` a stored delivery stands for (for rendering)."""
    return Notification(
        event_type=delivery["event"]["type"],
        audience=delivery["audience"],
        recipient_key=delivery["recipient_key"],
        channel=delivery["channel"],
        template=delivery["template"],
        urgent=bool(delivery.get("urgent")),
        address=delivery.get("address"),
        language=delivery.get("language") or "en",
    )


def due_ids(deliveries: Iterable[Mapping[str, Any]], now: datetime) -> set[str]:
    """The ids of the pending deliveries whose time has come."""
    return {
        d["_id"]
        for d in deliveries
        if d.get("status") in PENDING and d.get("send_at") is not None and d["send_at"] <= now
    }


def too_late(delivery: Mapping[str, Any], now: datetime) -> bool:
    """A reminder whose session has begun is pointless (and confusing): it is not sent."""
    starts_at = (delivery.get("data") or {}).get("starts_at")
    if delivery.get("kind") != REMINDER or not starts_at:
        return False
    return as_utc(starts_at) <= now


def ids(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    return [document["_id"] for document in documents]
