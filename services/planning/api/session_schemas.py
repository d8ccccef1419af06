"""Schemas of the sessions endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.planning.api.validation import (
    ID,
    LABEL,
    LOCAL_TIMES,
    MEASURE,
    SESSION_MINUTES,
    TEXT,
    Strict,
    labels,
)
from services.planning.domain.session_record import PRESSURE_LEVELS

# --- sessions ----------------------------------------------------------------------------------


class ScheduleArgs(Strict):
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


class RescheduleArgs(Strict):
    starts_at_local = fields.NaiveDateTime(required=True, validate=LOCAL_TIMES)
    duration_minutes = fields.Integer(validate=SESSION_MINUTES)
    therapist_id = fields.String(validate=ID)
    room_id = fields.String(allow_none=True, validate=ID)
    location_id = fields.String(validate=ID)


class CancelArgs(Strict):
    cancelled_by = fields.String(required=True, validate=validate.OneOf(["patient", "clinic"]))
    reason = fields.String(load_default=None, allow_none=True, validate=LABEL)


class SoapInput(Strict):
    subjective = fields.String(required=True, validate=TEXT)
    objective = fields.String(required=True, validate=TEXT)
    assessment = fields.String(required=True, validate=TEXT)
    plan = fields.String(required=True, validate=TEXT)


class MeasurementInput(Strict):
    measure = fields.String(required=True, validate=MEASURE)
    score = fields.Float(allow_nan=False, metadata={"description": "the score, or give items"})
    items = fields.List(
        fields.Integer(allow_none=True, validate=validate.Range(min=-1000, max=1000)),
        validate=validate.Length(max=20),
        metadata={"description": "questionnaire answers (null: unanswered)"},
    )


class CompleteSessionArgs(Strict):
    soap = fields.Nested(SoapInput, required=True)
    techniques = fields.List(
        fields.String(validate=LABEL), required=True, validate=validate.Length(min=1, max=20)
    )
    areas = labels(load_default=list)
    pressure = fields.String(load_default=None, validate=validate.OneOf(PRESSURE_LEVELS))
    response = fields.String(load_default="", validate=TEXT)
    measurements = fields.List(
        fields.Nested(MeasurementInput), load_default=list, validate=validate.Length(max=10)
    )


class SessionListArgs(Strict):
    start = fields.AwareDateTime(
        data_key="from", metadata={"description": "UTC or with an offset; default: now"}
    )
    end = fields.AwareDateTime(
        data_key="to", metadata={"description": "default: 7 days after `from`; at most 31 days"}
    )
    therapist_id = fields.String(validate=ID)
    location_id = fields.String(validate=ID)
    room_id = fields.String(validate=ID)
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1))


class SessionOut(Schema):
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


class RecordOut(Schema):
    soap = fields.Dict(keys=fields.String(), values=fields.String())
    techniques = fields.List(fields.String())
    areas = fields.List(fields.String())
    pressure = fields.String(allow_none=True)
    response = fields.String()


class MeasurementOut(Schema):
    measure = fields.String()
    score = fields.Float()
    items = fields.List(fields.Integer(allow_none=True), allow_none=True)


class SessionDetailOut(SessionOut):
    record = fields.Nested(RecordOut, allow_none=True)
    measurements = fields.List(fields.Nested(MeasurementOut))
    completed_at = fields.DateTime(allow_none=True)
