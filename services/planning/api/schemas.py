"""Every HTTP schema of planning: plans, sessions, the clinic's settings.

Names (docs/api.md): `<Resource>Schema` an answer, `<Resource><Action>Schema` a body,
`<Resource>QuerySchema` query arguments (lists build on `PageQuerySchema`; their answers are
`page_schema(<Resource>Schema)`). Bodies and queries are `Strict`: an unknown field (such as
`tenant_id`, `status` or `_id`) is refused with a 422 naming it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate

from services.planning.domain.plan_lifecycle import VISIBLE_STATUSES
from services.planning.domain.scheduling import LONGEST_SESSION_MINUTES
from services.planning.domain.session_record import PRESSURE_LEVELS
from shared.clinical.outcome_measures import MEASURES
from shared.schemas import ID, Strict
from shared.web.paging import PageQuerySchema

DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
LOCAL_TIMES = validate.Range(min=datetime(2000, 1, 1), max=datetime(2100, 12, 31))
TEXT = validate.Length(max=5000)
LABEL = validate.Length(min=1, max=200)
SESSION_MINUTES = validate.Range(min=15, max=LONGEST_SESSION_MINUTES)
MEASURE = validate.OneOf(sorted(MEASURES))
VERSION = validate.Range(min=0)
CALENDAR_DAYS = 7  # the calendar's window when `to` is not given
LONGEST_CALENDAR = timedelta(days=31)


def labels(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=LABEL), validate=validate.Length(max=30), **kwargs)


# --- plans: queries and bodies -----------------------------------------------------------------


class PlanQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(VISIBLE_STATUSES))
    location_id = fields.String(validate=ID)
    patient_id = fields.String(validate=ID)
    referral_id = fields.String(validate=ID)


class PlanVersionQuerySchema(PageQuerySchema):
    """A page of a plan's superseded versions."""


class TechniqueEditSchema(Strict):
    code = fields.String(required=True, validate=LABEL)
    notes = labels(load_default=list)


class GoalEditSchema(Strict):
    measure = fields.String(required=True, validate=MEASURE)
    target = fields.Float(required=True, allow_nan=False)
    due_on = fields.Date(required=True, validate=DATES)


class PlanEditSchema(Strict):
    version = fields.Integer(
        required=True,
        validate=VERSION,
        metadata={"description": "the version being edited (409 if the plan moved on)"},
    )
    techniques = fields.List(
        fields.Nested(TechniqueEditSchema), validate=validate.Length(min=1, max=20)
    )
    precautions = labels()
    treatment_areas = labels()
    session_minutes = fields.Integer(validate=SESSION_MINUTES)
    frequency_per_week = fields.Integer(validate=validate.Range(min=1, max=7))
    planned_sessions = fields.Integer(validate=validate.Range(min=1, max=200))
    start_on = fields.Date(validate=DATES)
    end_on = fields.Date(validate=DATES)
    goals = fields.List(fields.Nested(GoalEditSchema), validate=validate.Length(max=len(MEASURES)))
    notes = fields.String(validate=TEXT)


class PlanApproveSchema(Strict):
    version = fields.Integer(required=True, validate=VERSION)


class PlanCompleteSchema(PlanApproveSchema):
    reason = fields.String(load_default="treatment completed", validate=LABEL)


class PlanDiscontinueSchema(PlanApproveSchema):
    reason = fields.String(required=True, validate=LABEL)


# --- plans: answers ----------------------------------------------------------------------------


class ReasonSchema(Schema):
    rule_id = fields.String()
    tier = fields.String()
    label = fields.String()
    detail = fields.String()


class TechniqueSchema(Schema):
    code = fields.String()
    name = fields.String()
    notes = fields.List(fields.String())


class GoalSchema(Schema):
    measure = fields.String()
    better = fields.String()
    baseline = fields.Float()
    target = fields.Float()
    due_on = fields.String()


class DiagnosisSchema(Schema):
    code = fields.String()
    display = fields.String()


class PlanContentSchema(Schema):
    condition_group = fields.String()
    diagnoses = fields.List(fields.Nested(DiagnosisSchema))
    techniques = fields.List(fields.Nested(TechniqueSchema))
    precautions = fields.List(fields.String())
    excluded_areas = fields.List(fields.String())
    treatment_areas = fields.List(fields.String())
    session_minutes = fields.Integer()
    frequency_per_week = fields.Integer()
    planned_sessions = fields.Integer()
    start_on = fields.String()
    end_on = fields.String()
    goals = fields.List(fields.Nested(GoalSchema))
    notes = fields.String()


class ReferrerSchema(Schema):
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ReferralTermsSchema(Schema):
    authorized_visits = fields.Integer()
    valid_from = fields.String()
    expires_on = fields.String()
    diagnoses = fields.List(fields.Nested(DiagnosisSchema))
    body_sites = fields.List(fields.String())
    referrer = fields.Nested(ReferrerSchema)
    version = fields.Integer(metadata={"description": "0: as the intake carried it"})


