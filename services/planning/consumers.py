"""Handlers of intake's events: translate each message, call its use case (usecases/intake_events.py).

A handler returns True when the event was applied, False for a duplicate (or a stale
amendment), raises `Reject` for an event that can never be applied (dead-lettered with the
reason naming the field) and lets anything else raise (retried with backoff). The access
replicas (API keys, locations) are kept by `shared.replicas`. Consumers act as planning's
system principal of the event's clinic (`system:planning` in the plan's history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.planning.bootstrap import Deps
from services.planning.domain.intake_stage import INTAKE_EVENT_TYPES, read_intake_event
from services.planning.domain.intake_summary import InvalidIntake, referral_terms
from services.planning.domain.plan_document import referral_document
from services.planning.usecases import intake_events
from services.planning.usecases.intake_events import ReferralRef
from shared.events import Event, Reject
from shared.replicas import (
    LOCATION_UPSERTED,
    LOCATIONS,
    PRINCIPALS,
    REVOCATIONS,
    replica_handlers,
)
from shared.web.auth import Principal, system_principal

Handler = Callable[[Event], bool]


def handlers(deps: Deps) -> dict[str, Handler]:
    """Event type -> handler: every type planning consumes (the worker subscribes to these)."""
    replicas = replica_handlers(deps.db[PRINCIPALS], deps.db[LOCATIONS], deps.db[REVOCATIONS])
    apply_location = replicas[LOCATION_UPSERTED]

    def on_location(event: Event) -> bool:
        deps.zones.forget()  # a location's time zone may have changed
        return apply_location(event)

    def on_intake(event: Event) -> bool:
        try:
            incoming = read_intake_event(event.type, _data(event), event.tenant_id)
        except InvalidIntake as error:
            raise Reject(str(error)) from None
        return intake_events.apply_intake(deps, system(event), event, incoming)

    def on_referral_amended(event: Event) -> bool:
        data = _data(event)
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise Reject("referral.amended needs a whole 'version' of 1 or more")
        try:
            terms = referral_terms(data)
        except InvalidIntake as error:
            raise Reject(str(error)) from None
        stored = referral_document(terms, data.get("referrer") or {}, version)
        return intake_events.amend_referral(deps, system(event), event, _ref(data), stored)

    def on_referral_cancelled(event: Event) -> bool:
        data = _data(event)
        reason = f"referral cancelled: {data.get('reason') or 'no reason given'}"
        return intake_events.cancel_referral(deps, system(event), event, _ref(data), reason)

    return {
        **replicas,
        LOCATION_UPSERTED: on_location,
        **dict.fromkeys(INTAKE_EVENT_TYPES, on_intake),
        "referral.amended": on_referral_amended,
        "referral.cancelled": on_referral_cancelled,
    }


def system(event: Event) -> Principal:
    """Planning itself, acting for the event's clinic (its actor: `system:planning`)."""
    return system_principal("planning", event.tenant_id)


def _data(event: Event) -> Mapping[str, Any]:
    if not isinstance(event.data, Mapping):
        raise Reject("event data must be a JSON object")
    return event.data


def _ref(data: Mapping[str, Any]) -> ReferralRef:
    referral_id = data.get("referral_id")
    if not isinstance(referral_id, str) or not referral_id or len(referral_id) > 200:
        raise Reject("event data needs 'referral_id' (a non-empty string)")
    return ReferralRef(referral_id, data.get("patient_id"), data.get("location_id"))
