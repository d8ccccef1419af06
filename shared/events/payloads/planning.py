"""The data of planning's events (docs/events.md, "planning"), built by services/planning/events.py.

Every one carries `plan_id, referral_id, patient_id, location_id` (`PlanPayload`); a session
event's `location_id` is the session's location.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.events.payloads import Payload


def _text(**kwargs: Any) -> fields.String:
    return fields.String(required=True, **kwargs)


def _whole(**kwargs: Any) -> fields.Integer:
    return fields.Integer(required=True, strict=True, **kwargs)


def _number(**kwargs: Any) -> fields.Float:
    return fields.Float(required=True, allow_nan=False, **kwargs)


class PlanPayload(Payload):
    plan_id = _text()
    referral_id = _text()
    patient_id = _text()
    location_id = _text()


class Reason(Payload):
    rule_id = _text()
    tier = _text()
    label = _text()
    detail = _text()


class Referrer(Payload):
    name = _text(allow_none=True)
    email = _text(allow_none=True)


class DraftedGoal(Payload):
    measure = _text()
    baseline = _number()
    target = _number()
    due_on = fields.Date(required=True)


class SummaryGoal(Payload):
    measure = _text()
    baseline = _number()
    target = _number()


class MeasurePoint(Payload):
    score = _number()
    taken_at = fields.DateTime(required=True, metadata={"description": "UTC"})


class MeasureProgress(Payload):
    measure = _text()
    baseline = _number()
    latest = _number()
    change = _number()
    percent_change = _number(allow_none=True)
    clinically_improved = fields.Boolean(required=True)
    target = _number(allow_none=True)
    goal_met = fields.Boolean(required=True)
    points = fields.List(
        fields.Nested(MeasurePoint),
        metadata={"description": "progress.updated: every measurement, oldest first"},
    )


class PlanSummary(Payload):
    techniques = fields.List(_text(), required=True)
    planned_sessions = _whole()
    frequency_per_week = _whole()
    goals = fields.List(fields.Nested(SummaryGoal), required=True)


class PlanDraftedPayload(PlanPayload):
    techniques = fields.List(_text(), required=True, metadata={"description": "names"})
    session_minutes = _whole()
    frequency_per_week = _whole()
    planned_sessions = _whole()
    start_on = fields.Date(required=True)
    end_on = fields.Date(required=True)
    goals = fields.List(fields.Nested(DraftedGoal), required=True)
    version = _whole()


class PlanHeldPayload(PlanPayload):
    reasons = fields.List(fields.Nested(Reason), required=True)
    awaiting = fields.List(_text(), required=True, metadata={"description": "rule ids"})


class PlanCannotPlanPayload(PlanPayload):
    reasons = fields.List(fields.Nested(Reason), required=True)


class PlanActivatedPayload(PlanPayload):
    referrer = fields.Nested(Referrer, required=True)
    summary = fields.Nested(PlanSummary, required=True)


class PlanClosedPayload(PlanPayload):
    """`plan.completed` and `plan.discontinued`: the outcomes at closing."""

    referrer = fields.Nested(Referrer, required=True)
    measures = fields.List(fields.Nested(MeasureProgress), required=True)
    sessions_completed = _whole()
    reason = _text()


class SessionPayload(PlanPayload):
    session_id = _text()
    therapist_id = _text()
    room_id = _text(allow_none=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "UTC, ISO 8601"})
    duration_minutes = _whole()
    location_name = _text()
    location_tz = _text(metadata={"description": "IANA time zone"})
    cancelled_by = _text(allow_none=True, validate=validate.OneOf(["patient", "clinic"]))
    booked_by = _text(validate=validate.OneOf(["staff", "patient"]))


class SessionRescheduledPayload(SessionPayload):
    previous_starts_at = fields.AwareDateTime(required=True)


class ProgressUpdatedPayload(PlanPayload):
    referrer = fields.Nested(Referrer, required=True)
    measures = fields.List(fields.Nested(MeasureProgress), required=True)
    newly_improved = fields.List(_text(), required=True, metadata={"description": "measures"})
    sessions_completed = _whole()
    baseline_at = fields.DateTime(metadata={"description": "when the baseline was taken (UTC)"})


class ReferralExpiredPayload(PlanPayload):
    expires_on = fields.Date(required=True, metadata={"description": "the last valid day"})
    visits_used = _whole()
    authorized_visits = _whole()


class ReferralExpiringPayload(ReferralExpiredPayload):
    kind = _text(validate=validate.OneOf(["visits", "days"]))
    remaining = _whole(metadata={"description": "0 visits: all authorized visits are used"})
