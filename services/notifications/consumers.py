"""What the notifications worker listens to: translate each event, call its use case.

One queue, `notifications.inbox`, bound to exactly the types it handles (its bindings derived
from the event catalogue, `shared.events.catalog`): those that make deliveries or feed the
contact directory go to `usecases.delivery_planning`, the access replicas to `shared.replicas`.
Types no service consumes (its own `notification.*` among them) go to their publisher's
`.unheard` sink (`catalog.UNHEARD`), not through a consumer that would only acknowledge them.
Bindings an earlier version had (every documented type, and a `notifications.outcomes` queue)
are removed when the queue is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.errors import Invalid
from shared.events import Event, Reject, Subscription, catalog, subscribe
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
    return [inbox(settings, inbox_handlers(deps, save))]


def inbox(settings: Settings, handlers: Mapping[str, Handler]) -> Subscription:
    """One queue bound to the intake and planning types it handles (see above)."""
    # The planner saves no event (the senders' outcomes do, and they wake the relay).
    return subscribe(
        settings,
        "inbox",
        catalog.bindings(handlers),
        handlers,
        stale_bindings=catalog.stale_bindings(handlers, INBOX_PUBLISHERS),
        wakes_relay=False,
    )
