"""Every HTTP schema of the intake API (the partner forms are the partner contract: partner_forms/).

Names (docs/api.md): an answer is `<Resource>Schema`, a body `<Resource><Action>Schema`, query
arguments `<Resource>QuerySchema`; an object's own id is `<resource>_id`. Bodies are `Strict`:
an unknown field (`tenant_id`, `status`, `_id`) is refused with a 422 naming it. The intake form
(`IntakeFormSchema`) is also what the patient's web form is checked against (web_form/).
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.intake.domain.checklist_flags import CONDITIONS, DATED_EVENTS, LOCAL_FINDINGS
from services.intake.domain.clinic import DEFAULT_REFERRAL_VALIDITY_DAYS, VALIDITY_DAYS_RANGE
from services.intake.domain.patient_search import name_prefixes
from services.intake.domain.referral import ContactError, normalise_phone
from services.intake.domain.staff_users import STAFF_ROLES, USER_STATUSES
from services.intake.partner_forms.native import AddressSchema, ConsentSchema
from shared.clinical.outcome_measures import MEASURES
from shared.schemas import ID, Strict
from shared.web.auth import ROLES
from shared.web.paging import PageQuerySchema


def _own_id() -> fields.String:
    """The object's own id (`_id` stored), under its `<resource>_id` name."""
    return fields.String(attribute="_id", dump_only=True)


def _date(description: str = "YYYY-MM-DD") -> fields.String:
    return fields.String(metadata={"format": "date", "description": description})


