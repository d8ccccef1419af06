"""Sending one claimed delivery: find the recipient, render, send, record the outcome.

A sender loop (`senders/loops.py`) hands `deliver` a delivery it holds the claim of; the outcome
is one update guarded by that claim, its event folded in (outbox). The only possible repeat is
an email whose SMTP server said 250 just before the worker died, before the outcome was
recorded; it goes out once more with the same Message-ID.

Outcomes: sent, failed (permanent failure, or retries exhausted: staff are told in their
inbox's next digest, `domain/failure_digest`, and `notification.failed` is emitted), retried
later (temporary failure: `send_at` moves on by the tenant's backoff), or suppressed (the
patient's consent or opt-out changed since planning).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.events import outbox
from shared.retry import retry_on_conflict

from .. import events, metrics
from ..channels.errors import PermanentFailure, TemporaryFailure
from ..channels.outbound import Channels, Envelope
from ..domain import quiet_hours
from ..domain.contacts import patient_address, prefs_of
from ..domain.deliveries import (
    FAILED,
    FAILURE_REPORT,
    TOO_LATE,
    WAITING,
    notification_of,
    too_late,
)
from ..domain.delivery_plan import failure_notice, failure_report
from ..domain.failure_digest import DIGEST_PERIOD, digest_data, period_end
from ..domain.phi_guard import PhiLeak
from ..domain.progress_charts import Attachment, charts_for
from ..domain.referrer_letters import clinic_name_of, letter_context
from ..domain.rules import local_timezone
from ..domain.templates import TemplateError, render_notification
from ..repository.deliveries import (
    cancelled_update,
    failed_update,
    retry_update,
    sent_update,
    suppressed_update,
)
from ..repository.tenant_configs import TenantSettings

if TYPE_CHECKING:
    from ..bootstrap import Deps

log = logging.getLogger("notifications.sender")
NOTHING_TO_REPORT = "nothing_to_report"
OnOutbox = Callable[[], None]


class Suppressed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def deliver(
    deps: Deps, channels: Channels, delivery: dict[str, Any], *, on_outbox: OnOutbox = lambda: None
) -> str:
    """Send a claimed delivery and record what happened, in one write per outcome; returns the
    status it ended in (queued: retried later). `on_outbox`: an outcome event was saved."""
    tenant = deps.tenants.get(delivery["tenant_id"])
    if delivery["kind"] == FAILURE_REPORT:  # it lists the inbox's waiting notices
        delivery = {**delivery, "notices": deps.deliveries.gather_notices(delivery)}
        if not delivery["notices"]:  # they went with another report
            return _finish(deps, delivery, cancelled_update(deps.clock(), NOTHING_TO_REPORT))
    if delivery["attempts"] > tenant.retry.max_attempts:  # it kept dying mid-send
        return _fail(deps, delivery, tenant, "interrupted on every attempt", None, on_outbox)
    if too_late(delivery, deps.clock()):  # e.g. the worker was down past the session
        return _finish(deps, delivery, cancelled_update(deps.clock(), TOO_LATE))
    try:
        answer = channels.send(_envelope(deps, delivery, tenant))
    except Suppressed as suppressed:
        return _finish(deps, delivery, suppressed_update(deps.clock(), suppressed.reason))
    except TemporaryFailure as failure:
        return _retry_or_fail(deps, delivery, tenant, failure, on_outbox)
    except PermanentFailure as failure:
        return _fail(deps, delivery, tenant, failure.reason, _answer(failure), on_outbox)
    except (TemplateError, PhiLeak) as error:
        reason = f"{type(error).__name__}: {error}"
        return _fail(deps, delivery, tenant, reason, None, on_outbox)
    sent = events.notification_sent(delivery)
    return _finish(deps, delivery, sent_update(deps.clock(), answer), [sent], on_outbox)


def _envelope(deps: Deps, delivery: Mapping[str, Any], tenant: TenantSettings) -> Envelope:
    """The rendered message and where it goes; raises `Suppressed` or `PermanentFailure`."""
    channel, address = delivery["channel"], delivery.get("address")
    notices = delivery.get("notices")
    data = digest_data(notices) if notices else delivery.get("data") or {}
    extras: dict[str, Any] = {}
    contact = None
    if delivery["audience"] == "patient":
        address, extras, contact = _patient(deps, delivery)
    elif delivery["audience"] == "referrer":
        contact = _contact_of(deps, delivery["tenant_id"], data)
        extras = letter_context(data, contact)
    if not address:
        raise PermanentFailure("no address is configured for this recipient")
    clinic_name = clinic_name_of(tenant.clinic_name, data, contact, delivery["tenant_id"])
    notification = notification_of(delivery)
    charts: tuple[Attachment, ...] = ()
    if channel == "email":  # a referrer's progress report: its outcome charts, attached
        zone = quiet_hours.zone(local_timezone(data, tenant.rules))
        charts = charts_for(notification.event_type, delivery["audience"], data, zone)
    if charts:
        extras["attached"] = [chart.filename for chart in charts]
    message = render_notification(
        deps.renderer, notification, data,
        tenant_id=delivery["tenant_id"], clinic_name=clinic_name, **extras,
    )  # fmt: skip
    message = replace(message, attachments=charts)
    partner = delivery["recipient_key"].removeprefix("partner:")
    return Envelope(
        channel, address, message, delivery["_id"],
        unsubscribe_url=extras.get("unsubscribe_url") if channel == "email" else None,
        webhook_secret=tenant.webhook_secrets.get(partner),
    )  # fmt: skip


def _contact_of(deps: Deps, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The directory's entry of the patient the event is about (a letter's patient and clinic)."""
    patient_id = data.get("patient_id")
    return deps.contacts.get(tenant_id, patient_id) if isinstance(patient_id, str) else None


