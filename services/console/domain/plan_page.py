"""What the plan pages show (7: the plan; the "Plans" list): the patient, the status in words,
the referral's terms, who made the current version and when, and a stale edit's "changed by X
at T". Pure: from planning's and intake's answers, times in the location's zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.console.domain.inbox import patient_name
from services.console.domain.places import Place, place_of, zone_for
from services.console.domain.plan_form import STATUS_LABELS
from services.console.domain.times import on_day, when

TABS = {
    "draft": "To approve",
    "held": "Held for clearance",
    "active": "Active",
    "completed": "Completed",
    "discontinued": "Discontinued",
    "cannot_plan": "Cannot be planned",
}
"""The list's tabs: one status each (one call to planning per tab)."""
DEFAULT_TAB = "draft"


def changed_by(change: Mapping[str, Any] | None, my_user_id: str) -> str:
    """Who made a version, in words: "you", their name, or the service that did."""
    change = change or {}
    by = change.get("by") or change.get("changed_by") or ""
    name = change.get("name") or change.get("changed_by_name")
    if by == f"user:{my_user_id}":
        return "you"
    if name and not by.startswith("system:"):
        return str(name)
    if by.startswith("system:"):
        return f"the clinic's system ({by.partition(':')[2]})"
    return "another member of staff" if by.startswith("user:") else by or "someone"


def conflict_notice(current: Mapping[str, Any] | None, my_user_id: str, zone: Any) -> str:
    """A stale edit, in words: who made the current version and when; what is shown now."""
    if not current:
        return "The plan was changed by someone else meanwhile. Here is the current version."
    at = when(current.get("changed_at"), zone)
    who = changed_by(current, my_user_id)
    return (
        f"Not saved: the plan was changed by {who}{' at ' + at if at else ''} "
        f"(now version {current.get('version')}). Here is the current version."
    )


@dataclass(frozen=True)
class PlanRow:
    plan_id: str
    patient: str
    location: str
    status: str
    sessions: str
    visits: str
    created: str


def plan_row(plan: Mapping[str, Any], names: Mapping[str, str], places: Iterable[Place]) -> PlanRow:
    """A row of the list, from the list's item and the patients' names (one call for all)."""
    listed = list(places)
    place = place_of(listed, plan.get("location_id"))
    content = plan.get("content") or {}
    visits = plan.get("visits") or {}
    planned = content.get("planned_sessions")
    return PlanRow(
        plan_id=plan["plan_id"],
        patient=names.get(plan.get("patient_id") or "", "") or "Patient not found",
        location=place.name if place else plan.get("location_id") or "",
        status=STATUS_LABELS.get(plan["status"], plan["status"]),
        sessions=(
            f"{plan.get('sessions_completed', 0)} of {planned} done" if planned else "not planned"
        ),
        visits=(
            f"{visits['remaining']} of {visits['authorized']} left"
            if visits.get("authorized") is not None
            else ""
        ),
        created=when(plan.get("created_at"), zone_for(listed, plan.get("location_id"))),
    )


def names_of(patients: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {p["patient_id"]: patient_name({"patient": p}) for p in patients}


@dataclass(frozen=True)
class PlanFacts:
    plan_id: str
    referral_id: str
    status: str
    status_label: str
    patient: str
    partner_referral_id: str
    location: str
    version: int
    changed: str
    referral_valid: str
    visits: str
    diagnoses: list[Mapping[str, Any]]
    reasons: list[Mapping[str, Any]]
    precautions: list[str]
    excluded_areas: list[str]
    content: Mapping[str, Any]
    closed: str


def plan_facts(
    plan: Mapping[str, Any],
    referral: Mapping[str, Any] | None,
    places: Iterable[Place],
    my_user_id: str,
) -> PlanFacts:
    listed = list(places)
    zone = zone_for(listed, plan.get("location_id"))
    place = place_of(listed, plan.get("location_id"))
    content = plan.get("content") or {}
    terms = plan.get("referral") or {}
    visits = plan.get("visits") or {}
    change = plan.get("last_change") or {}
    closed = plan.get("closed") or {}
    at = when(change.get("at"), zone)
    return PlanFacts(
        plan_id=plan["plan_id"],
        referral_id=plan.get("referral_id") or "",
        status=plan["status"],
        status_label=STATUS_LABELS.get(plan["status"], plan["status"]),
        patient=patient_name((referral or {}).get("terms") or {}) or "the patient",
        partner_referral_id=(referral or {}).get("partner_referral_id") or "",
        location=place.name if place else plan.get("location_id") or "",
        version=int(plan.get("version") or 0),
        changed=f"Version {plan.get('version')}, by {changed_by(change, my_user_id)}"
        + (f" on {at}" if at else ""),
        referral_valid=(
            f"{on_day(terms.get('valid_from'))} to {on_day(terms.get('expires_on'))}"
            if terms.get("expires_on")
            else ""
        ),
        visits=(
            f"{visits.get('authorized')} authorized, {visits.get('used')} used, "
            f"{visits.get('remaining')} remaining"
            if visits
            else ""
        ),
        diagnoses=list(content.get("diagnoses") or terms.get("diagnoses") or ()),
        reasons=list(plan.get("reasons") or ()),
        precautions=list(content.get("precautions") or ()),
        excluded_areas=list(content.get("excluded_areas") or ()),
        content=content,
        closed=(
            f"{closed.get('reason')}, by {changed_by({'by': closed.get('by')}, my_user_id)}"
            f" on {when(closed.get('at'), zone)}"
            if closed
            else ""
        ),
    )
