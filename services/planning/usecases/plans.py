"""Use cases on plans for staff: list, read, edit, approve, complete, discontinue; history and
progress.

Only plans the principal may see are reached (`plan_access.visible_plan`). Writes are guarded
by the plan's ``rev`` (`plan_changes.change_plan`); an edit or a status change also names the
``version`` it was made on, so nobody overwrites a change they have not seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain import plan_lifecycle
from services.planning.domain.plan_content import (
    PlanContentError,
    referral_problems,
    stored_changes,
)
from services.planning.domain.plan_document import (
    content_of,
    history_document,
    last_assessed_at,
    measures_payload,
    plan_view,
    progress_of,
    referral_of,
    sessions_since,
)
from services.planning.domain.plan_lifecycle import EditNotAllowed, InvalidTransition
from services.planning.domain.progress import reassessment_due
from services.planning.repository.plans import Plans
from services.planning.usecases.answers import plan_answer, progress_answer, session_answer
from services.planning.usecases.plan_access import expect_version, local_today, visible_plan
from services.planning.usecases.plan_changes import Change, change_plan, closing
from shared.errors import Conflict, Invalid
from shared.paging import Page, PageRequest
from shared.web.auth import Principal

CLINICIANS = ("admin", "therapist")
"""The roles that read a session's notes and a plan's progress (as `api/` requires them)."""

# --- reads -------------------------------------------------------------------------------------


def list_plans(
    deps: Deps, principal: Principal, filters: Mapping[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """Plans at the locations the principal may see, newest first."""
    found = Plans(deps.db, principal.tenant_id).page(filters, principal.locations, request)
    return found.map(plan_answer)


def patient_plans(
    deps: Deps, principal: Principal, patient_id: str, request: PageRequest
) -> Page[dict[str, Any]]:
    """The patient's plans at the locations the principal may see, newest first, each with its
    sessions; for clinicians (whose role may read notes and progress) with each session's notes
    and measurements, and the plan's progress per measure."""
    clinician = principal.role in CLINICIANS
    found = Plans(deps.db, principal.tenant_id).of_patient(patient_id, principal.locations, request)

    def answer(plan: dict[str, Any]) -> dict[str, Any]:
        sessions = [session_answer(plan, s, detail=clinician) for s in plan.get("sessions", ())]
        measures = measures_payload(progress_of(plan)) if clinician else []
        return {**plan_answer(plan), "sessions": sessions, "measures": measures}

    return found.map(answer)


def get_plan(deps: Deps, principal: Principal, plan_id: str) -> dict[str, Any]:
    return plan_answer(visible_plan(deps, principal, plan_id))


def plan_history(
    deps: Deps, principal: Principal, plan_id: str, request: PageRequest
) -> Page[dict[str, Any]]:
    """Superseded versions, newest first."""
    history = visible_plan(deps, principal, plan_id).get("history", [])
    return Page.of_list(list(reversed(history)), request)


def plan_progress(deps: Deps, principal: Principal, plan_id: str) -> dict[str, Any]:
    plan = visible_plan(deps, principal, plan_id)
    today = local_today(deps, plan, deps.clock())
    return progress_answer(plan, today, _reassessment(deps, plan, today))


def _reassessment(deps: Deps, plan: Mapping[str, Any], today: date) -> dict[str, Any]:
    policy = deps.clinic_settings.get(plan["tenant_id"]).reassessment
    last = last_assessed_at(plan)
    since = sessions_since(plan, last)
    due = last is not None and reassessment_due(since, last.date(), today, policy)
    return {
        "due": due,
        "sessions_since": since,
        "last_assessed_at": last,
        "every_sessions": policy.every_sessions,
        "every_days": policy.every_days,
    }


# --- writes ------------------------------------------------------------------------------------


def edit_plan(
    deps: Deps, principal: Principal, plan_id: str, version: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Edit a draft (anything planned) or an active plan (techniques, goals, notes)."""

    def decide(plan: dict[str, Any]) -> Change | None:
        expect_version(plan, version)
        try:
            stored = stored_changes(changes, plan.get("baseline") or {}, deps.tables)
            edited = plan_lifecycle.edit_plan(
                plan_view(plan), stored, principal.actor, deps.clock()
            )
        except PlanContentError as error:
            raise Invalid(error.errors, "the edit breaks a plan rule") from None
        except EditNotAllowed as error:
            raise Conflict(str(error)) from None
        if edited is None:
            return None
        content = content_of(edited.plan)
        problems = referral_problems(content, referral_of(plan))
        touched = {k: v for k, v in problems.items() if k in edited.history_entry.changed_fields}
        if touched:
            raise Invalid(touched, "the plan would not fit the referral")
        fields = {"content": content, "version": edited.plan["version"]}
        return Change(fields, history=history_document(edited.history_entry))

    return plan_answer(change_plan(deps, principal, plan_id, decide))


def approve_plan(deps: Deps, principal: Principal, plan_id: str, version: int) -> dict[str, Any]:
    """A draft that fits its referral becomes active (and sessions can be booked)."""

    def decide(plan: dict[str, Any]) -> Change:
        expect_version(plan, version)
        now = deps.clock()
        if plan["status"] == "draft":
            _check_fits_referral(plan, local_today(deps, plan, now))
        try:
            approved = plan_lifecycle.change_status(plan_view(plan), "active", principal.actor, now)
        except InvalidTransition as error:
            raise Conflict(str(error)) from None
        fields = {"status": "active", "version": approved.plan["version"]}
        after = {**plan, **fields}
        return Change(fields, [events.activated(after)], history_document(approved.history_entry))

    return plan_answer(change_plan(deps, principal, plan_id, decide))


def close_plan(
    deps: Deps, principal: Principal, plan_id: str, version: int, target: str, reason: str
) -> dict[str, Any]:
    """Complete (from active) or discontinue (from held, draft or active)."""

    def decide(plan: dict[str, Any]) -> Change:
        expect_version(plan, version)
        try:
            return closing(plan, target, reason, principal.actor, deps.clock())
        except InvalidTransition as error:
            raise Conflict(str(error)) from None

    return plan_answer(change_plan(deps, principal, plan_id, decide))


def _check_fits_referral(plan: Mapping[str, Any], today: date) -> None:
    referral = referral_of(plan)
    problems = referral_problems(plan["content"], referral)
    if today > referral.expires_on:
        problems["referral"] = [f"the referral expired on {referral.expires_on.isoformat()}"]
    if problems:
        raise Conflict("the plan does not fit the referral; edit it first", problems)
