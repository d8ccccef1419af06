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
- `output`: the plan of care (a contained CarePlan with its Goals), each progress report (one
  contained Observation per outcome measure, LOINC-coded where the measure has a code) and the
  discharge summary (its text and the outcomes at discharge).

Nothing beyond what the referrer is owed: no screening, session notes or internal plan ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake.domain import milestones as ms
from services.intake.domain.referral import NPI_SYSTEM
from shared.clinical.outcome_measures import MEASURES

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
OF_REFERRAL_STATUS = {"cancelled": "cancelled", "needs_review": "received", "declined": "rejected"}
"""Referral statuses that decide the Task's status whatever care has reached."""

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PLAN_OF_CARE = ("18776-5", "Plan of care note")
PROGRESS_NOTE = ("11506-3", "Progress note")
DISCHARGE_SUMMARY = ("18842-5", "Discharge summary")

_CAREPLAN_STATUS = {
    ms.IN_PROGRESS: "active", ms.COMPLETED: "completed", ms.DISCONTINUED: "revoked",
    "cancelled": "revoked",
}  # fmt: skip
_GOAL_STATUS = {
    ms.IN_PROGRESS: "active", ms.COMPLETED: "completed", ms.DISCONTINUED: "cancelled",
    "cancelled": "cancelled",
}  # fmt: skip
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
    builder = _Outputs(patient, _care_of(referral, kept))
    builder.add_plan(ms.of_kind(kept, ms.PLAN_APPROVED), _latest_measures(kept))
    builder.add_progress(ms.of_kind(kept, ms.PROGRESS_REPORTED))
    builder.add_discharge(ms.of_kind(kept, ms.DISCHARGED))
    task = _base(task_id(referral["_id"]), status, context)
    task.update(
        identifier=[{"system": _system(context, "referrals"), "value": referral["_id"]}],
        priority=terms.get("priority") or "routine",
        focus=_focus(referral.get("partner_referral_id")),
        authoredOn=_text(referral.get("received_at")) or ms.utc_text(context.now),
        requester=_requester_reference(terms.get("requester") or {}),
        contained=builder.contained,
        output=builder.outputs,
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
    return "cancelled" if referral.get("status") == "cancelled" else ms.care_status(kept)


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


class _Outputs:
    """Task.output and the resources it contains, in the order care happened."""

    def __init__(self, patient: Mapping[str, Any], care: str) -> None:
        self.patient, self.care = patient, care
        self.contained: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []

    def _output(self, kind: tuple[str, str], text: str, resource: dict[str, Any]) -> None:
        self.contained.append(resource)
        self.outputs.append(
            {
                "type": {
                    "coding": [{"system": LOINC, "code": kind[0], "display": kind[1]}],
                    "text": text,
                },
                "valueReference": {
                    "reference": f"#{resource['id']}",
                    "type": resource["resourceType"],
                },
            }
        )

    def add_plan(
        self, approvals: Sequence[Mapping[str, Any]], latest: Mapping[str, Mapping[str, Any]]
    ) -> None:
        if not approvals:
            return
        approved = approvals[-1]  # a plan approved again (after an amendment) replaces the first
        plan = approved["plan"]
        goals = [
            self._goal(i, goal, latest.get(goal["measure"]))
            for i, goal in enumerate(plan["goals"], 1)
        ]
        self.contained.extend(goals)
        sessions = f"{plan['planned_sessions']} sessions, {plan['frequency_per_week']} a week"
        careplan = {
            "resourceType": "CarePlan",
            "id": "careplan",
            "status": _CAREPLAN_STATUS.get(self.care, "active"),
            "intent": "plan",
            "title": "Medical massage plan of care",
            "description": f"{sessions}: {', '.join(plan['techniques'])}",
            "subject": self.patient,
            "period": {"start": approved["at"]},
            "goal": [{"reference": f"#{goal['id']}"} for goal in goals],
            "activity": [
                {
                    "detail": {
                        "code": {"text": "Medical massage session"},
                        "status": _activity_status(self.care),
                        "description": ", ".join(plan["techniques"]),
                        "scheduledTiming": {
                            "repeat": {
                                "count": plan["planned_sessions"],
                                "frequency": plan["frequency_per_week"],
                                "period": 1,
                                "periodUnit": "wk",
                            }
                        },
                    }
                }
            ],
        }
        self._output(PLAN_OF_CARE, "Plan of care", careplan)

    def _goal(
        self, index: int, goal: Mapping[str, Any], measured: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        measure = _measure(goal["measure"])
        direction = "or lower" if measure["better"] == "lower" else "or higher"
        return {
            "resourceType": "Goal",
            "id": f"goal-{index}",
            "lifecycleStatus": _GOAL_STATUS.get(self.care, "active"),
            "achievementStatus": _achievement(measured, self.care),
            "description": {
                "text": f"{measure['name']}: from {_number(goal['baseline'])} to "
                f"{_number(goal['target'])} {direction}"
            },
            "subject": self.patient,
            "target": [
                {
                    "measure": measure["concept"],
                    "detailQuantity": _quantity(goal["target"], measure),
                }
            ],
        }

    def add_progress(self, reports: Sequence[Mapping[str, Any]]) -> None:
        for number, report in enumerate(reports, 1):
            text = f"Progress report after {report['sessions_completed']} sessions"
            for index, measured in enumerate(report["measures"], 1):
                observation = self._observation(
                    f"progress-{number}-{index}", report["at"], measured
                )
                self._output(PROGRESS_NOTE, text, observation)

    def add_discharge(self, discharges: Sequence[Mapping[str, Any]]) -> None:
        if not discharges:
            return
        discharge = discharges[0]  # a plan is discharged once; a repeat changes nothing
        ended = "completed" if discharge["outcome"] == ms.COMPLETED else "stopped"
        summary = (
            f"Treatment {ended} after {discharge['sessions_completed']} sessions. "
            f"Reason: {discharge['reason']}"
        )
        self.outputs.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": LOINC,
                            "code": DISCHARGE_SUMMARY[0],
                            "display": DISCHARGE_SUMMARY[1],
                        }
                    ],
                    "text": "Discharge summary",
                },
                "valueString": summary,
            }
        )
        for index, measured in enumerate(discharge["measures"], 1):
            observation = self._observation(f"discharge-{index}", discharge["at"], measured)
            self._output(DISCHARGE_SUMMARY, "Outcome at discharge", observation)

    def _observation(self, id_: str, at: str, measured: Mapping[str, Any]) -> dict[str, Any]:
        measure = _measure(measured["measure"])
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": id_,
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                    ]
                }
            ],
            "code": measure["concept"],
            "subject": self.patient,
            "effectiveDateTime": at,
            "valueQuantity": _quantity(measured["latest"], measure),
            "note": [{"text": _progress_note(measured)}],
        }
        if measured.get("clinically_improved"):
            observation["interpretation"] = [
                {"coding": [{"system": INTERPRETATION, "code": "B", "display": "Better"}],
                 "text": "clinically improved (the change reached the MCID)"}
            ]  # fmt: skip
        return observation


