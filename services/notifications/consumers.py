"""What the notifications worker listens to: translate each event, call its use case.

Two queues, their bindings derived from the event catalogue (`shared.events.catalog`):

- `notifications.inbox`: EVERY type intake and planning publish. Notifications is the audience
  of last resort: the relay publishes with `mandatory`, so an event no queue is bound to would
  stay pending as unroutable; binding every documented type means none ever is. Types that make
  deliveries or feed the contact directory go to `usecases.delivery_planning`, the access
  replicas to `shared.replicas`, the rest are acknowledged (`ANY_TYPE`).
- `notifications.outcomes`: the service's own `notification.*` events, acknowledged. Until
  another service consumes them, this queue does (for the same reason).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.errors import Invalid
from shared.events import Event, Reject, Subscription, catalog, subscribe
from shared.events.consumer import ANY_TYPE
from shared.replicas import replica_handlers

from .domain.contacts import CONTACT_FIELD_OF_EVENT
from .domain.delivery_plan import SESSION_EVENTS
from .domain.rules import ruled_event_types
from .usecases import delivery_planning
from .usecases.delivery_planning import SaveDeliveries

if TYPE_CHECKING:
    from .bootstrap import Deps

Handler = Callable[[Event], bool]
INBOX_PUBLISHERS = ("intake", "planning")


def planned_event_types() -> frozenset[str]:
    """The published types that make deliveries or update the contact directory (the rules
    also name internal types, which never arrive as events)."""
    wanted = ruled_event_types() | set(CONTACT_FIELD_OF_EVENT) | set(SESSION_EVENTS)
    return frozenset(wanted & set(catalog.CATALOG))


def inbox_handlers(deps: Deps, save: SaveDeliveries) -> dict[str, Handler]:
    def on_event(event: Event) -> bool:
        try:
            return delivery_planning.apply_event(deps, event, save)
        except Invalid as error:
            problems = [problem for found in error.errors.values() for problem in found]
            raise Reject(f"{event.type}: {'; '.join(problems)}") from None

    return {
        **dict.fromkeys(planned_event_types(), on_event),
        **replica_handlers(deps.db.principals, deps.db.locations, deps.db.revocations),
    }


def subscriptions(settings: Settings, deps: Deps, save: SaveDeliveries) -> list[Subscription]:
    return [inbox(settings, inbox_handlers(deps, save)), outcomes(settings)]


def inbox(settings: Settings, handlers: Mapping[str, Handler]) -> Subscription:
    """One queue bound to every documented intake and planning event type (see above)."""
    published = [t for p in INBOX_PUBLISHERS for t in catalog.published_by(p)]
    every_type = {ANY_TYPE: _nothing_to_do, **handlers}
    # The planner saves no event (the senders' outcomes do, and they wake the relay).
    return subscribe(settings, "inbox", catalog.bindings(published), every_type, wakes_relay=False)


def outcomes(settings: Settings) -> Subscription:
    """The service's own `notification.*` events, acknowledged (see above)."""
    own = catalog.published_by("notifications")
    handlers: dict[str, Handler] = dict.fromkeys(own, _nothing_to_do)
    return subscribe(settings, "outcomes", catalog.bindings(own), handlers, wakes_relay=False)


def _nothing_to_do(event: Event) -> bool:
    return True
