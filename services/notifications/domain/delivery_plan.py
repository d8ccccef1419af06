"""Which deliveries the service makes: the one decision, taken here, for an event and a failure.

`plan_deliveries` answers "what deliveries does this event make, for this patient's contact,
these clinic settings, at this time": who hears of it on which channel (`rules`), when each may
go out (now, or when the location's quiet hours end: `quiet_hours`), a (re)scheduled session's
reminders (`reminders`), each as a delivery document (`deliveries`). `failure_notice` and
`failure_report` decide the same way for a delivery that failed for good. The modules below
never call back up here: the route is downhill, and a change to "who hears what, when" starts
in this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .contacts import PatientPrefs, prefs_of
from .deliveries import (
    FAILURE_NOTICE,
    FAILURE_REPORT,
    NOTIFICATIONS_SOURCE,
    PENDING,
    REMINDER,
    WAITING,
    Origin,
    delivery_document,
    delivery_documents,
    notification_of,
)
from .quiet_hours import as_utc, next_allowed_send
from .reminders import plan_reminders
from .rules import DELIVERY_FAILED, REMINDER_DUE, Notification, local_timezone, plan_notifications
from .tenant_config import TenantConfig

SESSION_SCHEDULED, SESSION_RESCHEDULED, SESSION_CANCELLED = (
    "session.scheduled", "session.rescheduled", "session.cancelled",
)  # fmt: skip
SESSION_EVENTS = (SESSION_SCHEDULED, SESSION_RESCHEDULED, SESSION_CANCELLED)
"""Events about one session: their deliveries replace what older events planned for it."""
ANY_CHANNEL = PatientPrefs(email_ok=True, sms_ok=True)
"""Reminders are stored whatever the consent; it is checked when they fire (a later opt-out wins)."""


def plan_deliveries(
    tenant_id: str,
    origin: Origin,
    data: Mapping[str, Any],
    contact: Mapping[str, Any] | None,
    cfg: TenantConfig,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every delivery the event `origin` (with its `data`) makes, for the patient's stored
    `contact` (None: not known here), the clinic's settings `cfg`, at `now`.

    A session event's deliveries record the session and the event's time (the newest event
    about a session wins); a scheduled or rescheduled session also gets its reminders. Raises
    KeyError, TypeError or ValueError when `data` lacks what its type needs.
    """
    prefs = prefs_of(contact)
    if origin.type not in SESSION_EVENTS:
        return event_deliveries(tenant_id, origin, data, prefs, cfg, now)
    if not isinstance(data["session_id"], str):
        raise TypeError("session_id must be a string")
    planned = event_deliveries(tenant_id, origin, data, prefs, cfg, now, session_time=origin.time)
    if origin.type != SESSION_CANCELLED:
        planned += reminder_deliveries(tenant_id, origin, data, cfg, now)
    return planned


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
    """The messages an event calls for, each due now or when quiet hours end."""
    notifications = plan_notifications(origin.type, data, prefs, cfg, now=now)
    timed = [(n, send_at(n, now, cfg)) for n in notifications]
    return delivery_documents(tenant_id, origin, data, timed, now=now, session_time=session_time)


def reminder_deliveries(
    tenant_id: str, origin: Origin, data: Mapping[str, Any], cfg: TenantConfig, now: datetime
) -> list[dict[str, Any]]:
    """A (re)scheduled session's reminders, due at their (quiet-hour-fitted) times.

    Each reminder's id changes with the session's start, so a reschedule plans new deliveries
    and the old ones are cancelled (see `reminders`).
    """
    planned = plan_reminders(
        data["session_id"], data["starts_at"], cfg.reminder_offsets, now,
        tz=local_timezone(data, cfg), quiet=cfg.quiet_hours,
    )  # fmt: skip
    documents = []
    for reminder in planned:
        due_data = {**data, "offset_key": reminder.offset_key, "channel": reminder.channel}
        internal = Origin(
            NOTIFICATIONS_SOURCE, reminder.event_id, REMINDER_DUE, origin.time,
            origin.correlation_id,
        )  # fmt: skip
        notifications = plan_notifications(
            REMINDER_DUE, due_data, ANY_CHANNEL, cfg, now=reminder.due_at
        )
        documents += delivery_documents(
            tenant_id, internal, due_data, [(n, reminder.due_at) for n in notifications],
            now=now, kind=REMINDER, session_time=origin.time,
        )  # fmt: skip
    return documents


def send_at(
    notification: Notification, now: datetime, tenant_config: TenantConfig | Mapping | None = None
) -> datetime:
    """When `notification` may go out: now, or the end of quiet hours at its location."""
    if not notification.quiet_hours:
        return as_utc(now)
    cfg = (
        tenant_config
        if isinstance(tenant_config, TenantConfig)
        else TenantConfig.from_mapping(tenant_config)
    )
    return next_allowed_send(
        now, notification.timezone, cfg.quiet_hours, urgent=notification.urgent
    )


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