class JsonDict(fields.Dict):
    """A stored sub-document, with its datetimes as ISO 8601 strings."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else json.loads(json.dumps(value, default=_iso))


def _iso(value: Any) -> str:
    return value.isoformat()


# --- admin -------------------------------------------------------------------------------------


ROOM_NAME_MAX = 60


def _room_name(value: str) -> None:
    if not value.strip():
        raise ValidationError("a room needs a name")
    if len(value.strip()) > ROOM_NAME_MAX:
        raise ValidationError(f"at most {ROOM_NAME_MAX} characters")


class RoomSchema(Strict):
    room_id = fields.String(
        load_default=None,
        validate=ID,
        metadata={"description": "Kept as it is; omitted for a new room: derived from its name"},
    )
    name = fields.String(
        required=True,
        validate=_room_name,
        metadata={"description": f"1-{ROOM_NAME_MAX} characters, unique within the location"},
    )


class LocationCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    timezone = fields.String(
        required=True, metadata={"example": "America/New_York", "description": "IANA time zone"}
    )
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    rooms = fields.List(
        fields.Nested(RoomSchema),
        load_default=None,
        validate=validate.Length(max=50),
        metadata={
            "description": "The location's treatment rooms, in order (a session books one by "
            "its room_id); omitted: none when adding, unchanged when editing"
        },
    )


class LocationEditSchema(LocationCreateSchema):
    """A location's name, time zone and address, all of them (its id stays); its rooms when
    given."""


class LocationSchema(Schema):
    location_id = fields.String()
    name = fields.String()
    timezone = fields.String()
    address = fields.Dict(allow_none=True)
    rooms = fields.List(
        fields.Dict(), dump_default=list, metadata={"description": "{room_id, name}"}
    )
    version = fields.Integer()


class TenantSettingsSchema(Strict):
    referral_validity_days = fields.Integer(
        strict=True,
        validate=validate.Range(*VALIDITY_DAYS_RANGE),
        metadata={
            "description": "How long a referral sent without an end date is valid, from its "
            f"start (default {DEFAULT_REFERRAL_VALIDITY_DAYS})"
        },
    )


class TenantSchema(Schema):
    tenant_id = _own_id()
    name = fields.String()
    locations = fields.List(fields.Nested(LocationSchema))
    settings = fields.Nested(TenantSettingsSchema, dump_default=dict)
    version = fields.Integer()


class TenantEditSchema(Strict):
    """The clinic's settings; `version` is the tenant's, as read."""

    version = fields.Integer(required=True, validate=validate.Range(min=1))
    settings = fields.Nested(TenantSettingsSchema, required=True)


class KeyCreateSchema(Strict):
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
    partner_id = _own_id()
    name = fields.String()
    status_format = fields.String(
        dump_default="native",
        metadata={"description": "native (JSON) or fhir (FHIR R4 Tasks): docs/partners.md"},
    )


# --- referrals ---------------------------------------------------------------------------------


class PendingItemSchema(Schema):
    item = fields.String(
        metadata={"description": "diagnosis_code, authorized_visits, location or patient_identity"}
    )
    message = fields.String()
    patient_ids = fields.List(
        fields.String(),
        metadata={"description": "patient_identity: the records the referral may be (staff only)"},
    )


class PartnerPendingSchema(Schema):
    item = fields.String()
    message = fields.String()


class ReferralReceiptSchema(Schema):
    referral_id = fields.String()
    patient_id = fields.String(allow_none=True, metadata={"description": "null while held"})
    outcome = fields.String(
        metadata={"description": "accepted, held, amended, duplicate or cancelled"}
    )
    status = fields.String(
        metadata={"description": "accepted, needs_review, cancelled or rejected"}
    )
    pending = fields.List(
        fields.Nested(PartnerPendingSchema),
        metadata={"description": "needs_review: what the clinic settles before it is accepted"},
    )
    version = fields.Integer()


class ReferralSubmitHeadersSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z0-9._:/@+-]{1,128}$"),
        metadata={
            "description": "Your id of this submission: sent again, it is applied once, and the "
            "status events on your queue answer it (`answers.id`, AMQP correlation_id)"
        },
    )


class ReferralCancelSchema(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ReviewDiagnosisSchema(Strict):
    code = fields.String(
        required=True, validate=validate.Length(min=1, max=10), metadata={"example": "I69.351"}
    )
    display = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class ReviewPatientSchema(Strict):
    link_to = fields.String(validate=ID, metadata={"description": "the patient it is"})
    register_new = fields.Boolean(
        validate=validate.Equal(True), metadata={"description": "a new patient"}
    )

    @validates_schema
    def one_answer(self, data: dict[str, Any], **_: Any) -> None:
        if len(data) != 1:
            raise ValidationError("give link_to or register_new", "_schema")


class ReferralReviewSchema(Strict):
    """What staff settled with the prescriber: each field answers one pending item."""

    version = fields.Integer(required=True, validate=validate.Range(min=1))
    diagnoses = fields.List(
        fields.Nested(ReviewDiagnosisSchema),
        validate=validate.Length(min=1, max=12),
        metadata={"description": "diagnosis_code: billable ICD-10-CM codes"},
    )
    authorized_visits = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "authorized_visits: the total"},
    )
    location_id = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "location"}
    )
    patient = fields.Nested(ReviewPatientSchema, metadata={"description": "patient_identity"})


class ReferralDeclineSchema(Strict):
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class HistoryEntrySchema(Schema):
    version = fields.Integer()
    terms = fields.Dict()
    location_id = fields.String(allow_none=True)
    replaced_at = fields.DateTime()


class ReferralSchema(Schema):
    referral_id = _own_id()
    partner_id = fields.String(allow_none=True)
    partner_referral_id = fields.String()
    location_id = fields.String(allow_none=True, metadata={"description": "null: to settle"})
    patient_id = fields.String(allow_none=True, metadata={"description": "null while held"})
    status = fields.String(metadata={"description": "accepted, needs_review, cancelled, rejected"})
    pending = fields.List(fields.Nested(PendingItemSchema))
    version = fields.Integer()
    form = fields.String()
    channel = fields.String()
    terms = fields.Dict(
        metadata={
            "description": "The referral as received (native form fields), with other_reasons "
            "and notices"
        }
    )
    history = fields.List(fields.Nested(HistoryEntrySchema))
    cancellation = JsonDict(allow_none=True)
    decline = JsonDict(allow_none=True)
    received_at = fields.DateTime()
    updated_at = fields.DateTime()


class ReferralQuerySchema(PageQuerySchema):
    """Filters beside `page` and `page_size` (all of them at once: they narrow each other)."""

    patient_id = fields.String(validate=validate.Length(max=64))
    status = fields.String(
        validate=validate.OneOf(["accepted", "needs_review", "cancelled", "rejected"])
    )
    location_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "One location (among those the caller may see)"},
    )
    partner_id = fields.String(
        validate=validate.Length(min=1, max=63),
        metadata={"description": "One partner's referrals (a partner key sees its own anyway)"},
    )
    received_since = fields.AwareDateTime(
        metadata={"description": "Received at or after this time (ISO 8601 with an offset)"}
    )


# --- patients ----------------------------------------------------------------------------------


class PatientConsentSchema(Schema):
    email = fields.Boolean()
    sms = fields.Boolean()
    updated_at = fields.DateTime()
    source = fields.String()


class PersonNameSchema(Schema):
    given_name = fields.String(allow_none=True)
    family_name = fields.String()


class PatientSchema(Schema):
    patient_id = _own_id()
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
    distinct_from = fields.List(
        fields.String(),
        metadata={"description": "Records staff confirmed are other people (a review settled it)"},
    )
    consent = fields.Nested(PatientConsentSchema)
    screening = JsonDict(
        allow_none=True,
        metadata={
            "description": "The latest intake's screening (outcome, reasons, excluded_areas, "
            "modifications, requires_clearance_for, cleared, intake_id, completed_at); absent "
            "before any intake"
        },
    )
    version = fields.Integer()
    created_at = fields.DateTime()


class PatientQuerySchema(PageQuerySchema):
    """A few named patients, or a search: every filter given must match (by family name)."""

    patient_id = fields.List(
        fields.String(validate=ID),
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Only these patients (repeat it, up to 100: a review's candidates, "
            "the patients of a calendar's sessions)"
        },
    )
    name = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Each word is the start of one of the patient's names (given, "
            "family or former), case and accents ignored: `alv mar` finds María Álvarez"
        },
    )
    birth_date = fields.Date(metadata={"description": "YYYY-MM-DD"})
    identifier = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "An MRN or other identifier value, exactly (case, spaces and "
            "dashes ignored)"
        },
    )
    phone = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={"description": "A phone number, in any common form (compared in E.164)"},
    )

    @post_load
    def normalised(self, args: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "phone" in args:
            region = current_app.config["SETTINGS"].default_phone_region
            try:
                args["phone"] = normalise_phone(args["phone"], region)
            except ContactError as error:
                said = str(error).removeprefix("phone: ")  # the field says which
                raise ValidationError(said, "phone") from None
        if "birth_date" in args:
            args["birth_date"] = args["birth_date"].isoformat()
        if "name" in args and not name_prefixes(args["name"]):
            raise ValidationError("type at least one letter or digit of a name", "name")
        return args


class ConsentChangeSchema(ConsentSchema):
    """Email OK / Text OK, as the patient said."""


# --- intakes: the form (staff API and the patient's web form alike) ----------------------------


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
    """The intake form: what staff (the API) and the patient (the web form) submit.

    Checklist flags (conditions, local findings, dated events) are the names the contraindication
    rules use (`domain/checklist_flags.py`), so a misspelt flag is refused, never passed over.
    """

    history = fields.Nested(HistorySchema, load_default=dict)
    medications = _list(fields.String(validate=validate.Length(min=1, max=200)), 50)
    symptoms = _list(fields.Nested(SymptomSchema))
    vitals = fields.Nested(VitalsSchema, load_default=dict)
    body_areas = _list(fields.String(validate=validate.Length(min=1, max=60)))
    baseline = _list(fields.Nested(BaselineSchema), len(MEASURES))
    consent = fields.Nested(SignedConsentSchema, required=True)


class IntakeCreateSchema(IntakeFormSchema):
    """The intake form of one referral (`POST /intakes`)."""

    referral_id = fields.String(required=True, validate=ID)


class IntakeFormQuerySchema(Strict):
    referral_id = fields.String(required=True, validate=ID)


class IntakeFormDefinitionSchema(Schema):
    """The patient's intake form of a referral as data (the console renders it)."""

    referral_id = fields.String()
    patient_id = fields.String()
    consent_version = fields.String()
    consent_text = fields.String()
    sections = fields.List(
        JsonDict(),
        metadata={
            "description": "{id, title, groups: [{id, legend, hint, rows: [[field]]}]}; a field "
            "is {name, label, kind (text, number, decimal, date, textarea, select, checkbox), "
            "hint?, options?, value?, id?, blank?}"
        },
    )


