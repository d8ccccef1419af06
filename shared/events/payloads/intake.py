"""The data of the events intake publishes (docs/events.md, "intake"; docs/partners.md for status).

Strict: a field the docs do not list is refused, so what the builders of
`services/intake/events.py` emit is exactly what is documented (tests load each with these).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.schemas import Strict

OUTCOMES = ("clear", "modify", "local", "needs_clearance", "blocked")


def _text(**kwargs: Any) -> fields.String:
    return fields.String(required=True, **kwargs)


def _maybe() -> fields.String:
    return fields.String(required=True, allow_none=True)


def _date() -> fields.Date:
    return fields.Date(required=True)


class AddressSchema(Strict):
    lines = fields.List(fields.String(), required=True)
    city = _maybe()
    state = _maybe()
    postal_code = _maybe()
    country = _maybe()


class LocationUpsertedSchema(Strict):
    tenant_id = _text()
    location_id = _text()
    name = _text()
    timezone = _text(metadata={"description": "IANA time zone"})
    address = fields.Nested(AddressSchema, required=True, allow_none=True)
    version = fields.Integer(required=True)


class PrincipalUpsertedSchema(Strict):
    key_hash = _text()
    key_id = _text()
    tenant_id = _text()
    role = _text()
    name = _text()
    locations = fields.List(fields.String(), required=True, allow_none=True)
    partner_id = _maybe()
    version = fields.Integer(required=True)


class PrincipalRevokedSchema(Strict):
    key_hash = _text()
    key_id = _text()
    tenant_id = _text()
    version = fields.Integer(required=True)


class ReferrerSchema(Strict):
    name = _maybe()
    email = _maybe()
    phone = _maybe()
    organization = _maybe()


class ContactSchema(Strict):
    given_name = _maybe()
    family_name = _maybe()
    email = _maybe()
    phone = _maybe()
    language = _maybe()


class ConsentSchema(Strict):
    email = fields.Boolean(required=True)
    sms = fields.Boolean(required=True)


class DiagnosisSchema(Strict):
    code = _text()
    display = _maybe()


class ReferralTermsSchema(Strict):
    """`referral.accepted` and `referral.amended`."""

    referral_id = _text()
    partner_id = _maybe()
    partner_referral_id = _text()
    patient_id = _text()
    location_id = _text()
    priority = _text()
    diagnoses = fields.List(fields.Nested(DiagnosisSchema), required=True)
    authorized_visits = fields.Integer(required=True)
    valid_from = _date()
    expires_on = _date()
    body_sites = fields.List(fields.String(), required=True)
    referrer = fields.Nested(ReferrerSchema, required=True)
    patient = fields.Nested(ContactSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True)
    intake_link = fields.Url(required=True, require_tld=False)
    version = fields.Integer(required=True)


class ReasonSchema(Strict):
    field = _text()
    message = _text()


class ReferrerNameEmailSchema(Strict):
    name = _maybe()
    email = _maybe()


class ReferralRejectedSchema(Strict):
    partner_id = _text()
    partner_referral_id = _maybe()
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    referrer = fields.Nested(ReferrerNameEmailSchema, required=True, allow_none=True)


class ReferralCancelledSchema(Strict):
    referral_id = _text()
    partner_id = _maybe()
    partner_referral_id = _text()
    patient_id = _text()
    reason = fields.String(required=True)


class PatientRegisteredSchema(Strict):
    patient_id = _text()
    location_id = _text()
    contact = fields.Nested(ContactSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True)


class PatientConsentChangedSchema(Strict):
    patient_id = _text()
    consent = fields.Nested(ConsentSchema, required=True)


class ScreeningReasonSchema(Strict):
    rule_id = _text()
    tier = _text()
    label = _text()
    detail = fields.String(required=True)


class ScreeningSchema(Strict):
    outcome = _text(validate=validate.OneOf(OUTCOMES))
    reasons = fields.List(fields.Nested(ScreeningReasonSchema), required=True)
    excluded_areas = fields.List(fields.String(), required=True)
    modifications = fields.List(fields.String(), required=True)
    requires_clearance_for = fields.List(fields.String(), required=True)


class BaselineScoreSchema(Strict):
    measure = _text()
    score = fields.Float(required=True)


class IntakeReferralSchema(Strict):
    authorized_visits = fields.Integer(required=True)
    valid_from = _date()
    expires_on = _date()
    diagnoses = fields.List(fields.Nested(DiagnosisSchema), required=True)
    body_sites = fields.List(fields.String(), required=True)
    referrer = fields.Nested(ReferrerNameEmailSchema, required=True)


class IntakeCompletedSchema(Strict):
    intake_id = _text()
    referral_id = _text()
    patient_id = _text()
    location_id = _text()
    completed_by = _text(validate=validate.OneOf(["staff", "patient"]))
    screening = fields.Nested(ScreeningSchema, required=True)
    baseline = fields.List(fields.Nested(BaselineScoreSchema), required=True)
    referral = fields.Nested(IntakeReferralSchema, required=True)
    body_areas = fields.List(fields.String(), required=True)
    completed_at = fields.DateTime(required=True)


class ClearanceSchema(Strict):
    by = _text()
    at = fields.DateTime(required=True)
    note = _text()
    rule_ids = fields.List(fields.String(), required=True)


class ScreeningUpdatedSchema(IntakeCompletedSchema):
    clearance = fields.Nested(ClearanceSchema, required=True)


class PartnerStatusSchema(Strict):
    """The status a partner hears on its own queue (`partner.status`; docs/partners.md).

    Not in the catalogue: partner traffic is a contract with partners, and its types share the
    names of internal ones (`referral.accepted`, `.rejected`, `.cancelled`).
    """

    partner_referral_id = _maybe()
    referral_id = _maybe()
    status = _text(validate=validate.OneOf(["accepted", "rejected", "cancelled"]))
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    version = fields.Integer(required=True, allow_none=True)


PAYLOADS = {
    "tenant.location_upserted": LocationUpsertedSchema,
    "access.principal_upserted": PrincipalUpsertedSchema,
    "access.principal_revoked": PrincipalRevokedSchema,
    "referral.accepted": ReferralTermsSchema,
    "referral.amended": ReferralTermsSchema,
    "referral.rejected": ReferralRejectedSchema,
    "referral.cancelled": ReferralCancelledSchema,
    "patient.registered": PatientRegisteredSchema,
    "patient.consent_changed": PatientConsentChangedSchema,
    "intake.completed": IntakeCompletedSchema,
    "intake.screening_updated": ScreeningUpdatedSchema,
}
