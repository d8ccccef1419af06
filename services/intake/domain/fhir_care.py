"""The care a referral's FHIR Task reports (`fhir_task`): its `output` and `contained` resources.

- the plan of care (LOINC 18776-5): a contained `CarePlan` (the sessions and techniques) with
  its `Goal`s (a target per outcome measure, and whether the latest outcome reached it);
- each progress report (LOINC 11506-3): one contained `Observation` per outcome measure, coded
  in LOINC where the measure has a code (`shared.clinical.outcome_measures`), the latest score
  as `valueQuantity` (UCUM `{score}`, or `%` for the measures stored as a percent: ODI, NDI),
  `interpretation` B (better) when the change reached the MCID, baseline and change in `note`;
- the discharge summary (LOINC 18842-5): its text, and the outcomes at discharge as above.

Pure: built from the milestones kept on the referral (`milestones`), in the order care happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.intake.domain import milestones as ms
from shared.clinical.outcome_measures import MEASURES

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PLAN_OF_CARE = ("18776-5", "Plan of care note")
PROGRESS_NOTE = ("11506-3", "Progress note")
DISCHARGE_SUMMARY = ("18842-5", "Discharge summary")
CANCELLED = "cancelled"
"""Care as the Task sees it when the referral was cancelled (beside `milestones.CARE_STATUSES`)."""

_CAREPLAN_STATUS = {
    ms.IN_PROGRESS: "active", ms.COMPLETED: "completed", ms.DISCONTINUED: "revoked",
    CANCELLED: "revoked",
}  # fmt: skip
_GOAL_STATUS = {
    ms.IN_PROGRESS: "active", ms.COMPLETED: "completed", ms.DISCONTINUED: "cancelled",
    CANCELLED: "cancelled",
}  # fmt: skip


def care_outputs(
    kept: Sequence[Mapping[str, Any]], patient: Mapping[str, Any], care: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(contained, output) of a Task whose referral kept these milestones; `patient` is the
    reference to the patient, `care` where care stands (or `cancelled`)."""
    builder = _Outputs(patient, care)
    builder.add_plan(ms.of_kind(kept, ms.PLAN_APPROVED), _latest_measures(kept))
    builder.add_progress(ms.of_kind(kept, ms.PROGRESS_REPORTED))
    builder.add_discharge(ms.of_kind(kept, ms.DISCHARGED))
    return builder.contained, builder.outputs


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
    return {ms.COMPLETED: "completed", ms.DISCONTINUED: "stopped", CANCELLED: "cancelled"}.get(
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