def _answer(value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    if len(values) > 50 or not all(isinstance(v, str) and len(v) <= 5000 for v in values):
        raise ValidationError("an answer is a string, or a list of at most 50 strings")


class IntakeFormAnswersSchema(Strict):
    """What was typed into the intake form (`GET /intakes/form`), by field name."""

    referral_id = fields.String(required=True, validate=ID)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.Raw(validate=_answer),
        required=True,
        validate=validate.Length(max=300),
        metadata={"description": "field name -> its value (a list for ticked checkboxes)"},
    )


# --- intakes: answers and clearances -------------------------------------------------------------


class IntakeSchema(Schema):
    intake_id = _own_id()
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


class IntakeQuerySchema(PageQuerySchema):
    patient_id = fields.String(validate=validate.Length(max=64))
    referral_id = fields.String(validate=validate.Length(max=64))


class ClearanceCreateSchema(Strict):
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


class PatientSummarySchema(Schema):
    """A patient with their referrals and intakes (newest first, the latest 20 of each): what
    the console's chart shows in one call."""

    patient = fields.Nested(PatientSchema)
    referrals = fields.List(fields.Nested(ReferralSchema))
    referrals_total = fields.Integer()
    intakes = fields.List(fields.Nested(IntakeSchema))
    intakes_total = fields.Integer()


