"""What the notifications worker listens to, and on which exchange each event type arrives."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shared.config import Settings
from shared.events import Event, Subscription, subscribe
from shared.events.consumer import ANY_TYPE
from shared.events.topology import events_exchange
from shared.replicas import ACCESS_EVENT_TYPES

INTAKE_TYPES = frozenset(
    {
        *ACCESS_EVENT_TYPES,
        "referral.accepted", "referral.amended", "referral.rejected", "referral.cancelled",
        "patient.registered", "patient.consent_changed",
        "intake.completed", "intake.screening_updated",
    }
)  # fmt: skip
PLANNING_TYPES = frozenset(
    {
        "plan.drafted", "plan.held", "plan.cannot_plan", "plan.activated", "plan.completed",
        "plan.discontinued", "session.scheduled", "session.rescheduled", "session.cancelled",
        "session.completed", "session.no_show", "progress.updated", "referral.expiring",
        "referral.expired",
    }
)  # fmt: skip
"""Every type docs/events.md lists for each publisher."""
OUTCOME_TYPES = ("notification.sent", "notification.failed")

Handler = Callable[[Event], bool]


def exchange_of(event_type: str) -> str:
    if event_type in INTAKE_TYPES:
        return events_exchange("intake")
    if event_type in PLANNING_TYPES:
        return events_exchange("planning")
    raise ValueError(f"no publisher is documented for {event_type!r}")


def inbox(settings: Settings, handlers: Mapping[str, Handler]) -> Subscription:
    """One queue bound to EVERY documented intake and planning event type.

    Notifications is the audience of last resort: binding every type means no documented event
    is ever unroutable (the relay publishes with `mandatory`, and an unroutable event would stay
    pending). Types without a handler of their own are acknowledged by `ANY_TYPE`.
    """
    bindings = [(exchange_of(t), t) for t in sorted(INTAKE_TYPES | PLANNING_TYPES)]
    every_type = {ANY_TYPE: _nothing_to_do, **handlers}
    # The planner saves no event (the senders' outcomes do, and they wake the relay).
    return subscribe(settings, "inbox", bindings, every_type, wakes_relay=False)


def _nothing_to_do(event: Event) -> bool:
    return True


def outcomes(settings: Settings) -> Subscription:
    """The service's own `notification.*` events, acknowledged and counted.

    The relay publishes with `mandatory`: with no queue bound, every outcome event would stay
    pending as unroutable. Until another service consumes them, this queue does.
    """
    exchange = events_exchange("notifications")
    handlers: dict[str, Handler] = dict.fromkeys(OUTCOME_TYPES, lambda event: True)
    bindings = [(exchange, t) for t in OUTCOME_TYPES]
    return subscribe(settings, "outcomes", bindings, handlers, wakes_relay=False)
