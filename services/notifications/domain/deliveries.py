"""Deliveries: one document per (event, recipient, channel), built from planned notifications.

Pure: no I/O. The `_id` is `rules.delivery_key(...)`, so inserting an event's deliveries is
its deduplication (a duplicate key means "already planned"). A delivery keeps what sending it
needs (the event's data, rendered only at send time; no patient address, which is looked up
in the contact directory when it is sent) and drops the data once it is sent or failed.

Statuses: queued (due at `send_at`), deferred (waiting out quiet hours), sent, failed,
suppressed (`reason`: "consent", or "no_address" when nobody is configured to receive it),
cancelled (a reminder or message whose session moved or was cancelled) and waiting (a failure
notice waiting for its staff inbox's report; it then takes the report's status).

Kinds: message, reminder, failure_notice (one per failed delivery, never sent alone) and
failure_report (the digest of an inbox's notices, one per period: `failure_digest`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .reminders import plan_reminders
from .rules import (
    DELIVERY_FAILED,
    REMINDER_DUE,
    Notification,
    PatientPrefs,
    TenantConfig,
    delivery_key,
    local_timezone,
    plan_notifications,
    send_at,
)

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
ANY_CHANNEL = PatientPrefs(email_ok=True, sms_ok=True)
"""Reminders are stored whatever the consent; it is checked when they fire (a later opt-out wins)."""


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


def event_deliveries(
    tenant_id: str,
    origin: Origin,
    data: Mapping[str, Any],
    prefs: PatientPrefs,
    cfg: TenantConfig,
    now: datetime,
    *,
    session_time: datetime | None = None,
) -> list[dict[str, Any]]:
    """The deliveries an event calls for, each due now or when quiet hours end."""
    return [
        delivery_document(
            tenant_id,
            origin,
            data,
            n,
            now=now,
            due=send_at(n, now, cfg),
            session_time=session_time,
        )  # fmt: skip
        for n in plan_notifications(origin.type, data, prefs, cfg, now=now)
    ]


def reminder_deliveries(
    tenant_id: str, origin: Origin, data: Mapping[str, Any], cfg: TenantConfig, now: datetime
) -> list[dict[str, Any]]:
    """A (re)scheduled session's reminders, due at their (quiet-hour-fitted) times.

    Each reminder's id changes with the session's start, so a reschedule plans new deliveries
    and the old ones are cancelled (see `reminders`).
    """
    tz = local_timezone(data, cfg)
    planned = plan_reminders(
        data["session_id"], data["starts_at"], cfg.reminder_offsets, now,
        tz=tz, quiet=cfg.quiet_hours,
    )  # fmt: skip
    documents = []
    for reminder in planned:
        due_data = {**data, "offset_key": reminder.offset_key, "channel": reminder.channel}
        internal = Origin(
            NOTIFICATIONS_SOURCE, reminder.event_id, REMINDER_DUE, origin.time,
            origin.correlation_id,
        )  # fmt: skip
        for notification in plan_notifications(
            REMINDER_DUE, due_data, ANY_CHANNEL, cfg, now=reminder.due_at
        ):
            documents.append(
                delivery_document(
                    tenant_id,
                    internal,
                    due_data,
                    notification,
                    now=now,
                    due=reminder.due_at,
                    kind=REMINDER,
                    session_time=origin.time,
                )  # fmt: skip
            )
    return documents


def failure_notice(
    failed: Mapping[str, Any], reason: str, cfg: TenantConfig, now: datetime
) -> dict[str, Any] | None:
    """The notice telling staff that `failed` (a delivery document) failed for good, waiting
    for its inbox's report (suppressed if no inbox is configured); None for a failed report
    (never a loop). Its key is the failed delivery's: recorded twice, it is one notice."""
    data = {
        "recipient_key": failed["recipient_key"],
        "channel": failed["channel"],
        "template": failed["template"],
        "reason": reason,
        "attempts": failed.get("attempts"),
        "failed_event_type": failed["event"]["type"],
        "location_id": failed.get("location_id"),
    }
    origin = Origin(
        NOTIFICATIONS_SOURCE, f"{failed['_id']}:failed", DELIVERY_FAILED, now,
        failed.get("correlation_id"),
    )  # fmt: skip
    planned = plan_notifications(DELIVERY_FAILED, data, None, cfg, now=now)
    if not planned:
        return None
    notice = delivery_document(
        failed["tenant_id"], origin, data, planned[0], now=now, due=now, kind=FAILURE_NOTICE
    )
    if notice["status"] in PENDING:
        notice.update(status=WAITING, send_at=None)
    return notice


def failure_report(notice: Mapping[str, Any], ends_at: datetime, now: datetime) -> dict[str, Any]:
    """The report (digest) of `notice`'s staff inbox for the period that ends at `ends_at`,
    due then; one per inbox and period (its key says which)."""
    origin = Origin(NOTIFICATIONS_SOURCE, f"digest:{ends_at.isoformat()}", DELIVERY_FAILED, now)
    data = {"location_id": notice.get("location_id")}
    return delivery_document(
        notice["tenant_id"], origin, data, notification_of(notice), now=now, due=ends_at,
        kind=FAILURE_REPORT,
    )  # fmt: skip


def outcome_data(delivery: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]:
    """`notification.sent` / `notification.failed` data (docs/events.md): no personal data."""
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


def ids(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    return [document["_id"] for document in documents]
