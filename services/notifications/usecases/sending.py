"""Sends due deliveries: claim one, find the recipient, render, send, record the outcome.

Each `SenderLoop` (a worker component; a worker runs `SenderTuning.threads` of them) claims the
most overdue delivery atomically (`DeliveryStore.claim`), so two loops or two workers never
hold the same one. A worker killed mid-send loses nothing: its lease runs out and another loop
takes the delivery again, with the same idempotency key (see `channels.outbound`). The only
possible repeat is an email whose SMTP server said 250 just before the worker died, before
the outcome was recorded; it goes out once more with the same Message-ID.

Outcomes: sent, failed (permanent failure, or retries exhausted: staff are told in their
inbox's next digest, `domain/failure_digest`, and `notification.failed` is emitted), retried
later (temporary failure: `send_at` moves on by the tenant's backoff), or suppressed (the
patient's consent or opt-out changed since planning).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from shared.config import Settings
from shared.events import new_event, outbox

from .. import metrics
from ..channels.errors import PermanentFailure, TemporaryFailure
from ..channels.outbound import Channels, Envelope
from ..domain.contacts import patient_address, prefs_of
from ..domain.deliveries import (
    FAILED,
    FAILURE_REPORT,
    NOTIFICATIONS_SOURCE,
    REMINDER,
    WAITING,
    failure_notice,
    failure_report,
    notification_of,
    outcome_data,
)
from ..domain.failure_digest import DIGEST_PERIOD, digest_data, period_end
from ..domain.phi_guard import PhiLeak
from ..domain.quiet_hours import as_utc
from ..domain.templates import TemplateError, TemplateRenderer, render_notification
from ..domain.unsubscribe_links import UnsubscribeLinks
from ..repository.contacts import ContactDirectory
from ..repository.deliveries import (
    DeliveryStore,
    cancelled_update,
    failed_update,
    retry_update,
    sent_update,
    suppressed_update,
)
from ..repository.tenant_configs import CachedTenantSettings
from ..repository.tenant_settings import TenantSettings
from ..senders.handoff import Handoff

log = logging.getLogger("notifications.sender")
TOO_LATE = "too_late"
NOTHING_TO_REPORT = "nothing_to_report"
OPEN_REPORT_TRIES = 3
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SenderTuning:
    """Operational knobs of the sender (not tenant settings)."""

    lease_s: float = 120.0  # well above the channel timeout: a live sender never loses its lease
    threads: int = 2
    channel_timeout_s: float = 10.0
    idle_poll_s: float | None = None  # None: the SCHEDULER_POLL_INTERVAL_S setting
    handoff: int = 16  # deliveries claimed as planned, waiting in memory (0: claim them all later)


class Suppressed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Dispatcher:
    """Delivers one claimed delivery and records what happened, in one write per outcome."""

    def __init__(
        self,
        db: Database,
        channels: Channels,
        renderer: TemplateRenderer,
        tenants: CachedTenantSettings,
        links: UnsubscribeLinks,
        clock: Clock = utc_now,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.contacts = DeliveryStore(db.deliveries), ContactDirectory(db.contacts)
        self.channels, self.renderer, self.tenants, self.links = channels, renderer, tenants, links
        self.clock, self.on_outbox = clock, on_outbox

    def deliver(self, delivery: dict[str, Any]) -> str:
        """Send a claimed delivery; returns the status it ended in (queued: retried later)."""
        tenant = self.tenants.get(delivery["tenant_id"])
        if delivery["kind"] == FAILURE_REPORT:  # it lists the inbox's waiting notices
            delivery = {**delivery, "notices": self.store.gather_notices(delivery)}
            if not delivery["notices"]:  # they went with another report
                return self._finish(delivery, cancelled_update(self.clock(), NOTHING_TO_REPORT))
        if delivery["attempts"] > tenant.retry.max_attempts:  # it kept dying mid-send
            return self._fail(delivery, tenant, "interrupted on every attempt", None)
        if too_late(delivery, self.clock()):  # e.g. the worker was down past the session
            return self._finish(delivery, cancelled_update(self.clock(), TOO_LATE))
        try:
            answer = self.channels.send(self._envelope(delivery, tenant))
        except Suppressed as suppressed:
            return self._finish(delivery, suppressed_update(self.clock(), suppressed.reason))
        except TemporaryFailure as failure:
            return self._retry_or_fail(delivery, tenant, failure)
        except PermanentFailure as failure:
            return self._fail(delivery, tenant, failure.reason, _answer(failure))
        except (TemplateError, PhiLeak) as error:
            return self._fail(delivery, tenant, f"{type(error).__name__}: {error}", None)
        sent = self._outcome("notification.sent", delivery)
        return self._finish(delivery, sent_update(self.clock(), answer), [sent])

    def _envelope(self, delivery: Mapping[str, Any], tenant: TenantSettings) -> Envelope:
        """The rendered message and where it goes; raises `Suppressed` or `PermanentFailure`."""
        channel, address = delivery["channel"], delivery.get("address")
        extras: dict[str, Any] = {}
        if delivery["audience"] == "patient":
            address, extras = self._patient(delivery)
        if not address:
            raise PermanentFailure("no address is configured for this recipient")
        notices = delivery.get("notices")
        data = digest_data(notices) if notices else delivery.get("data") or {}
        message = render_notification(
            self.renderer, notification_of(delivery), data,
            tenant_id=delivery["tenant_id"], clinic_name=tenant.clinic_name, **extras,
        )  # fmt: skip
        partner = delivery["recipient_key"].removeprefix("partner:")
        return Envelope(
            channel, address, message, delivery["_id"],
            unsubscribe_url=extras.get("unsubscribe_url") if channel == "email" else None,
            webhook_secret=tenant.webhook_secrets.get(partner),
        )  # fmt: skip

    def _patient(self, delivery: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The patient's address on the channel, if they still allow it, and their greeting."""
        tenant_id, channel = delivery["tenant_id"], delivery["channel"]
        patient_id = delivery["recipient_key"].removeprefix("patient:")
        contact = self.contacts.get(tenant_id, patient_id)
        if contact is None or not prefs_of(contact).allows(channel):
            raise Suppressed("consent")  # an unknown patient has given no consent either
        if not (address := patient_address(contact, channel)):
            raise PermanentFailure(f"no {channel} address on file for this patient")
        unsubscribe_url = self.links.url(tenant_id, patient_id, "email")
        return address, {
            "recipient_name": contact.get("given_name"),
            "unsubscribe_url": unsubscribe_url,
        }

    def _retry_or_fail(
        self, delivery: dict[str, Any], tenant: TenantSettings, failure: TemporaryFailure
    ) -> str:
        attempts = delivery["attempts"]
        if tenant.retry.gives_up_after(attempts):
            return self._fail(delivery, tenant, f"gave up after {attempts} attempts: {failure}")
        now = self.clock()
        at = now + timedelta(seconds=tenant.retry.delay(attempts, failure.retry_after))
        if self.store.finish(delivery, retry_update(now, at, failure.reason)):
            metrics.RETRIES.labels(channel=delivery["channel"]).inc()
        else:
            metrics.LEASES_LOST.inc()
        return delivery["status"]

    def _fail(
        self,
        delivery: dict[str, Any],
        tenant: TenantSettings,
        reason: str,
        answer: str | None = None,
    ) -> str:
        """Failed for good: staff are told in their inbox's next report (`failure_digest`); the
        notice and its open report are written first, so a crash cannot lose them."""
        now = self.clock()
        if (notice := failure_notice(delivery, reason, tenant.rules, now)) is not None:
            self.store.insert_planned([notice])
            if notice["status"] == WAITING:
                self._open_report(notice, now)
        failed = self._outcome("notification.failed", delivery, reason)
        status = self._finish(delivery, failed_update(now, reason, answer), [failed])
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
        self,
        delivery: dict[str, Any],
        update: dict[str, Any],
        events: list[outbox.Outgoing] | None = None,
    ) -> str:
        status = update["$set"]["status"]
        if delivery.get("notices"):  # a report's outcome is its notices' (written first)
            self.store.finish_notices(delivery, status, self.clock())
        if not self.store.finish(delivery, update, events or []):
            metrics.LEASES_LOST.inc()
            log.warning(
                "lease lost before the outcome was recorded", extra={"delivery_id": delivery["_id"]}
            )
            return delivery["status"]
        metrics.FINISHED.labels(channel=delivery["channel"], status=status).inc()
        if events:
            self.on_outbox()
        return status

    def _open_report(self, notice: dict[str, Any], now: datetime) -> None:
        """Open a report for the (already written) notice's inbox: one still unclaimed will take
        the notice when it is sent; one claimed may have taken the inbox's notices before this
        one was written, so then the next period's report is opened."""
        ends_at = period_end(now)
        for _ in range(OPEN_REPORT_TRIES):
            if self.store.open_report(failure_report(notice, ends_at, now)):
                return
            ends_at += DIGEST_PERIOD
        raise RuntimeError("no open failure report for a staff inbox")  # retried with the lease

    def _outcome(self, type_: str, delivery: Mapping[str, Any], reason: str | None = None):
        event = new_event(
            type_,
            source=NOTIFICATIONS_SOURCE,
            tenant_id=delivery["tenant_id"],
            data=outcome_data(delivery, reason),
            subject=delivery["_id"],
            correlation_id=delivery.get("correlation_id"),
        )
        return outbox.to_exchange_of("notifications", event)


