"""The intake assessment: `complete_intake` (staff API now, the patient web form later) and clearances.

Completing an intake scores the baseline outcome measures, screens for contraindications with
the rules table, records the signed consent (immutable: one intake per referral, never
re-signed) and the patient's channel consent, and emits `intake.completed` with everything
planning needs. A clearance (a physician cleared a `clearance`-tier rule; staff record who,
when, a note and the rule ids) re-derives the result and emits `intake.screening_updated`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.intake import events, referral_events
from services.intake.domain.screening import (
    ClearanceError,
    Reason,
    ScreeningResult,
    apply_clearance,
    screen,
)
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.intake_form import screening_input
from services.intake.repository import indexes as storage
from services.intake.repository.patient_data import Intakes, Referrals
from services.intake.usecases import patient_matching as patients
from shared import audit
from shared.clinical.outcome_measures import ScoringError, score
from shared.events import outbox

COMPLETED_BY = ("staff", "patient")


def _json(value: Any) -> Any:
    """Dataclasses, tuples and dates as JSON types (what is stored and what events carry)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def scored_baseline(baseline: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    scored, errors = [], {}
    for i, answer in enumerate(baseline):
        try:
            scored.append({**answer, "score": score(answer["measure"], answer["items"])})
        except ScoringError as error:
            errors[f"baseline[{i}].items"] = [str(error)]
    if errors:
        raise Invalid(errors)
    return scored


def result_from(stored: dict[str, Any]) -> ScreeningResult:
    reasons = tuple(
        Reason(**{**r, "modifications": tuple(r.get("modifications", ()))})
        for r in stored["reasons"]
    )
    lists = ("excluded_areas", "modifications", "requires_clearance_for", "cleared")
    return ScreeningResult(stored["outcome"], reasons, *(tuple(stored.get(k, ())) for k in lists))


def screening_data(stored: dict[str, Any]) -> dict[str, Any]:
    reasons = [{k: r[k] for k in ("rule_id", "tier", "label", "detail")} for r in stored["reasons"]]
    lists = ("excluded_areas", "modifications", "requires_clearance_for")
    return {"outcome": stored["outcome"], "reasons": reasons, **{k: stored[k] for k in lists}}


def intake_data(intake: dict[str, Any]) -> dict[str, Any]:
    """`intake.completed` (and, with the clearance, `intake.screening_updated`)."""
    terms = intake["referral_terms"]
    return {
        "intake_id": intake["_id"],
        "referral_id": intake["referral_id"],
        "patient_id": intake["patient_id"],
        "location_id": intake["location_id"],
        "completed_by": intake["completed_by"],
        "screening": screening_data(intake["screening"]),
        "baseline": [{"measure": b["measure"], "score": b["score"]} for b in intake["baseline"]],
        "referral": {
            "authorized_visits": terms["authorized_visits"],
            "valid_from": terms["valid_from"],
            "expires_on": terms["expires_on"],
            "diagnoses": referral_events.diagnoses_of(terms),
            "body_sites": terms.get("body_sites", []),
            "referrer": {k: referral_events.referrer_of(terms)[k] for k in ("name", "email")},
        },
        "body_areas": intake["body_areas"],
        "completed_at": intake["completed_at"].isoformat(),
    }


def complete_intake(
    db: Database,
    *,
    tenant_id: str,
    referral_id: str,
    form: dict[str, Any],
    completed_by: str,
    actor: str,
    locations: Collection[str] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Complete the intake of an accepted referral with a loaded `IntakeFormSchema` form."""
    if completed_by not in COMPLETED_BY:
        raise ValueError(f"completed_by must be one of {COMPLETED_BY}")
    referral = Referrals(db, tenant_id).get(referral_id, locations)
    if referral is None:
        raise NotFound(f"referral {referral_id!r}")
    if referral["status"] != "accepted":
        raise Conflict(f"the referral is {referral['status']}")
    now = datetime.now(UTC)
    result = screen(screening_input(form, today or now.date()))
    consent = form["consent"]
    intake = {
        "_id": storage.new_id("int"),
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
    event = events.internal("intake.completed", tenant_id, intake_data(intake), intake["_id"])
    try:
        Intakes(db, tenant_id).insert({**intake, **outbox.pending([event])})
    except DuplicateKeyError:
        raise Conflict(
            "this referral's intake is complete; its signed consent cannot change"
        ) from None
    channels = {"email": consent["email"], "sms": consent["sms"]}
    patients.change_consent(db, tenant_id, referral["patient_id"], channels, source="intake")
    _audit(db, actor, tenant_id, "intake.complete", intake["_id"])
    return intake


def record_clearance(
    db: Database,
    *,
    tenant_id: str,
    intake_id: str,
    rule_ids: list[str],
    note: str,
    by: str,
    actor: str,
    locations: Collection[str] | None = None,
) -> dict[str, Any]:
    """Record that a physician (`by`) cleared these `clearance`-tier rules; re-issues the screening.

    `actor` is the staff member who recorded it (kept with the clearance and in the audit).
    """
    repo = Intakes(db, tenant_id)
    intake = repo.get(intake_id, locations)
    if intake is None:
        raise NotFound(f"intake {intake_id!r}")
    try:
        result = apply_clearance(result_from(intake["screening"]), rule_ids)
    except ClearanceError as error:
        raise Invalid.one("rule_ids", str(error)) from None
    clearance = {"by": by, "at": datetime.now(UTC), "note": note, "rule_ids": sorted(set(rule_ids))}
    updated = {**intake, "screening": _json(asdict(result)), "version": intake["version"] + 1}
    data = {**intake_data(updated), "clearance": _json(clearance)}
    event = events.internal("intake.screening_updated", tenant_id, data, intake_id)
    update = {
        "$set": {"screening": updated["screening"], "version": updated["version"]},
        "$push": {"clearances": {**clearance, "recorded_by": actor}},
    }
    guarded = {"_id": intake_id, "version": intake["version"]}
    if not repo.update(guarded, outbox.with_events(update, [event])).matched_count:
        raise Conflict("the intake changed meanwhile; reload and try again")
    _audit(db, actor, tenant_id, "intake.clearance", intake_id)
    return {**updated, "clearances": [*intake["clearances"], {**clearance, "recorded_by": actor}]}


def _audit(db: Database, actor: str, tenant_id: str, action: str, intake_id: str) -> None:
    audit.record(
        db,
        actor=actor,
        tenant_id=tenant_id,
        action=action,
        object_type="intake",
        object_id=intake_id,
    )
