"""The intake form: what staff (now) and the patient web form (later) submit to `complete_intake`.

Checklist flags (conditions, local findings, dated events) are the names the contraindication
rules table uses, so a misspelt flag is refused instead of silently passing the screening.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import fields, validate

from services.intake.domain.screening import (
    DEFAULT_RULES,
    Event,
    LocalFinding,
    Pregnancy,
    RuleSet,
    ScreeningInput,
    Surgery,
)
from services.intake.partner_forms.native import Strict
from shared.clinical.outcome_measures import MEASURES


def _flags(criterion: str, rules: RuleSet = DEFAULT_RULES) -> list[str]:
    found: list[str] = []
    for rule in rules.rules:
        spec = rule.match.get(criterion)
        found += spec["events"] if isinstance(spec, dict) else (spec or [])
    return sorted(set(found))


CONDITIONS = _flags("conditions")
LOCAL_FINDINGS = _flags("local_findings")
DATED_EVENTS = _flags("events_within_days")


def _area() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=60))


def _list(field: fields.Field, most: int = 30) -> fields.List:
    return fields.List(field, load_default=list, validate=validate.Length(max=most))


class SurgerySchema(Strict):
    performed_on = fields.Date(required=True)
    body_area = _area()


class DatedEventSchema(Strict):
    condition = fields.String(required=True, validate=validate.OneOf(DATED_EVENTS))
    occurred_on = fields.Date(required=True)


class LocalFindingSchema(Strict):
    condition = fields.String(required=True, validate=validate.OneOf(LOCAL_FINDINGS))
    body_area = _area()


class PregnancySchema(Strict):
    trimester = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=3))
    high_risk = fields.Boolean(load_default=False)


class HistorySchema(Strict):
    conditions = _list(fields.String(validate=validate.OneOf(CONDITIONS)))
    surgeries = _list(fields.Nested(SurgerySchema))
    events = _list(fields.Nested(DatedEventSchema))
    local_findings = _list(fields.Nested(LocalFindingSchema))
    pregnancy = fields.Nested(PregnancySchema, load_default=None, allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class BloodPressureSchema(Strict):
    systolic = fields.Integer(required=True, strict=True, validate=validate.Range(min=50, max=300))
    diastolic = fields.Integer(required=True, strict=True, validate=validate.Range(min=30, max=200))


class VitalsSchema(Strict):
    temperature_c = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=30, max=45)
    )
    blood_pressure = fields.Nested(BloodPressureSchema, load_default=None, allow_none=True)


class SymptomSchema(Strict):
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    body_area = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    severity = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=10)
    )


class BaselineSchema(Strict):
    measure = fields.String(required=True, validate=validate.OneOf(sorted(MEASURES)))
    items = fields.List(
        fields.Float(allow_none=True, allow_nan=False),
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Answers in the measure's order; null for an unanswered item"},
    )


class SignedConsentSchema(Strict):
    signed_by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    agreed = fields.Boolean(required=True, validate=validate.Equal(True))
    text_version = fields.String(load_default="v1", validate=validate.Length(max=40))
    email = fields.Boolean(required=True, metadata={"description": "Email OK"})
    sms = fields.Boolean(required=True, metadata={"description": "Text OK"})


class IntakeFormSchema(Strict):
    history = fields.Nested(HistorySchema, load_default=dict)
    medications = _list(fields.String(validate=validate.Length(min=1, max=200)), 50)
    symptoms = _list(fields.Nested(SymptomSchema))
    vitals = fields.Nested(VitalsSchema, load_default=dict)
    body_areas = _list(fields.String(validate=validate.Length(min=1, max=60)))
    baseline = _list(fields.Nested(BaselineSchema), len(MEASURES))
    consent = fields.Nested(SignedConsentSchema, required=True)


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