# --- staff users and sign-in (api/users.py, api/auth.py) --------------------------------------


def _locations() -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Location ids the user may see; null: every location"},
    )


def _password() -> fields.String:
    return fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=1024),
        metadata={"description": "At least 12 characters, not one of the most common passwords"},
    )


def _secret(description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={"description": description},
    )


class UserCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    locations = _locations()


class UserAccessEditSchema(Strict):
    """A user's role and locations, both of them, at the version the caller saw."""

    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    locations = _locations()
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class UserSchema(Schema):
    user_id = _own_id()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    locations = fields.List(fields.String(), allow_none=True)
    status = fields.String(metadata={"enum": list(USER_STATUSES)})
    totp_enrolled = fields.Boolean(metadata={"description": "Whether a second factor is enrolled"})
    invited_by = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    activated_at = fields.DateTime()
    disabled_at = fields.DateTime()


class InvitedUserSchema(UserSchema):
    invitation_link = fields.String(
        metadata={"description": "The link emailed to the user (single-use, 72 hours)"}
    )


class UserQuerySchema(PageQuerySchema):
    """Filters beside `page` and `page_size`; the list is by name."""

    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))


class SignInPolicySchema(Strict):
    require_totp = fields.Boolean(
        required=True,
        metadata={"description": "Every user must enrol a second factor (admins must always)"},
    )
    session_idle_minutes = fields.Integer(
        required=True,
        validate=validate.Range(min=5, max=480),
        metadata={"description": "A session ends after this long without a refresh (default 15)"},
    )


