"""The data of the events intake publishes (docs/events.md, "intake"; docs/partners.md for status).

Built by `services/intake/events.py`; its tests check that what each builder emits loads, with
no field a schema lacks (`Payload` schemas leave unknown fields out, as events grow additively).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.events.payloads import Payload

OUTCOMES = ("clear", "modify", "local", "needs_clearance", "blocked")


def _text(**kwargs: Any) -> fields.String:
    return fields.String(required=True, **kwargs)


def _maybe() -> fields.String:
    return fields.String(required=True, allow_none=True)


def _date() -> fields.Date:
    return fields.Date(required=True)


class Address(Payload):
    lines = fields.List(fields.String(), required=True)
    city = _maybe()
    state = _maybe()
    postal_code = _maybe()
    country = _maybe()


class Room(Payload):
    room_id = _text()
    name = _text()


class LocationUpsertedPayload(Payload):
    tenant_id = _text()
    location_id = _text()
    name = _text()
    timezone = _text(metadata={"description": "IANA time zone"})
    address = fields.Nested(Address, required=True, allow_none=True)
    version = fields.Integer(required=True)
    rooms = fields.List(
        fields.Nested(Room),
        metadata={"description": "its rooms, in order; absent from events sent before rooms"},
    )


class PrincipalUpsertedPayload(Payload):
    key_hash = _text()
    key_id = _text()
    tenant_id = _text()
    role = _text()
    name = _text()
    locations = fields.List(fields.String(), required=True, allow_none=True)
    partner_id = _maybe()
    version = fields.Integer(required=True)


class PrincipalRevokedPayload(Payload):
    key_hash = _text()
    key_id = _text()
    tenant_id = _text()
    version = fields.Integer(required=True)


def _optional() -> fields.String:
    """A field added later: events from before it lack it."""
    return fields.String(load_default=None, allow_none=True)


USER_STATUSES = ("invited", "active", "disabled")


class UserUpdatedPayload(Payload):
    """`access.user_updated`: a staff user's access changed (disabled, role or locations);
    tokens of an older `version` are refused."""

    tenant_id = _text()
    user_id = _text()
    status = _text(validate=validate.OneOf(USER_STATUSES))
    role = _text()
    locations = fields.List(fields.String(), required=True, allow_none=True)
    version = fields.Integer(required=True)


class SessionEndedPayload(Payload):
    """`access.session_ended`: tokens of the session are refused until `expires_at`, when the
    last of them would have expired anyway."""

    tenant_id = _text()
    user_id = _text()
    staff_session_id = _text()
    reason = _text()
    expires_at = fields.DateTime(required=True)


class AccountLinkPayload(Payload):
    """`user.invited` and `user.password_reset_requested`: a single-use link for one staff
    member, sent to their own email (no patient data)."""

    user_id = _text()
    name = _text()
    email = fields.Email(required=True)
    tenant_name = _text()
    link = fields.Url(required=True, require_tld=False)
    expires_at = fields.DateTime(required=True)


class Referrer(Payload):
    name = _maybe()
    email = _maybe()
    phone = _maybe()
    organization = _maybe()
    prefix = _optional()
    family_name = _optional()


class Contact(Payload):
    given_name = _maybe()
    family_name = _maybe()
    email = _maybe()
    phone = _maybe()
    language = _maybe()


class ReferredContact(Contact):
    birth_date = fields.Date(load_default=None, allow_none=True)


class PatientIdentity(Payload):
    """Who a refused referral was for, when it could be read (for the referrer's letter)."""

    given_name = _maybe()
    family_name = _maybe()
    birth_date = fields.Date(required=True, allow_none=True)


class Consent(Payload):
    email = fields.Boolean(required=True)
    sms = fields.Boolean(required=True)


class Diagnosis(Payload):
    code = _text()
    display = _maybe()


class ReferralTermsPayload(Payload):
    """`referral.accepted` and `referral.amended`."""

    referral_id = _text()
    partner_id = _maybe()
    partner_referral_id = _text()
    patient_id = _text()
    location_id = _text()
    priority = _text()
    diagnoses = fields.List(fields.Nested(Diagnosis), required=True)
    authorized_visits = fields.Integer(required=True)
    valid_from = _date()
    expires_on = _date()
    body_sites = fields.List(fields.String(), required=True)
    referrer = fields.Nested(Referrer, required=True)
    patient = fields.Nested(ReferredContact, required=True)
    consent = fields.Nested(Consent, required=True)
    intake_link = fields.Url(required=True, require_tld=False)
    version = fields.Integer(required=True)
    clinic_name = _optional()


class Reason(Payload):
    field = _text()
    message = _text()


class ReferrerNameEmail(Payload):
    name = _maybe()
    email = _maybe()


class RefusedReferrer(ReferrerNameEmail):
    prefix = _optional()
    family_name = _optional()


class ReferralRejectedPayload(Payload):
    partner_id = _text()
    partner_referral_id = _maybe()
    reasons = fields.List(fields.Nested(Reason), required=True)
    referrer = fields.Nested(RefusedReferrer, required=True, allow_none=True)
    patient = fields.Nested(PatientIdentity, load_default=None, allow_none=True)
    clinic_name = _optional()


class ReferralCancelledPayload(Payload):
    referral_id = _text()
    partner_id = _maybe()
    partner_referral_id = _text()
    patient_id = _text()
    reason = fields.String(required=True)


class PatientRegisteredPayload(Payload):
    patient_id = _text()
    location_id = _text()
    contact = fields.Nested(Contact, required=True)
    consent = fields.Nested(Consent, required=True)


class PatientConsentChangedPayload(Payload):
    patient_id = _text()
    consent = fields.Nested(Consent, required=True)


class ScreeningReason(Payload):
    rule_id = _text()
    tier = _text()
    label = _text()
    detail = fields.String(required=True)


class Screening(Payload):
    outcome = _text(validate=validate.OneOf(OUTCOMES))
    reasons = fields.List(fields.Nested(ScreeningReason), required=True)
    excluded_areas = fields.List(fields.String(), required=True)
    modifications = fields.List(fields.String(), required=True)
    requires_clearance_for = fields.List(fields.String(), required=True)


class BaselineScore(Payload):
    measure = _text()
    score = fields.Float(required=True)


class IntakeReferral(Payload):
    authorized_visits = fields.Integer(required=True)
    valid_from = _date()
    expires_on = _date()
    diagnoses = fields.List(fields.Nested(Diagnosis), required=True)
    body_sites = fields.List(fields.String(), required=True)
    referrer = fields.Nested(ReferrerNameEmail, required=True)


class IntakeCompletedPayload(Payload):
    intake_id = _text()
    referral_id = _text()
    patient_id = _text()
    location_id = _text()
    completed_by = _text(validate=validate.OneOf(["staff", "patient"]))
    screening = fields.Nested(Screening, required=True)
    baseline = fields.List(fields.Nested(BaselineScore), required=True)
    referral = fields.Nested(IntakeReferral, required=True)
    body_areas = fields.List(fields.String(), required=True)
    completed_at = fields.DateTime(required=True)


class Clearance(Payload):
    by = _text()
    at = fields.DateTime(required=True)
    note = _text()
    rule_ids = fields.List(fields.String(), required=True)


class ScreeningUpdatedPayload(IntakeCompletedPayload):
    clearance = fields.Nested(Clearance, required=True)


class Answers(Payload):
    id = _maybe()
    source = _maybe()


class Pending(Payload):
    item = _text()
    message = _text()


class PartnerStatusPayload(Payload):
    """The status a partner hears on its own queue (`partner.status`; docs/partners.md).

    Not in the catalogue: partner traffic is a contract with partners, and its types share the
    names of internal ones (`referral.accepted`, `.rejected`, `.cancelled`). `answers` names the
    partner's message it answers (`{id, source}` of its CloudEvent); `pending` what a referral
    held for the clinic's review waits for; `notices` what was kept as sent but looks wrong.
    """

    partner_referral_id = _maybe()
    referral_id = _maybe()
    status = _text(validate=validate.OneOf(["received", "accepted", "rejected", "cancelled"]))
    reasons = fields.List(fields.Nested(Reason), required=True)
    pending = fields.List(fields.Nested(Pending), required=True)
    notices = fields.List(fields.Nested(Reason), required=True)
    version = fields.Integer(required=True, allow_none=True)
    answers = fields.Nested(Answers, required=True, allow_none=True)


class PlannedGoal(Payload):
    measure = _text()
    baseline = fields.Float(required=True)
    target = fields.Float(required=True)


class PlanOfCare(Payload):
    techniques = fields.List(fields.String(), required=True)
    planned_sessions = fields.Integer(required=True)
    frequency_per_week = fields.Integer(required=True)
    goals = fields.List(fields.Nested(PlannedGoal), required=True)


class MeasureOutcome(Payload):
    measure = _text()
    baseline = fields.Float(required=True)
    latest = fields.Float(required=True)
    change = fields.Float(required=True)
    percent_change = fields.Float(required=True, allow_none=True)
    clinically_improved = fields.Boolean(required=True)
    target = fields.Float(required=True, allow_none=True)
    goal_met = fields.Boolean(required=True)


class Progress(Payload):
    sessions_completed = fields.Integer(required=True)
    measures = fields.List(fields.Nested(MeasureOutcome), required=True)


class Discharge(Progress):
    outcome = _text(validate=validate.OneOf(["completed", "discontinued"]))
    reason = _text()


class PartnerMilestonePayload(PartnerStatusPayload):
    """A milestone of care on a native partner's queue (docs/partners.md, "Receiving status"):
    every status field (`answers`: the referral's latest partner message, as a milestone
    answers none of its own), `status` where care stands, and when it happened; each type adds
    its part (below)."""

    status = _text(validate=validate.OneOf(["in_progress", "completed", "discontinued"]))
    occurred_at = fields.AwareDateTime(required=True)


class PlanApprovedStatusPayload(PartnerMilestonePayload):
    plan = fields.Nested(PlanOfCare, required=True)


class ProgressReportedStatusPayload(PartnerMilestonePayload):
    progress = fields.Nested(Progress, required=True)


class DischargedStatusPayload(PartnerMilestonePayload):
    discharge = fields.Nested(Discharge, required=True)


PARTNER_STATUS_PAYLOADS: dict[str, type[Payload]] = {
    "referral.received": PartnerStatusPayload,
    "referral.accepted": PartnerStatusPayload,
    "referral.rejected": PartnerStatusPayload,
    "referral.cancelled": PartnerStatusPayload,
    "referral.plan_approved": PlanApprovedStatusPayload,
    "referral.progress_reported": ProgressReportedStatusPayload,
    "referral.discharged": DischargedStatusPayload,
}
"""Every type a partner hears on its status queue -> the schema of its native data. A partner
with FHIR status hears the same types as `application/fhir+json`, whose data is the referral's
FHIR R4 `Task` (or a refusal's): FHIR describes it, not a schema here (the tests check it with
fhir.resources: `testkit/fhir_validation.py`)."""
