"""The event catalogue: every event type between the services, who publishes it, and its payload.

One list, from which the publishers' exchanges and every subscription are derived (a consumer
names types; `bindings` finds where each is published). `docs/events.md` documents the same
list (a test compares them). Partner traffic (`partner.referrals` in, `partner.status` out) is
a contract with partners, not between services: docs/partners.md.

`payload` is the marshmallow schema of the event's `data`, where one is declared (in
`shared/events/payloads/<publisher>.py`, named in `PAYLOADS` below): consumers load the data
with it (an invalid one is rejected to the dead-letter queue with the fields named) and tests
check that what the builders emit loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from marshmallow import Schema

from shared.events.payloads import intake, notifications, planning
from shared.events.topology import events_exchange


@dataclass(frozen=True)
class EventType:
    name: str
    publisher: str
    payload: type[Schema] | None = None

    @property
    def exchange(self) -> str:
        return events_exchange(self.publisher)


_PUBLISHED: dict[str, tuple[str, ...]] = {
    "intake": (
        "tenant.location_upserted",
        "access.principal_upserted",
        "access.principal_revoked",
        "access.user_updated",
        "access.session_ended",
        "user.invited",
        "user.password_reset_requested",
        "referral.accepted",
        "referral.amended",
        "referral.rejected",
        "referral.cancelled",
        "patient.registered",
        "patient.consent_changed",
        "intake.completed",
        "intake.screening_updated",
    ),
    "planning": (
        "plan.drafted",
        "plan.held",
        "plan.cannot_plan",
        "plan.activated",
        "plan.completed",
        "plan.discontinued",
        "session.scheduled",
        "session.rescheduled",
        "session.cancelled",
        "session.completed",
        "session.no_show",
        "progress.updated",
        "referral.expiring",
        "referral.expired",
    ),
    "notifications": ("notification.sent", "notification.failed"),
}

PAYLOADS: dict[str, type[Schema]] = {
    "tenant.location_upserted": intake.LocationUpsertedPayload,
    "access.principal_upserted": intake.PrincipalUpsertedPayload,
    "access.principal_revoked": intake.PrincipalRevokedPayload,
    "access.user_updated": intake.UserUpdatedPayload,
    "access.session_ended": intake.SessionEndedPayload,
    "user.invited": intake.AccountLinkPayload,
    "user.password_reset_requested": intake.AccountLinkPayload,
    "referral.accepted": intake.ReferralTermsPayload,
    "referral.amended": intake.ReferralTermsPayload,
    "referral.rejected": intake.ReferralRejectedPayload,
    "referral.cancelled": intake.ReferralCancelledPayload,
    "patient.registered": intake.PatientRegisteredPayload,
    "patient.consent_changed": intake.PatientConsentChangedPayload,
    "intake.completed": intake.IntakeCompletedPayload,
    "intake.screening_updated": intake.ScreeningUpdatedPayload,
    "plan.drafted": planning.PlanDraftedPayload,
    "plan.held": planning.PlanHeldPayload,
    "plan.cannot_plan": planning.PlanCannotPlanPayload,
    "plan.activated": planning.PlanActivatedPayload,
    "plan.completed": planning.PlanClosedPayload,
    "plan.discontinued": planning.PlanClosedPayload,
    "session.scheduled": planning.SessionPayload,
    "session.rescheduled": planning.SessionRescheduledPayload,
    "session.cancelled": planning.SessionPayload,
    "session.completed": planning.SessionPayload,
    "session.no_show": planning.SessionPayload,
    "progress.updated": planning.ProgressUpdatedPayload,
    "referral.expiring": planning.ReferralExpiringPayload,
    "referral.expired": planning.ReferralExpiredPayload,
    "notification.sent": notifications.NotificationSentPayload,
    "notification.failed": notifications.NotificationFailedPayload,
}
"""Type -> the schema of its `data` (shared/events/payloads/<publisher>.py)."""

CATALOG: dict[str, EventType] = {
    name: EventType(name, publisher, PAYLOADS.get(name))
    for publisher, names in _PUBLISHED.items()
    for name in names
}

UNHEARD = frozenset(
    {
        "plan.drafted",
        "plan.held",
        "plan.cannot_plan",
        "session.completed",
        "session.no_show",
        "notification.sent",
        "notification.failed",
    }
)
"""The types no service consumes (for partners, ops and services to come): each publisher's
worker binds them to its `<exchange>.unheard` sink (shared.events.topology), so that none is
unroutable and no consumer spends a hop only acknowledging it. A type that a service comes to
consume leaves this set (tests/unit/test_event_catalog.py checks it against the services'
handlers)."""

ACCESS_TYPES = (
    "access.principal_upserted",
    "access.principal_revoked",
    "tenant.location_upserted",
    "access.user_updated",
    "access.session_ended",
)
"""What planning and notifications replicate (shared/replicas.py)."""


class UnknownEventType(KeyError):
    """A type that is not in the catalogue: add it here and to docs/events.md first."""


def event_type(name: str) -> EventType:
    try:
        return CATALOG[name]
    except KeyError:
        raise UnknownEventType(f"{name!r} is not in shared/events/catalog.py") from None


def exchange_of(name: str) -> str:
    return event_type(name).exchange


def published_by(publisher: str) -> tuple[str, ...]:
    return tuple(t.name for t in CATALOG.values() if t.publisher == publisher)


def unheard_bindings(publisher: str) -> dict[str, list[str]]:
    """{the publisher's exchange: its types no service consumes}, for `topology.declare` (empty
    when it has none)."""
    unheard = sorted(set(published_by(publisher)) & UNHEARD)
    return {events_exchange(publisher): unheard} if unheard else {}


def stale_bindings(names: Iterable[str], publishers: Iterable[str]) -> list[tuple[str, str]]:
    """The (exchange, routing key) of every type of these publishers that is not among `names`:
    what a queue once bound to all their types unbinds."""
    kept = set(names)
    return [
        (exchange_of(name), name)
        for publisher in publishers
        for name in published_by(publisher)
        if name not in kept
    ]


def bindings(names: Iterable[str]) -> list[tuple[str, str]]:
    """(exchange, routing key) for each type, to subscribe a queue to exactly these types."""
    return [(exchange_of(name), name) for name in sorted(set(names))]
