"""The consumer's use case: an event of intake or planning becomes deliveries (and keeps the
contact directory).

Per event: at most one contact upsert (or one contact read, for an event a patient may hear
about), then ONE decision, `domain.delivery_plan.plan_deliveries`, then the event's deliveries
saved in one `insert_many` (their keys are the deduplication). Session events also move their
session's pending deliveries: a reschedule or cancellation first cancels what older events
planned for the session, then saves its own. A session event older than one already applied is
skipped (redelivered or overtaken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.errors import Invalid
from shared.events import Event

from .. import metrics
from ..domain.contacts import CONTACT_FIELD_OF_EVENT, contact_update
from ..domain.deliveries import Origin, ids
from ..domain.delivery_plan import SESSION_EVENTS, SESSION_SCHEDULED, plan_deliveries
from ..domain.rules import patient_event_types

if TYPE_CHECKING:
    from ..bootstrap import Deps

log = logging.getLogger("notifications.planner")
SaveDeliveries = Callable[[Sequence[Mapping[str, Any]]], list[Mapping[str, Any]]]
"""Inserts what is new of an event's deliveries and returns it (`senders.handoff.NewDeliveries`)."""


def apply_event(deps: Deps, event: Event, save: SaveDeliveries) -> bool:
    """Apply one event; False if it was already applied (or overtaken). Raises `Invalid` when
    its data cannot be used (each problem a sentence: the consumer dead-letters the event with
    them as the reason)."""
    data = event.data
    if not isinstance(data, Mapping):
        raise Invalid.one("data", "data must be a JSON object")
    tenant = deps.tenants.get(event.tenant_id)
    contact_applied, contact = _directory(deps, event, data, tenant.rules.phone_region)
    origin = Origin(
        event.source, event.id, event.type, event.time, event.correlation_id or event.id
    )
    try:
        planned = plan_deliveries(
            event.tenant_id, origin, data, contact, tenant.rules, deps.clock()
        )
    except (KeyError, TypeError, ValueError) as error:
        raise Invalid.one("data", f"invalid data ({type(error).__name__}: {error})") from None
    if event.type in SESSION_EVENTS:
        return _apply_session_event(deps, event, data["session_id"], planned, save)
    if _save(planned, save) or contact_applied:
        return True
    return not planned and event.type not in CONTACT_FIELD_OF_EVENT  # nothing to do: done


def _directory(
    deps: Deps, event: Event, data: Mapping[str, Any], phone_region: str
) -> tuple[bool, dict[str, Any] | None]:
    """(whether the event changed the directory, the patient's contact, if any is needed)."""
    fields = contact_update(event.type, data, phone_region)
    patient_id = data.get("patient_id")
    if fields is not None:
        if not isinstance(patient_id, str) or not patient_id:
            raise Invalid.one("data.patient_id", "patient_id is required")
        return deps.contacts.apply(event.tenant_id, patient_id, fields, event.time)
    if patient_id and event.type in patient_event_types():
        return False, deps.contacts.get(event.tenant_id, str(patient_id))
    return False, None


def _apply_session_event(
    deps: Deps, event: Event, session_id: str, planned: list[dict[str, Any]], save: SaveDeliveries
) -> bool:
    if deps.deliveries.newer_session_change(event.tenant_id, session_id, event.time):
        log.info("session event overtaken by a newer one", extra={"event_id": event.id})
        return False
    if event.type != SESSION_SCHEDULED:
        deps.deliveries.cancel_session_pending(
            event.tenant_id, session_id,
            before=event.time, keep=ids(planned), reason=event.type, now=deps.clock(),
        )  # fmt: skip
    return bool(_save(planned, save)) or not planned


def _save(planned: list[dict[str, Any]], save: SaveDeliveries) -> int:
    """How many of the planned deliveries were new (0: the event was applied before)."""
    inserted = save(planned)
    for document in inserted:
        metrics.PLANNED.labels(channel=document["channel"], status=document["status"]).inc()
    return len(inserted)