class SignInCreateSchema(Strict):
    clinic = fields.String(required=True, validate=ID, metadata={"description": "The tenant id"})
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = _password()


class TokensSchema(Schema):
    access_token = fields.String(metadata={"description": "A JWT for `Authorization: Bearer`"})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds the access token is good for"})
    refresh_token = fields.String(
        metadata={
            "description": "Renews the access token once (POST /auth/refresh); keep it secret"
        }
    )
    staff_session_id = fields.String(
        metadata={"description": "The staff member's sign-in session (not an appointment)"}
    )
    user_id = fields.String()
    scope = fields.String(
        metadata={
            "enum": ["all", "enrol_totp"],
            "description": "enrol_totp: the token may only enrol a second factor (POST /auth/totp)",
        }
    )


class SignInSchema(TokensSchema):
    status = fields.String(
        metadata={
            "enum": ["signed_in", "second_factor_required"],
            "description": "second_factor_required: no tokens yet; send `challenge` with a code "
            "to POST /auth/sign-in/second-factor",
        }
    )
    challenge = fields.String()
    challenge_expires_in = fields.Integer()


class SecondFactorCreateSchema(Strict):
    challenge = _secret("The challenge of POST /auth/sign-in")
    code = fields.String(
        load_default=None, validate=validate.Regexp(r"^\s*\d{3}\s?\d{3}\s*$", error="six digits")
    )
    recovery_code = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class TokenRefreshSchema(Strict):
    refresh_token = _secret("The latest refresh token of the session")


class InvitationAcceptSchema(Strict):
    token = _secret("The token of the invitation link (`/invitation/<token>`)")
    password = _password()


class PasswordResetCreateSchema(Strict):
    clinic = fields.String(required=True, validate=ID)
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class PasswordResetCompleteSchema(Strict):
    token = _secret("The token of the reset link (`/password-reset/<token>`)")
    password = _password()


class AccountSchema(Schema):
    """Whose password was set: what the console needs to offer the sign-in."""

    user_id = fields.String()
    tenant_id = fields.String()
    email = fields.String()
    name = fields.String()


class MyLocationSchema(Schema):
    location_id = fields.String()
    name = fields.String()
    timezone = fields.String(
        metadata={"description": "IANA time zone: times there are shown in it"}
    )
    rooms = fields.List(fields.Dict(), metadata={"description": "{room_id, name}, in order"})


class ColleagueSchema(Schema):
    user_id = fields.String()
    name = fields.String()
    locations = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: every location"}
    )


class MyClinicSchema(Schema):
    tenant_id = fields.String()
    name = fields.String()
    session_idle_minutes = fields.Integer(
        metadata={"description": "A session without a refresh for this long ends"}
    )
    locations = fields.List(
        fields.Nested(MyLocationSchema), metadata={"description": "Those the person may see"}
    )
    therapists = fields.List(
        fields.Nested(ColleagueSchema),
        metadata={"description": "Active therapists at those locations (whom sessions book)"},
    )


class MeSchema(UserSchema):
    staff_session_id = fields.String()
    scope = fields.String(metadata={"enum": ["all", "enrol_totp"]})
    clinic = fields.Nested(MyClinicSchema)


class RefreshedSchema(TokensSchema):
    person = fields.Nested(
        MeSchema,
        metadata={"description": "The person, as `GET /auth/me` answers with the new token"},
    )


class TotpSchema(Schema):
    secret = fields.String(metadata={"description": "Base32; for an authenticator app"})
    otpauth_uri = fields.String(metadata={"description": "The same as an otpauth:// URI (QR code)"})


class TotpConfirmSchema(Strict):
    code = fields.String(
        required=True, validate=validate.Regexp(r"^\s*\d{3}\s?\d{3}\s*$", error="six digits")
    )


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(
        fields.String(), metadata={"description": "Ten one-time codes, shown only now"}
    )