def _latest_measures(kept: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each measure's latest outcome: at discharge, else in the latest progress report."""
    reports = [*ms.of_kind(kept, ms.PROGRESS_REPORTED), *ms.of_kind(kept, ms.DISCHARGED)[:1]]
    return {m["measure"]: m for report in reports for m in report["measures"]}


def _achievement(measured: Mapping[str, Any] | None, care: str) -> dict[str, Any] | None:
    if measured is None:
        return None
    ended = care in (ms.COMPLETED, ms.DISCONTINUED, "cancelled")
    code = "achieved" if measured.get("goal_met") else "not-achieved" if ended else "in-progress"
    return {"coding": [{"system": GOAL_ACHIEVEMENT, "code": code}]}


def _activity_status(care: str) -> str:
    return {ms.COMPLETED: "completed", ms.DISCONTINUED: "stopped", "cancelled": "cancelled"}.get(
        care, "in-progress"
    )


def _measure(code: str) -> dict[str, Any]:
    """The measure's name, FHIR concept (LOINC where it has a code), unit and direction."""
    spec = MEASURES.get(code)
    name = spec.name if spec else code
    coding = [{"system": LOINC, "code": spec.loinc, "display": name}] if spec and spec.loinc else []
    percent = spec is not None and spec.rule == "percent_of_answered"  # ODI, NDI: stored as %
    return {
        "name": f"{name} ({code})" if spec else code,
        "concept": {**({"coding": coding} if coding else {}), "text": name},
        "unit": ("%", "%") if percent else ("score", "{score}"),
        "better": spec.better if spec else "lower",
    }


def _quantity(value: float, measure: Mapping[str, Any]) -> dict[str, Any]:
    unit, code = measure["unit"]
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _progress_note(measured: Mapping[str, Any]) -> str:
    parts = [f"baseline {_number(measured['baseline'])}", f"change {_signed(measured['change'])}"]
    if measured.get("percent_change") is not None:
        parts[-1] += f" ({_signed(measured['percent_change'])} %)"
    parts.append(
        "clinically improved (MCID reached)"
        if measured.get("clinically_improved")
        else "not clinically improved yet"
    )
    if measured.get("target") is not None:
        met = "met" if measured.get("goal_met") else "not met"
        parts.append(f"goal {_number(measured['target'])} {met}")
    return "; ".join(parts)


def _number(value: float) -> str:
    return format(round(float(value), 1), "g")


def _signed(value: float) -> str:
    return format(round(float(value), 1), "+g")


def _pruned(resource: Any) -> Any:
    """Without empty values (FHIR forbids empty elements: no null, no [], no {})."""
    if isinstance(resource, dict):
        pruned = {k: _pruned(v) for k, v in resource.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {}, "")}
    if isinstance(resource, list):
        return [item for item in (_pruned(v) for v in resource) if item not in (None, [], {}, "")]
    return resource
