"""Schemas of the plans endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.planning.api.validation import (
    DATES,
    ID,
    LABEL,
    MEASURE,
    SESSION_MINUTES,
    TEXT,
    Strict,
    labels,
)
from services.planning.storage.plans import VISIBLE_STATUSES
from shared.clinical.outcome_measures import MEASURES

# --- plans: input ------------------------------------------------------------------------------


class PlanListArgs(Strict):
    status = fields.String(validate=validate.OneOf(VISIBLE_STATUSES))
    location_id = fields.String(validate=ID)
    patient_id = fields.String(validate=ID)
    referral_id = fields.String(validate=ID)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1),
        metadata={"description": "capped at the deployment's MAX_PAGE_SIZE"},
    )


class TechniqueInput(Strict):
    code = fields.String(required=True, validate=LABEL)
    notes = labels(load_default=list)


class GoalInput(Strict):
    measure = fields.String(required=True, validate=MEASURE)
    target = fields.Float(required=True, allow_nan=False)
    due_on = fields.Date(required=True, validate=DATES)


class PlanEditArgs(Strict):
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "the version being edited (409 if the plan moved on)"},
    )
    techniques = fields.List(fields.Nested(TechniqueInput), validate=validate.Length(min=1, max=20))
    precautions = labels()
    treatment_areas = labels()
    session_minutes = fields.Integer(validate=SESSION_MINUTES)
    frequency_per_week = fields.Integer(validate=validate.Range(min=1, max=7))
    planned_sessions = fields.Integer(validate=validate.Range(min=1, max=200))
    start_on = fields.Date(validate=DATES)
    end_on = fields.Date(validate=DATES)
    goals = fields.List(fields.Nested(GoalInput), validate=validate.Length(max=len(MEASURES)))
    notes = fields.String(validate=TEXT)


class VersionArgs(Strict):
    version = fields.Integer(required=True, validate=validate.Range(min=0))


class CompleteArgs(VersionArgs):
    reason = fields.String(load_default="treatment completed", validate=LABEL)


class DiscontinueArgs(VersionArgs):
    reason = fields.String(required=True, validate=LABEL)


# --- plans: output -----------------------------------------------------------------------------


class ReasonOut(Schema):
    rule_id = fields.String()
    tier = fields.String()
    label = fields.String()
    detail = fields.String()


class TechniqueOut(Schema):
    code = fields.String()
    name = fields.String()
    notes = fields.List(fields.String())


class GoalOut(Schema):
    measure = fields.String()
    better = fields.String()
    baseline = fields.Float()
    target = fields.Float()
    due_on = fields.String()


class DiagnosisOut(Schema):
    code = fields.String()
    display = fields.String()


class ContentOut(Schema):
    condition_group = fields.String()
    diagnoses = fields.List(fields.Nested(DiagnosisOut))
    techniques = fields.List(fields.Nested(TechniqueOut))
    precautions = fields.List(fields.String())
    excluded_areas = fields.List(fields.String())
    treatment_areas = fields.List(fields.String())
    session_minutes = fields.Integer()
    frequency_per_week = fields.Integer()
    planned_sessions = fields.Integer()
    start_on = fields.String()
    end_on = fields.String()
    goals = fields.List(fields.Nested(GoalOut))
    notes = fields.String()


class ReferrerOut(Schema):
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ReferralOut(Schema):
    authorized_visits = fields.Integer()
    valid_from = fields.String()
    expires_on = fields.String()
    diagnoses = fields.List(fields.Nested(DiagnosisOut))
    body_sites = fields.List(fields.String())
    referrer = fields.Nested(ReferrerOut)
    version = fields.Integer(metadata={"description": "0: as the intake carried it"})


class VisitsOut(Schema):
    used = fields.Integer(metadata={"description": "scheduled and completed sessions"})
    authorized = fields.Integer()
    remaining = fields.Integer()


class ClosedOut(Schema):
    reason = fields.String()
    by = fields.String()
    at = fields.DateTime()


class PlanOut(Schema):
    plan_id = fields.String()
    referral_id = fields.String()
    patient_id = fields.String()
    location_id = fields.String()
    intake_id = fields.String()
    status = fields.String(metadata={"description": ", ".join(VISIBLE_STATUSES)})
    version = fields.Integer()
    reasons = fields.List(
        fields.Nested(ReasonOut),
        metadata={"description": "why the plan is held or cannot be made"},
    )
    awaiting = fields.List(fields.String(), metadata={"description": "rules awaiting clearance"})
    content = fields.Nested(ContentOut, allow_none=True)
    referral = fields.Nested(ReferralOut)
    baseline = fields.Dict(keys=fields.String(), values=fields.Float())
    visits = fields.Nested(VisitsOut)
    sessions_completed = fields.Integer()
    closed = fields.Nested(ClosedOut, allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class HistoryEntryOut(Schema):
    version = fields.Integer()
    changed_fields = fields.List(fields.String())
    changed_by = fields.String()
    changed_at = fields.DateTime()
    snapshot = fields.Dict()


class MeasureProgressOut(Schema):
    measure = fields.String()
    baseline = fields.Float()
    latest = fields.Float()
    change = fields.Float()
    percent_change = fields.Float(allow_none=True)
    clinically_improved = fields.Boolean()
    target = fields.Float(allow_none=True)
    goal_met = fields.Boolean()


class ReassessmentOut(Schema):
    due = fields.Boolean()
    sessions_since = fields.Integer()
    last_assessed_at = fields.DateTime(allow_none=True)
    every_sessions = fields.Integer()
    every_days = fields.Integer()


class ProgressOut(Schema):
    plan_id = fields.String()
    measures = fields.List(fields.Nested(MeasureProgressOut))
    improved = fields.List(fields.String())
    goals_met = fields.List(fields.String())
    all_goals_met = fields.Boolean()
    sessions_completed = fields.Integer()
    visits = fields.Nested(VisitsOut)
    days_remaining = fields.Integer(metadata={"description": "negative once expired"})
    reassessment = fields.Nested(ReassessmentOut)
