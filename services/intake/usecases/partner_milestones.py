"""The loop closed: a partner hears of its referral's care as planning reports it.

Planning's `plan.activated`, `progress.updated`, `plan.completed` and `plan.discontinued` reach
intake's worker (queue `intake.planning-events`); for a referral a partner sent, each becomes a
milestone on the referral (`domain/milestones.py`) and the partner's status event, in the
partner's status format (native data or the FHIR Task), saved in ONE guarded write with the
planning event's key (inside the milestone), so a redelivered event changes nothing. Referrals
the front desk entered, cancelled ones and those of a partner no longer known get nothing.
What goes to a partner is a disclosure of patient data: each is audited (ids only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain import milestones
from services.intake.repository.referrals import Referrals
from services.intake.usecases.partner_status_format import clinic_context, status_format
from shared import audit
from shared.errors import NotFound
from shared.events import Event
from shared.retry import retry_on_conflict
from shared.web.auth import Principal

log = logging.getLogger("intake.partner_milestones")
APPLIED, REPEAT, NOTHING_TO_SAY = "applied", "repeat", "nothing to say"


def report_milestone(
    deps: Deps, principal: Principal, event: Event, data: Mapping[str, Any]
) -> bool:
    """Tell the referral's partner of the milestone `event` is; False for a repeat.

    `data` is the event's data as its payload schema loaded it. Raises NotFound when intake has
    no such referral (the event cannot be applied: the consumer dead-letters it).
    """
    repo = Referrals(deps.db, principal.tenant_id)
    referral_id = data["referral_id"]
    milestone = milestones.milestone(event.type, data, event.key, event.time)

    def attempt() -> str | None:
        referral = repo.get_full(referral_id)
        if referral is None:
            raise NotFound(f"no referral {referral_id!r} in clinic {event.tenant_id!r}")
        kept = referral.get("milestones") or []
        if milestones.has_event(kept, event.key):
            return REPEAT
        partner = deps.partners.get(referral["partner_id"]) if referral.get("partner_id") else None
        if partner is None or referral["status"] == "cancelled":
            return NOTHING_TO_SAY
        after = {**referral, "milestones": [*kept, milestone]}
        status = events.referral_milestone(
            after,
            milestone,
            status_format(deps, partner["_id"]),
            clinic_context(deps, event.tenant_id),
        )
        return APPLIED if repo.add_milestone(referral, milestone, [status]) else None

    outcome = retry_on_conflict(attempt, what=f"referral {referral_id!r}")
    if outcome == NOTHING_TO_SAY:
        log.debug("no partner to tell", extra={"referral_id": referral_id, "type": event.type})
    if outcome == APPLIED:
        audit.record(
            deps.db,
            actor=principal.actor,
            tenant_id=event.tenant_id,
            action="referral.milestone_reported",
            object_type="referral",
            object_id=referral_id,
            detail=f"{milestone['kind']} to the referring partner",
        )
    return outcome != REPEAT