def too_late(delivery: Mapping[str, Any], now: datetime) -> bool:
    """A reminder whose session has begun is pointless (and confusing): it is not sent."""
    starts_at = (delivery.get("data") or {}).get("starts_at")
    if delivery.get("kind") != REMINDER or not starts_at:
        return False
    return as_utc(starts_at) <= now


def _answer(failure: PermanentFailure) -> str | None:
    if failure.status is None:
        return None
    return f"{failure.status} {failure.body or ''}".strip()


class SenderLoop:
    """A worker component: delivers what the handoff holds, else claims from the store.

    It asks the store only when it may have something: at start, when woken (new deliveries
    not handed over), after a delivery it found there, and every `idle_poll_s` (retries and
    reminders fall due by time). A `nudge` says the handoff has something: no store query.
    """

    def __init__(
        self,
        name: str,
        dispatcher: Dispatcher,
        lease_s: float,
        idle_poll_s: float,
        clock: Clock = utc_now,
        handoff: Handoff | None = None,
    ) -> None:
        self.name, self.dispatcher, self.lease_s, self.idle_poll_s = (
            name,
            dispatcher,
            lease_s,
            idle_poll_s,
        )
        self.clock, self.handoff = clock, handoff
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}"
        self._wake = threading.Event()
        self._store_due = True
        self._store_checked = 0.0

    def wake(self) -> None:
        """New deliveries wait in the store."""
        self._store_due = True
        self._wake.set()

    def nudge(self) -> None:
        """New deliveries wait in the handoff."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                look = self._store_due or time.monotonic() - self._store_checked >= self.idle_poll_s
                if not self.run_once(from_store=look):
                    self._wake.wait(self.idle_poll_s)
                    self._wake.clear()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        """Deliveries handed over but not sent go back to the store (else: their lease runs out)."""
        if self.handoff is None:
            return
        try:
            self.handoff.release(self.dispatcher.store)
        except Exception:  # the store is away: they are claimed again when their lease runs out
            log.warning("could not give back handed deliveries", exc_info=True)

    def run_once(self, from_store: bool = True) -> bool:
        """Deliver one delivery (handed over, or due in the store); False when there was none."""
        try:
            delivery = self.handoff.take() if self.handoff is not None else None
            if delivery is None and from_store:
                self._store_due, self._store_checked = False, time.monotonic()
                delivery = self.dispatcher.store.claim(self.clock(), self.worker_id, self.lease_s)
                self._store_due |= delivery is not None
            if delivery is None:
                return False
            self.dispatcher.deliver(delivery)
        except Exception:  # a store outage or a bug: the lease runs out and it is tried again
            metrics.SENDER_ERRORS.inc()
            log.exception("sender error")
            return False
        return True


def sender_loops(
    settings: Settings,
    db: Database,
    tenants: CachedTenantSettings,
    renderer: TemplateRenderer,
    tuning: SenderTuning,
    clock: Clock = utc_now,
    on_outbox: Callable[[], None] = lambda: None,
    handoff: Handoff | None = None,
) -> list[SenderLoop]:
    """`tuning.threads` loops, each with its own channel connections."""
    links = UnsubscribeLinks(settings.own.unsubscribe_secret, settings.own.notifications_public_url)
    poll = tuning.idle_poll_s or settings.scheduler_poll_interval_s
    loops: list[SenderLoop] = []
    for index in range(tuning.threads):
        channels = Channels.from_settings(settings, tuning.channel_timeout_s)
        dispatcher = Dispatcher(db, channels, renderer, tenants, links, clock, on_outbox)
        loops.append(
            SenderLoop(f"sender-{index + 1}", dispatcher, tuning.lease_s, poll, clock, handoff)
        )
    return loops