def _patient(deps: Deps, delivery: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The patient's address on the channel, if they still allow it, their greeting, and their
    directory entry."""
    tenant_id, channel = delivery["tenant_id"], delivery["channel"]
    patient_id = delivery["recipient_key"].removeprefix("patient:")
    contact = deps.contacts.get(tenant_id, patient_id)
    if contact is None or not prefs_of(contact).allows(channel):
        raise Suppressed("consent")  # an unknown patient has given no consent either
    if not (address := patient_address(contact, channel)):
        raise PermanentFailure(f"no {channel} address on file for this patient")
    unsubscribe_url = deps.links.url(tenant_id, patient_id, "email")
    greeting = {"recipient_name": contact.get("given_name"), "unsubscribe_url": unsubscribe_url}
    return address, greeting, contact


def _retry_or_fail(
    deps: Deps,
    delivery: dict[str, Any],
    tenant: TenantSettings,
    failure: TemporaryFailure,
    on_outbox: OnOutbox,
) -> str:
    attempts = delivery["attempts"]
    if tenant.retry.gives_up_after(attempts):
        reason = f"gave up after {attempts} attempts: {failure}"
        return _fail(deps, delivery, tenant, reason, None, on_outbox)
    now = deps.clock()
    at = now + timedelta(seconds=tenant.retry.delay(attempts, failure.retry_after))
    if deps.deliveries.finish(delivery, retry_update(now, at, failure.reason)):
        metrics.RETRIES.labels(channel=delivery["channel"]).inc()
    else:
        metrics.LEASES_LOST.inc()
    return delivery["status"]


def _fail(
    deps: Deps,
    delivery: dict[str, Any],
    tenant: TenantSettings,
    reason: str,
    answer: str | None,
    on_outbox: OnOutbox,
) -> str:
    """Failed for good: staff are told in their inbox's next report (`failure_digest`); the
    notice and its open report are written first, so a crash cannot lose them."""
    now = deps.clock()
    if (notice := failure_notice(delivery, reason, tenant.rules, now)) is not None:
        deps.deliveries.insert_planned([notice])
        if notice["status"] == WAITING:
            _open_report(deps, notice, now)
    failed = events.notification_failed(delivery, reason)
    status = _finish(deps, delivery, failed_update(now, reason, answer), [failed], on_outbox)
    if status == FAILED:
        metrics.FAILED_FOR_GOOD.labels(channel=delivery["channel"]).inc()
        log.warning(
            "delivery failed",
            extra={
                "delivery_id": delivery["_id"],
                "channel": delivery["channel"],
                "reason": reason,
            },
        )
    return status


def _finish(
    deps: Deps,
    delivery: dict[str, Any],
    update: dict[str, Any],
    outgoing: list[outbox.Outgoing] | None = None,
    on_outbox: OnOutbox = lambda: None,
) -> str:
    status = update["$set"]["status"]
    if delivery.get("notices"):  # a report's outcome is its notices' (written first)
        deps.deliveries.finish_notices(delivery, status, deps.clock())
    if not deps.deliveries.finish(delivery, update, outgoing or []):
        metrics.LEASES_LOST.inc()
        log.warning(
            "lease lost before the outcome was recorded", extra={"delivery_id": delivery["_id"]}
        )
        return delivery["status"]
    metrics.FINISHED.labels(channel=delivery["channel"], status=status).inc()
    if outgoing:
        on_outbox()
    return status


def _open_report(deps: Deps, notice: dict[str, Any], now: datetime) -> None:
    """Open a report for the (already written) notice's inbox: one still unclaimed will take
    the notice when it is sent; one claimed may have taken the inbox's notices before this
    one was written, so then the next period's report is opened (a few periods at most, else
    `ConcurrentChange`: the delivery is tried again when its lease runs out)."""
    periods = itertools.count()

    def attempt() -> bool | None:
        ends_at = period_end(now) + next(periods) * DIGEST_PERIOD
        return True if deps.deliveries.open_report(failure_report(notice, ends_at, now)) else None

    retry_on_conflict(attempt, what="the failure report of a staff inbox")


def _answer(failure: PermanentFailure) -> str | None:
    if failure.status is None:
        return None
    return f"{failure.status} {failure.body or ''}".strip()
