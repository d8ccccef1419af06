"""The intake assessment: completed by staff (the API) or the patient (the web form); clearances.

Completing an intake scores the baseline outcome measures, screens for contraindications with
the rules table (`domain/screening.screen`), records the signed consent (immutable: one intake
per referral, never re-signed) and the patient's channel consent, and emits `intake.completed`
with everything planning needs. A clearance (a physician cleared a `clearance`-tier rule; staff
record who, when, a note and the rule ids) re-derives the result and emits
`intake.screening_updated`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.screening import (
    ClearanceError,
    Event,
    LocalFinding,
    Pregnancy,
    Reason,
    ScreeningInput,
    ScreeningResult,
    Surgery,
    apply_clearance,
    screen,
)
from services.intake.repository.intakes import Intakes
from services.intake.repository.referrals import Referrals
from services.intake.usecases.patients import note_screening, record_consent
from shared.clinical.outcome_measures import ScoringError, score
from shared.errors import Conflict, Invalid, NotFound
from shared.events import outbox
from shared.ids import new_id
from shared.paging import Page, PageRequest
from shared.web.auth import Principal

COMPLETED_BY = ("staff", "patient")


def complete_intake(
    deps: Deps,
    principal: Principal,
    referral_id: str,
    form: dict[str, Any],
    *,
    completed_by: str = "staff",
    today: date | None = None,
) -> dict[str, Any]:
    """Complete the intake of an accepted referral with a loaded intake form (`IntakeFormSchema`)."""
    if completed_by not in COMPLETED_BY:
        raise ValueError(f"completed_by must be one of {COMPLETED_BY}")
    tenant_id = principal.tenant_id
    referral = Referrals(deps.db, tenant_id).get(referral_id, principal.locations)
    if referral is None:
        raise NotFound(f"no referral {referral_id!r}")
    if referral["status"] != "accepted":
        raise Conflict(f"the referral is {referral['status']}")
    now = deps.clock()
    result = screen(screening_input(form, today or now.date()))
    consent = form["consent"]
    intake = {
        "_id": new_id("int"),
        "tenant_id": tenant_id,
        "referral_id": referral_id,
        "patient_id": referral["patient_id"],
        "location_id": referral["location_id"],
        **_json(
            {k: form[k] for k in ("history", "medications", "symptoms", "vitals", "body_areas")}
        ),
        "baseline": scored_baseline(form["baseline"]),
        "screening": _json(asdict(result)),
        "consent": {**consent, "signed_at": now},
        "referral_terms": referral["terms"],
        "completed_by": completed_by,
        "completed_at": now,
        "clearances": [],
        "version": 1,
    }
    completed = outbox.pending([events.intake_completed(intake)])
    if not Intakes(deps.db, tenant_id).insert({**intake, **completed}):
        raise Conflict("this referral's intake is complete; its signed consent cannot change")
    channels = {"email": consent["email"], "sms": consent["sms"]}
    record_consent(deps, tenant_id, referral["patient_id"], channels, source="intake")
    note_screening(deps, tenant_id, intake)
    return intake


def record_clearance(
    deps: Deps,
    principal: Principal,
    intake_id: str,
    *,
    rule_ids: list[str],
    note: str,
    by: str,
) -> dict[str, Any]:
    """Record that a physician (`by`) cleared these `clearance`-tier rules; re-issues the screening.

    The principal is the staff member who recorded it (kept with the clearance).
    """
    repo = Intakes(deps.db, principal.tenant_id)
    intake = repo.get(intake_id, principal.locations)
    if intake is None:
        raise NotFound(f"no intake {intake_id!r}")
    try:
        result = apply_clearance(result_from(intake["screening"]), rule_ids)
    except ClearanceError as error:
        raise Invalid.one("rule_ids", str(error)) from None
    cleared = {"by": by, "at": deps.clock(), "note": note, "rule_ids": sorted(set(rule_ids))}
    updated = {**intake, "screening": _json(asdict(result)), "version": intake["version"] + 1}
    recorded = {**cleared, "recorded_by": principal.actor}
    update = {
        "$set": {"screening": updated["screening"], "version": updated["version"]},
        "$push": {"clearances": recorded},
    }
    event = events.intake_screening_updated(updated, _json(cleared))
    guarded = {"_id": intake_id, "version": intake["version"]}
    if not repo.update(guarded, outbox.with_events(update, [event])):
        raise Conflict("the intake changed meanwhile; reload and try again")
    note_screening(deps, principal.tenant_id, updated)
    return {**updated, "clearances": [*intake["clearances"], recorded]}


def get_intake(deps: Deps, principal: Principal, intake_id: str) -> dict[str, Any]:
    found = Intakes(deps.db, principal.tenant_id).get(intake_id, principal.locations)
    if found is None:
        raise NotFound(f"no intake {intake_id!r}")
    return found


def list_intakes(
    deps: Deps, principal: Principal, filters: dict[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """Intakes at the locations the principal may see, by id."""
    return Intakes(deps.db, principal.tenant_id).page(principal.locations, filters, request)


def scored_baseline(baseline: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each baseline answer with its score; Invalid naming every answer that cannot be scored."""
    scored, errors = [], {}
    for i, answer in enumerate(baseline):
        try:
            scored.append({**answer, "score": score(answer["measure"], answer["items"])})
        except ScoringError as error:
            errors[f"baseline[{i}].items"] = [str(error)]
    if errors:
        raise Invalid(errors)
    return scored


def screening_input(form: dict[str, Any], as_of: date) -> ScreeningInput:
    """What the screening rules read from a loaded intake form."""
    history, vitals = form.get("history") or {}, form.get("vitals") or {}
    pressure = vitals.get("blood_pressure")
    pregnancy = history.get("pregnancy")
    return ScreeningInput(
        as_of=as_of,
        conditions=frozenset(history.get("conditions", ())),
        medications=tuple(form.get("medications", ())),
        temperature_c=vitals.get("temperature_c"),
        blood_pressure=(pressure["systolic"], pressure["diastolic"]) if pressure else None,
        pregnancy=Pregnancy(pregnancy["trimester"], pregnancy["high_risk"]) if pregnancy else None,
        surgeries=tuple(
            Surgery(s["performed_on"], s["body_area"]) for s in history.get("surgeries", ())
        ),
        local_findings=tuple(
            LocalFinding(f["condition"], f["body_area"]) for f in history.get("local_findings", ())
        ),
        events=tuple(Event(e["condition"], e["occurred_on"]) for e in history.get("events", ())),
    )


def result_from(stored: dict[str, Any]) -> ScreeningResult:
    """The stored screening result as the domain's `ScreeningResult`."""
    reasons = tuple(
        Reason(**{**r, "modifications": tuple(r.get("modifications", ()))})
        for r in stored["reasons"]
    )
    lists = ("excluded_areas", "modifications", "requires_clearance_for", "cleared")
    return ScreeningResult(stored["outcome"], reasons, *(tuple(stored.get(k, ())) for k in lists))


def _json(value: Any) -> Any:
    """Dataclasses, tuples and dates as JSON types (what is stored and what events carry)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))
