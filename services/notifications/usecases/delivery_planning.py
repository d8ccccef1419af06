"""Turns intake's and planning's events into deliveries (and keeps the contact directory).

One handler for every event type the rules name, plus the contact events. Per event: at most
one contact upsert, then the event's deliveries in one `insert_many` (their keys are the
deduplication). Session events also move their session's pending reminders: a reschedule or
cancellation first cancels what older events planned for the session, then inserts its own.
A session event older than one already applied is skipped (redelivered or overtaken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pymongo.database import Database

from shared.events import Event, Reject

from .. import metrics
from ..domain.contacts import CONTACT_FIELD_OF_EVENT, contact_update, prefs_of
from ..domain.deliveries import Origin, event_deliveries, ids, reminder_deliveries
from ..domain.rules import PatientPrefs, TenantConfig, load_rules
from ..repository.contacts import ContactDirectory
from ..repository.deliveries import DeliveryStore, due_now
from ..repository.tenant_configs import CachedTenantSettings
from ..senders.handoff import Handoff

log = logging.getLogger("notifications.planner")
Clock = Callable[[], datetime]

SESSION_SCHEDULED, SESSION_RESCHEDULED, SESSION_CANCELLED = (
    "session.scheduled", "session.rescheduled", "session.cancelled",
)  # fmt: skip
SESSION_EVENTS = (SESSION_SCHEDULED, SESSION_RESCHEDULED, SESSION_CANCELLED)
INTERNAL_EVENTS = ("session.reminder_due", "notification.delivery_failed")


def planned_event_types() -> tuple[str, ...]:
    """Every external event type a rule or the contact directory needs."""
    ruled = {rule.event for rule in load_rules()} - set(INTERNAL_EVENTS)
    return tuple(sorted(ruled | set(CONTACT_FIELD_OF_EVENT) | set(SESSION_EVENTS)))


def patient_event_types() -> frozenset[str]:
    return frozenset(rule.event for rule in load_rules() if rule.audience == "patient")


class EventPlanner:
    def __init__(
        self,
        db: Database,
        tenants: CachedTenantSettings,
        clock: Clock,
        on_planned: Callable[[], None] = lambda: None,
        handoff: Handoff | None = None,
        on_handoff: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_planned`: new deliveries wait in the store; `on_handoff`: in the handoff."""
        self.deliveries = DeliveryStore(db.deliveries)
        self.contacts = ContactDirectory(db.contacts)
        self.tenants, self.clock, self.on_planned = tenants, clock, on_planned
        self.handoff, self.on_handoff = handoff, on_handoff
        self.patient_events = patient_event_types()

    def handlers(self) -> dict[str, Callable[[Event], bool]]:
        return dict.fromkeys(planned_event_types(), self.handle)

    def handle(self, event: Event) -> bool:
        """Apply one event; False if it was already applied (or overtaken)."""
        data = event.data
        if not isinstance(data, Mapping):
            raise Reject(f"{event.type}: data must be a JSON object")
        tenant = self.tenants.get(event.tenant_id)
        contact_applied, contact = self._update_directory(event, data, tenant.rules.phone_region)
        if contact is None and event.type in self.patient_events and data.get("patient_id"):
            contact = self.contacts.get(event.tenant_id, str(data["patient_id"]))
        try:
            planned = self._plan(event, data, prefs_of(contact), tenant.rules, self.clock())
        except (KeyError, TypeError, ValueError) as error:
            raise Reject(f"{event.type}: invalid data ({type(error).__name__}: {error})") from None
        if event.type in SESSION_EVENTS:
            return self._apply_session_event(event, data["session_id"], planned)
        if self._insert(planned) or contact_applied:
            return True
        return not planned and event.type not in CONTACT_FIELD_OF_EVENT  # nothing to do: done

    def _update_directory(
        self, event: Event, data: Mapping[str, Any], phone_region: str
    ) -> tuple[bool, dict[str, Any] | None]:
        fields = contact_update(event.type, data, phone_region)
        if fields is None:
            return False, None
        if not isinstance(data.get("patient_id"), str) or not data["patient_id"]:
            raise Reject(f"{event.type}: patient_id is required")
        return self.contacts.apply(event.tenant_id, data["patient_id"], fields, event.time)

    def _plan(
        self,
        event: Event,
        data: Mapping[str, Any],
        prefs: PatientPrefs,
        rules: TenantConfig,
        now: datetime,
    ) -> list[dict[str, Any]]:
        correlation = event.correlation_id or event.id  # as the consumer binds it
        origin = Origin(event.source, event.id, event.type, event.time, correlation)
        if event.type not in SESSION_EVENTS:
            return event_deliveries(event.tenant_id, origin, data, prefs, rules, now)
        if not isinstance(data["session_id"], str):
            raise TypeError("session_id must be a string")
        planned = event_deliveries(
            event.tenant_id, origin, data, prefs, rules, now, session_time=event.time
        )
        if event.type != SESSION_CANCELLED:
            planned += reminder_deliveries(event.tenant_id, origin, data, rules, now)
        return planned

    def _apply_session_event(
        self, event: Event, session_id: str, planned: list[dict[str, Any]]
    ) -> bool:
        if self.deliveries.newer_session_change(event.tenant_id, session_id, event.time):
            log.info("session event overtaken by a newer one", extra={"event_id": event.id})
            return False
        if event.type != SESSION_SCHEDULED:
            self.deliveries.cancel_session_pending(
                event.tenant_id, session_id,
                before=event.time, keep=ids(planned), reason=event.type, now=self.clock(),
            )  # fmt: skip
        return bool(self._insert(planned)) or not planned

    def _insert(self, planned: list[dict[str, Any]]) -> int:
        """Insert the new deliveries (those due now claimed for the handoff, when there is one);
        how many were new (0: the event was applied before)."""
        if self.handoff is not None:
            planned = self.handoff.claim_new(planned)
        inserted = self.deliveries.insert_planned(planned)
        for document in inserted:
            metrics.PLANNED.labels(channel=document["channel"], status=document["status"]).inc()
        handed = self.handoff.offer(inserted) if self.handoff is not None else 0
        if handed:
            self.on_handoff()
        if self.handoff is None or any(
            due_now(d, self.clock()) and not d.get("claim") for d in inserted
        ):
            self.on_planned()  # due now in the store (later ones: the senders' timer)
        return len(inserted)
