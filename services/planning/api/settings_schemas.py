"""Schemas of the clinic settings endpoint."""

from __future__ import annotations

from marshmallow import fields, validate

from services.planning.api.validation import Strict

# --- settings ----------------------------------------------------------------------------------


class AlertThresholdsIO(Strict):
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


class ReassessmentIO(Strict):
    every_sessions = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    every_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))


class SettingsIO(Strict):
    referral_alerts = fields.Nested(AlertThresholdsIO, required=True)
    reassessment = fields.Nested(ReassessmentIO, required=True)
