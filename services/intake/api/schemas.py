"""HTTP input and output schemas of the intake API (the partner forms are in services/intake/schemas.py)."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, fields, validate

from services.intake.partner_forms.native import AddressSchema, ConsentSchema, Strict
from shared.web.auth import ROLES


def _id() -> fields.String:
    return fields.String(attribute="_id", data_key="id", dump_only=True)


def _date(description: str = "YYYY-MM-DD") -> fields.String:
    return fields.String(metadata={"format": "date", "description": description})


class JsonDict(fields.Dict):
    """A stored sub-document, with its datetimes as ISO 8601 strings."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else json.loads(json.dumps(value, default=_iso))


def _iso(value: Any) -> str:
    return value.isoformat()


# --- admin -------------------------------------------------------------------------------------


class LocationInSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    timezone = fields.String(
        required=True, metadata={"example": "America/New_York", "description": "IANA time zone"}
    )
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True)


class LocationSchema(Schema):
    location_id = fields.String()
    name = fields.String()
    timezone = fields.String()
    address = fields.Dict(allow_none=True)
    version = fields.Integer()


class TenantSchema(Schema):
    id = _id()
    name = fields.String()
    locations = fields.List(fields.Nested(LocationSchema))
    version = fields.Integer()


class KeyInSchema(Strict):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    locations = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Location ids the key may see; omitted or null: every location"},
    )
    partner_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=63)
    )


class KeySchema(Schema):
    key_id = fields.String()
    role = fields.String()
    name = fields.String()
    locations = fields.List(fields.String(), allow_none=True)
    partner_id = fields.String(allow_none=True)
    revoked = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()


class NewKeySchema(KeySchema):
    key = fields.String(metadata={"description": "The API key; shown only once, never stored"})


class PartnerSchema(Schema):
    id = _id()
    name = fields.String()


# --- referrals ---------------------------------------------------------------------------------


class ReceiptSchema(Schema):
    referral_id = fields.String()
    patient_id = fields.String()
    outcome = fields.String(metadata={"description": "accepted, amended, duplicate or cancelled"})
    status = fields.String(metadata={"description": "accepted or cancelled"})
    version = fields.Integer()


class CancelSchema(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class HistoryEntrySchema(Schema):
    version = fields.Integer()
    terms = fields.Dict()
    location_id = fields.String()
    replaced_at = fields.DateTime()


class ReferralSchema(Schema):
    id = _id()
    partner_id = fields.String(allow_none=True)
    partner_referral_id = fields.String()
    location_id = fields.String()
    patient_id = fields.String()
    status = fields.String()
    version = fields.Integer()
    form = fields.String()
    channel = fields.String()
    terms = fields.Dict(metadata={"description": "The referral as received (native form fields)"})
    history = fields.List(fields.Nested(HistoryEntrySchema))
    cancellation = JsonDict(allow_none=True)
    received_at = fields.DateTime()
    updated_at = fields.DateTime()


class ReferralQuerySchema(Schema):
    patient_id = fields.String(validate=validate.Length(max=64))
    status = fields.String(validate=validate.OneOf(["accepted", "cancelled"]))


# --- patients ----------------------------------------------------------------------------------


class PatientConsentSchema(Schema):
    email = fields.Boolean()
    sms = fields.Boolean()
    updated_at = fields.DateTime()
    source = fields.String()


class PatientFlagSchema(Schema):
    kind = fields.String(metadata={"description": "possible_duplicate"})
    other_patient_id = fields.String(metadata={"description": "the record this one may duplicate"})
    reason = fields.String(
        metadata={
            "description": "same_identifier_other_birth_date_or_name, "
            "other_value_of_an_identifier_system or several_records_match"
        }
    )
    referral_id = fields.String(metadata={"description": "the referral that raised it"})
    at = fields.DateTime()


class PersonNameSchema(Schema):
    given_name = fields.String(allow_none=True)
    family_name = fields.String()


class PatientSchema(Schema):
    id = _id()
    location_id = fields.String()
    location_ids = fields.List(fields.String())
    given_name = fields.String()
    family_name = fields.String()
    birth_date = _date()
    gender = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    address = fields.Dict(allow_none=True)
    identifiers = fields.List(
        fields.Dict(),
        metadata={"description": "{system, value, supplied_by (partner:<id> or clinic)}"},
    )
    former_names = fields.List(fields.Nested(PersonNameSchema))
    flags = fields.List(
        fields.Nested(PatientFlagSchema),
        metadata={"description": "For staff: e.g. another record that may be the same person"},
    )
    consent = fields.Nested(PatientConsentSchema)
    version = fields.Integer()
    created_at = fields.DateTime()


class ConsentInSchema(ConsentSchema):
    """Email OK / Text OK, as the patient said."""


# --- intakes -----------------------------------------------------------------------------------


class IntakeSchema(Schema):
    id = _id()
    referral_id = fields.String()
    patient_id = fields.String()
    location_id = fields.String()
    history = JsonDict()
    medications = fields.List(fields.String())
    symptoms = fields.List(fields.Dict())
    vitals = fields.Dict()
    body_areas = fields.List(fields.String())
    baseline = fields.List(fields.Dict())
    screening = JsonDict()
    consent = JsonDict()
    completed_by = fields.String()
    completed_at = fields.DateTime()
    clearances = fields.List(JsonDict())
    version = fields.Integer()


class IntakeQuerySchema(Schema):
    patient_id = fields.String(validate=validate.Length(max=64))
    referral_id = fields.String(validate=validate.Length(max=64))


class ClearanceInSchema(Strict):
    rule_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    cleared_by = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The physician who cleared treatment"},
    )
