"""The native JSON form of partner messages (referral and cancellation), documented in docs/partners.md.

The native referral maps to the same `Referral` as the FHIR form. Unknown fields are refused
(`Strict`), so a client cannot slip in `tenant_id`, `status` or ids of ours: the clinic comes
from the CloudEvent's `tenantid` (AMQP) or from the API key (HTTP).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from services.intake.domain.referral import (
    ICD10CM_SYSTEM,
    PERIOD_UNITS,
    PRIORITIES,
    STATUSES,
    Address,
    ContactError,
    Diagnosis,
    Identifier,
    Notice,
    PersonName,
    Referral,
    ReferredPatient,
    Requester,
    VisitsPerPeriod,
    normalise_email,
    normalise_phone,
    npi_check_digit_ok,
)
from shared.schemas import Strict

GENDERS = ("male", "female", "other", "unknown")


def _text(max_length: int = 200, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _optional(max_length: int = 200) -> fields.String:
    return fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=max_length)
    )


class IdentifierSchema(Strict):
    system = _optional(300)
    value = _text(200, required=True)


class AddressSchema(Strict):
    lines = fields.List(_text(200), load_default=list, validate=validate.Length(max=5))
    city = _optional(100)
    state = _optional(100)
    postal_code = _optional(20)
    country = _optional(60)


class ConsentSchema(Strict):
    email = fields.Boolean(required=True, metadata={"description": "Email OK"})
    sms = fields.Boolean(required=True, metadata={"description": "Text OK"})


class FormerNameSchema(Strict):
    given_name = _optional(100)
    family_name = _text(100, required=True)


class NativePatientSchema(Strict):
    identifiers = fields.List(
        fields.Nested(IdentifierSchema), load_default=list, validate=validate.Length(max=10)
    )
    given_name = _text(100, required=True)
    family_name = _text(100, required=True)
    birth_date = fields.Date(required=True)
    gender = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GENDERS))
    email = _optional(254)
    phone = _optional(40)
    language = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
    )
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    consent = fields.Nested(
        ConsentSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Omitted: email OK when an address is given, texts not OK"},
    )
    former_names = fields.List(
        fields.Nested(FormerNameSchema),
        load_default=list,
        validate=validate.Length(max=5),
        metadata={"description": "Names the patient had before (e.g. a maiden name)"},
    )


class DiagnosisSchema(Strict):
    system = fields.String(load_default=ICD10CM_SYSTEM, validate=validate.Equal(ICD10CM_SYSTEM))
    code = _text(10, required=True, metadata={"example": "M54.50"})
    display = _optional(200)


class RequesterSchema(Strict):
    name = _text(200, required=True)
    npi = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\d{10}$"))
    email = _optional(254)
    phone = _optional(40)
    organization = _optional(200)
    prefix = _optional(40)  # "Dr.": letters greet the prescriber as "Dr. Chen"
    family_name = _optional(100)


class VisitsPerPeriodSchema(Strict):
    visits = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=14))
    period = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=12))
    unit = fields.String(load_default="wk", validate=validate.OneOf(PERIOD_UNITS))


class NativeReferralSchema(Strict):
    """A referral in the native JSON form (`datacontenttype` / Content-Type `application/json`)."""

    partner_referral_id = _text(
        128,
        required=True,
        metadata={
            "description": "Your id of the referral; a repeat with the same id is recognised, a changed one amends it"
        },
    )
    location_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "The clinic location; omitted: the clinic's first location"},
    )
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    priority = fields.String(load_default="routine", validate=validate.OneOf(PRIORITIES))
    authored_on = fields.Date(load_default=None, allow_none=True)
    patient = fields.Nested(NativePatientSchema, required=True)
    diagnoses = fields.List(
        fields.Nested(DiagnosisSchema), required=True, validate=validate.Length(min=1, max=12)
    )
    requester = fields.Nested(RequesterSchema, required=True)
    authorized_visits = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Omitted: the referral waits for the clinic's review"},
    )
    visits_per_period = fields.Nested(VisitsPerPeriodSchema, load_default=None, allow_none=True)
    valid_from = fields.Date(required=True)
    expires_on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Last day visits are authorized (inclusive); omitted: the clinic's "
            "default validity (90 days unless it set another)"
        },
    )
    body_sites = fields.List(_text(100), load_default=list, validate=validate.Length(max=20))
    notes = fields.List(_text(2000), load_default=list, validate=validate.Length(max=20))

    def __init__(self, *args: Any, region: str = "US", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region

    def _contact(
        self,
        person: dict[str, Any],
        where: str,
        errors: dict[str, Any],
        notices: list[Notice] | None = None,
    ) -> tuple[str | None, str | None]:
        """Normalised email and phone; one that does not validate is an error, or, given
        `notices` (the requester's), kept as sent with a notice."""
        found: list[str | None] = []
        for name, normalise in (
            ("email", normalise_email),
            ("phone", lambda v: normalise_phone(v, self.region)),
        ):
            try:
                found.append(normalise(person[name]) if person.get(name) else None)
            except ContactError as error:
                problem = str(error).split(": ", 1)[-1]
                if notices is None:
                    errors.setdefault(where, {})[name] = [problem]
                    found.append(None)
                else:
                    notices.append(Notice(f"{where}.{name}", f"{problem}; kept as sent, not used"))
                    found.append(person[name])
        return found[0], found[1]

    @post_load
    def to_referral(self, data: dict[str, Any], **_: Any) -> Referral:
        errors: dict[str, Any] = {}
        notices: list[Notice] = []
        patient, requester = dict(data["patient"]), dict(data["requester"])
        patient["email"], patient["phone"] = self._contact(patient, "patient", errors)
        requester["email"], requester["phone"] = self._contact(
            requester, "requester", errors, notices
        )
        if errors:
            raise ValidationError(errors)
        if requester["npi"] and not npi_check_digit_ok(requester["npi"]):
            message = f"NPI {requester['npi']!r} fails its check digit; kept as sent"
            notices.append(Notice("requester.npi", message))
        patient["identifiers"] = [
            Identifier(i["value"], i["system"]) for i in patient["identifiers"]
        ]
        patient["address"] = patient["address"] and Address(**patient["address"])
        patient["former_names"] = [
            PersonName(n["given_name"] or "", n["family_name"]) for n in patient["former_names"]
        ]
        rate = data["visits_per_period"]
        return Referral(
            **{
                k: v
                for k, v in data.items()
                if k not in ("patient", "requester", "diagnoses", "visits_per_period")
            },
            patient=ReferredPatient(**patient),
            diagnoses=[Diagnosis(d["code"], d["display"], d["system"]) for d in data["diagnoses"]],
            requester=Requester(**requester),
            visits_per_period=rate and VisitsPerPeriod(**rate),
            notices=notices,
        )


class CancellationSchema(Strict):
    """A partner's cancellation (`referral.cancelled`, native JSON only)."""

    partner_referral_id = _text(128, required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))
