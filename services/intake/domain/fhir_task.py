"""The FHIR R4 `Task` a partner with FHIR status receives: one Task per referral, its current state.

Closed-loop referral (IHE 360X, HL7 BSeR) tracks a referral as a Task that the clinic (the
filler) keeps up to date: every status event of a FHIR partner carries the whole Task as it
stands, built here from the referral's stored state (`referral_task`), or from a refusal when
nothing was stored (`refusal_task`). Pure: no I/O; validated against fhir.resources (R4B) in
tests.

- `id`: the referral's id in FHIR's id alphabet (`ref_3f9a...` -> `ref-3f9a...`), so every update
  of one referral is the same Task; `identifier`: the referral's id under
  `<intake API>/referrals`;
- `status`: accepted, in-progress (plan of care approved, progress reports), completed (treatment
  completed), failed (treatment stopped), cancelled, rejected, received (held for review);
  `statusReason` says why where there is a why; `businessStatus` names the latest milestone;
- `intent: order`, `code: fulfill`, `focus`: the partner's ServiceRequest by its identifier;
  `for`, `requester` and `owner` by identifier and display (the patient and prescriber as the
  partner sent them, the clinic by name);
- `output`: the plan of care, each progress report and the discharge summary, with the
  resources they name contained (`fhir_care`).

Nothing beyond what the referrer is owed: no screening, session notes or internal plan ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake.domain import milestones as ms
from services.intake.domain.fhir_care import CANCELLED, care_outputs
from services.intake.domain.referral import NPI_SYSTEM

TASK_STATUSES = (
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
)  # fmt: skip
OF_CARE_STATUS = {
    ms.ACCEPTED: "accepted",
    ms.IN_PROGRESS: "in-progress",
    ms.COMPLETED: "completed",
    ms.DISCONTINUED: "failed",
}
OF_REFERRAL_STATUS = {"cancelled": "cancelled", "needs_review": "received", "rejected": "rejected"}
"""Referral statuses that decide the Task's status whatever care has reached (`rejected`: a held
referral the clinic declined)."""

TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
_BUSINESS_STATUS = {
    ms.PLAN_APPROVED: "Plan of care approved",
    ms.PROGRESS_REPORTED: "Progress report after {sessions_completed} sessions",
    ms.DISCHARGED: "Discharged",
}


@dataclass(frozen=True)
class TaskContext:
    """What the Task needs besides the referral: the clinic, where our ids live, and now."""

    clinic_name: str
    tenant_id: str
    base_url: str  # the intake API's public URL: the namespace of our referral and clinic ids
    now: datetime


def task_id(referral_id: str) -> str:
    """A FHIR id (`[A-Za-z0-9-.]{1,64}`) for our referral id."""
    return referral_id.replace("_", "-")[:64]


def task_status(referral: Mapping[str, Any]) -> str:
    """The Task's status for the referral as stored: its own status first, then care's."""
    own = OF_REFERRAL_STATUS.get(referral.get("status", ""))
    return own or OF_CARE_STATUS[ms.care_status(referral.get("milestones") or [])]


def referral_task(
    referral: Mapping[str, Any],
    context: TaskContext,
    *,
    status: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The referral's Task as it stands; `status`/`reason` set them where the caller knows
    better than the stored state (e.g. `received` with what review is pending)."""
    status = status or task_status(referral)
    if status not in TASK_STATUSES:
        raise ValueError(f"{status!r} is not a FHIR Task status")
    terms = referral["terms"]
    kept = referral.get("milestones") or []
    patient = _patient_reference(terms.get("patient") or {})
    contained, outputs = care_outputs(kept, patient, _care_of(referral, kept))
    task = _base(task_id(referral["_id"]), status, context)
    task.update(
        identifier=[{"system": _system(context, "referrals"), "value": referral["_id"]}],
        priority=terms.get("priority") or "routine",
        focus=_focus(referral.get("partner_referral_id")),
        authoredOn=_text(referral.get("received_at")) or ms.utc_text(context.now),
        requester=_requester_reference(terms.get("requester") or {}),
        contained=contained,
        output=outputs,
        executionPeriod=_execution_period(kept),
        businessStatus=_business_status(kept),
        statusReason=_reason(reason or _default_reason(referral, kept, status)),
        **{"for": patient},
    )
    return _pruned(task)