class VisitsSchema(Schema):
    used = fields.Integer(metadata={"description": "scheduled and completed sessions"})
    authorized = fields.Integer()
    remaining = fields.Integer()


class ClosureSchema(Schema):
    reason = fields.String()
    by = fields.String()
    at = fields.DateTime()


class LastChangeSchema(Schema):
    by = fields.String(metadata={"description": "who: user:<user_id>, or system:<service>"})
    name = fields.String(allow_none=True, metadata={"description": "their name, when known"})
    at = fields.DateTime(allow_none=True)


class PlanSchema(Schema):
    plan_id = fields.String()
    referral_id = fields.String()
    patient_id = fields.String()
    location_id = fields.String()
    intake_id = fields.String()
    status = fields.String(metadata={"description": ", ".join(VISIBLE_STATUSES)})
    version = fields.Integer()
    reasons = fields.List(
        fields.Nested(ReasonSchema),
        metadata={"description": "why the plan is held or cannot be made"},
    )
    awaiting = fields.List(fields.String(), metadata={"description": "rules awaiting clearance"})
    content = fields.Nested(PlanContentSchema, allow_none=True)
    referral = fields.Nested(ReferralTermsSchema)
    baseline = fields.Dict(keys=fields.String(), values=fields.Float())
    visits = fields.Nested(VisitsSchema)
    sessions_completed = fields.Integer()
    closed = fields.Nested(ClosureSchema, allow_none=True)
    last_change = fields.Nested(
        LastChangeSchema, metadata={"description": "who made the current version, and when"}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PlanVersionSchema(Schema):
    version = fields.Integer()
    changed_fields = fields.List(fields.String())
    changed_by = fields.String()
    changed_at = fields.DateTime()
    snapshot = fields.Dict()


class MeasurePointSchema(Schema):
    score = fields.Float()
    taken_at = fields.DateTime()
    session_id = fields.String(allow_none=True)


class MeasureProgressSchema(Schema):
    measure = fields.String()
    baseline = fields.Float()
    latest = fields.Float()
    change = fields.Float()
    percent_change = fields.Float(allow_none=True)
    clinically_improved = fields.Boolean()
    target = fields.Float(allow_none=True)
    goal_met = fields.Boolean()
    points = fields.List(
        fields.Nested(MeasurePointSchema),
        metadata={"description": "every measurement since the baseline, oldest first"},
    )


class ReassessmentSchema(Schema):
    due = fields.Boolean()
    sessions_since = fields.Integer()
    last_assessed_at = fields.DateTime(allow_none=True)
    every_sessions = fields.Integer()
    every_days = fields.Integer()


class ProgressSchema(Schema):
    plan_id = fields.String()
    measures = fields.List(fields.Nested(MeasureProgressSchema))
    improved = fields.List(fields.String())
    goals_met = fields.List(fields.String())
    all_goals_met = fields.Boolean()
    sessions_completed = fields.Integer()
    visits = fields.Nested(VisitsSchema)
    days_remaining = fields.Integer(metadata={"description": "negative once expired"})
    reassessment = fields.Nested(ReassessmentSchema)


# --- sessions: queries and bodies --------------------------------------------------------------


class PlanSessionQuerySchema(PageQuerySchema):
    """A page of one plan's sessions."""


class SessionQuerySchema(PageQuerySchema):
    """The calendar: a window of at most 31 days, by starting time."""

    start = fields.AwareDateTime(
        data_key="from", metadata={"description": "UTC or with an offset; default: now"}
    )
    end = fields.AwareDateTime(
        data_key="to", metadata={"description": "default: 7 days after `from`; at most 31 days"}
    )
    therapist_id = fields.String(validate=ID)
    location_id = fields.String(validate=ID)
    room_id = fields.String(validate=ID, metadata={"description": "with its location_id"})

    @post_load
    def window(self, args: dict, **_: object) -> dict:
        args.setdefault("start", datetime.now(UTC))
        args.setdefault("end", args["start"] + timedelta(days=CALENDAR_DAYS))
        if not timedelta(0) < args["end"] - args["start"] <= LONGEST_CALENDAR:
            raise ValidationError("must be after from, and at most 31 days after it", "to")
        if "room_id" in args and "location_id" not in args:
            raise ValidationError(
                "give location_id too: a room is named within its location", "room_id"
            )
        return args


class SessionBookSchema(Strict):
    therapist_id = fields.String(required=True, validate=ID)
    room_id = fields.String(load_default=None, allow_none=True, validate=ID)
    location_id = fields.String(
        validate=ID, metadata={"description": "defaults to the plan's location"}
    )
    starts_at_local = fields.NaiveDateTime(
        required=True,
        validate=LOCAL_TIMES,
        metadata={"description": "wall-clock time at the location, e.g. 2026-03-02T09:30"},
    )
    duration_minutes = fields.Integer(
        validate=SESSION_MINUTES, metadata={"description": "defaults to the plan's"}
    )


class SessionRescheduleSchema(Strict):
    starts_at_local = fields.NaiveDateTime(required=True, validate=LOCAL_TIMES)
    duration_minutes = fields.Integer(validate=SESSION_MINUTES)
    therapist_id = fields.String(validate=ID)
    room_id = fields.String(allow_none=True, validate=ID)
    location_id = fields.String(validate=ID)


class SessionCancelSchema(Strict):
    cancelled_by = fields.String(required=True, validate=validate.OneOf(["patient", "clinic"]))
    reason = fields.String(load_default=None, allow_none=True, validate=LABEL)


class SoapNotesSchema(Strict):
    subjective = fields.String(required=True, validate=TEXT)
    objective = fields.String(required=True, validate=TEXT)
    assessment = fields.String(required=True, validate=TEXT)
    plan = fields.String(required=True, validate=TEXT)


class MeasurementEntrySchema(Strict):
    measure = fields.String(required=True, validate=MEASURE)
    score = fields.Float(allow_nan=False, metadata={"description": "the score, or give items"})
    items = fields.List(
        fields.Integer(allow_none=True, validate=validate.Range(min=-1000, max=1000)),
        validate=validate.Length(max=20),
        metadata={"description": "questionnaire answers (null: unanswered)"},
    )


class SessionCompleteSchema(Strict):
    soap = fields.Nested(SoapNotesSchema, required=True)
    techniques = fields.List(
        fields.String(validate=LABEL), required=True, validate=validate.Length(min=1, max=20)
    )
    areas = labels(load_default=list)
    pressure = fields.String(load_default=None, validate=validate.OneOf(PRESSURE_LEVELS))
    response = fields.String(load_default="", validate=TEXT)
    measurements = fields.List(
        fields.Nested(MeasurementEntrySchema), load_default=list, validate=validate.Length(max=10)
    )


# --- sessions: answers -------------------------------------------------------------------------


class SessionSchema(Schema):
    session_id = fields.String()
    plan_id = fields.String()
    patient_id = fields.String()
    location_id = fields.String()
    location_name = fields.String()
    location_tz = fields.String()
    therapist_id = fields.String()
    room_id = fields.String(allow_none=True)
    starts_at = fields.DateTime()
    starts_at_local = fields.String(metadata={"description": "ISO 8601 with the local offset"})
    ends_at = fields.DateTime()
    duration_minutes = fields.Integer()
    status = fields.String()
    booked_by = fields.String()
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class SessionRecordSchema(Schema):
    soap = fields.Dict(keys=fields.String(), values=fields.String())
    techniques = fields.List(fields.String())
    areas = fields.List(fields.String())
    pressure = fields.String(allow_none=True)
    response = fields.String()


class MeasurementSchema(Schema):
    measure = fields.String()
    score = fields.Float()
    items = fields.List(fields.Integer(allow_none=True), allow_none=True)


class SessionDetailSchema(SessionSchema):
    """A session with its notes and measurements."""

    record = fields.Nested(SessionRecordSchema, allow_none=True)
    measurements = fields.List(fields.Nested(MeasurementSchema))
    completed_at = fields.DateTime(allow_none=True)


# --- the clinic's settings ---------------------------------------------------------------------


class AlertThresholdsSchema(Strict):
    visits_remaining = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=100)),
        required=True,
        validate=validate.Length(max=5),
    )
    days_remaining = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=365)),
        required=True,
        validate=validate.Length(max=5),
    )


class ReassessmentPolicySchema(Strict):
    every_sessions = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    every_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))


class ClinicSettingsSchema(Strict):
    """Referral alert thresholds and the re-assessment policy of the clinic."""

    referral_alerts = fields.Nested(AlertThresholdsSchema, required=True)
    reassessment = fields.Nested(ReassessmentPolicySchema, required=True)


class ClinicSettingsReplaceSchema(ClinicSettingsSchema):
    """The whole of the clinic's settings, replacing what it had."""


# --- a patient's plans (the console's chart) -----------------------------------------------------


class PatientPlanQuerySchema(PageQuerySchema):
    """A page of one patient's plans."""


class PatientPlanSchema(PlanSchema):
    """A plan with its sessions (with notes and measurements for clinicians) and its progress."""

    sessions = fields.List(fields.Nested(SessionDetailSchema))
    measures = fields.List(
        fields.Nested(MeasureProgressSchema),
        metadata={"description": "progress per measure (admins and therapists; else empty)"},
    )