def refusal_task(
    refusal_id: str,
    partner_referral_id: str | None,
    reasons: Sequence[Mapping[str, str]],
    context: TaskContext,
) -> dict[str, Any]:
    """A rejected Task for a message nothing was stored of: its id comes from the refusal."""
    task = _base(f"rej-{refusal_id}"[:64], "rejected", context)
    text = "; ".join(f"{r['field']}: {r['message']}" for r in reasons) or "refused"
    task.update(
        focus=_focus(partner_referral_id),
        authoredOn=ms.utc_text(context.now),
        statusReason=_reason(text),
    )
    return _pruned(task)


# --- the parts ---------------------------------------------------------------------------------


def _base(id_: str, status: str, context: TaskContext) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "id": id_,
        "status": status,
        "intent": "order",
        "code": {
            "coding": [
                {"system": TASK_CODE, "code": "fulfill", "display": "Fulfill the focal request"}
            ]
        },
        "lastModified": ms.utc_text(context.now),
        "owner": {
            "type": "Organization",
            "identifier": {"system": _system(context, "clinics"), "value": context.tenant_id},
            "display": context.clinic_name,
        },
    }


def _system(context: TaskContext, kind: str) -> str:
    return f"{context.base_url.rstrip('/')}/{kind}"


def _focus(partner_referral_id: str | None) -> dict[str, Any] | None:
    if not partner_referral_id:
        return None
    return {"type": "ServiceRequest", "identifier": {"value": partner_referral_id}}


def _patient_reference(patient: Mapping[str, Any]) -> dict[str, Any]:
    names = [*(patient.get("given_name") or "").split(), patient.get("family_name") or ""]
    identifier = next((i for i in patient.get("identifiers") or [] if i.get("value")), None)
    reference: dict[str, Any] = {"type": "Patient", "display": " ".join(n for n in names if n)}
    if identifier:
        reference["identifier"] = {
            k: identifier[k] for k in ("system", "value") if identifier.get(k)
        }
    return reference


def _requester_reference(requester: Mapping[str, Any]) -> dict[str, Any] | None:
    display = " ".join(p for p in (requester.get("prefix"), requester.get("name")) if p)
    if not display and not requester.get("npi"):
        return None
    reference: dict[str, Any] = {"type": "Practitioner", "display": display or None}
    if requester.get("npi"):
        reference["identifier"] = {"system": NPI_SYSTEM, "value": requester["npi"]}
    return reference


def _care_of(referral: Mapping[str, Any], kept: Sequence[Mapping[str, Any]]) -> str:
    return CANCELLED if referral.get("status") == "cancelled" else ms.care_status(kept)


def _execution_period(kept: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    starts = [m["at"] for m in ms.of_kind(kept, ms.PLAN_APPROVED)]
    ends = [m["at"] for m in ms.of_kind(kept, ms.DISCHARGED)]
    if not starts and not ends:
        return None
    return {"start": min(starts) if starts else None, "end": max(ends) if ends else None}


def _business_status(kept: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    if not kept:
        return None
    latest = max(kept, key=lambda m: m["at"])
    return {"text": _BUSINESS_STATUS[latest["kind"]].format(**latest)}


def _default_reason(
    referral: Mapping[str, Any], kept: Sequence[Mapping[str, Any]], status: str
) -> str | None:
    if status == "cancelled":
        return (referral.get("cancellation") or {}).get("reason") or "cancelled"
    discharge = next(iter(ms.of_kind(kept, ms.DISCHARGED)), None)
    return discharge["reason"] if discharge and status in ("failed", "completed") else None


def _reason(text: str | None) -> dict[str, str] | None:
    return {"text": text} if text else None


def _text(value: Any) -> str | None:
    if isinstance(value, datetime):
        return ms.utc_text(value)
    return value if isinstance(value, str) else None


def _pruned(resource: Any) -> Any:
    """Without empty values (FHIR forbids empty elements: no null, no [], no {})."""
    if isinstance(resource, dict):
        pruned = {k: _pruned(v) for k, v in resource.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {}, "")}
    if isinstance(resource, list):
        return [item for item in (_pruned(v) for v in resource) if item not in (None, [], {}, "")]
    return resource
