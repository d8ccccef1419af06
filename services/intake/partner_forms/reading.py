"""Reads a referral in either form: a FHIR R4 Bundle (`application/fhir+json`) or the native JSON form
(`application/json`). Both paths, AMQP and HTTP, come through here, so they accept and refuse the
same things with the same field paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from marshmallow import ValidationError

from services.intake.domain.referral import Referral
from services.intake.partner_forms.fhir import ReferralFormError, referral_from_fhir_bundle
from services.intake.partner_forms.native import CancellationSchema, NativeReferralSchema
from shared.errors import Invalid
from shared.schemas import flatten

FHIR = "application/fhir+json"
NATIVE = "application/json"
FORMS = {FHIR: "fhir", NATIVE: "native"}


def form_of(content_type: str | None) -> str:
    """'fhir' or 'native' for a (data) content type; Invalid for anything else."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in FORMS:
        raise Invalid.one("datacontenttype", f"{media_type or 'none'!r} is not {FHIR} or {NATIVE}")
    return FORMS[media_type]


_CANCELLATION = CancellationSchema()


@cache
def _native_schema(region: str) -> NativeReferralSchema:
    """One schema per region, built once: building one (its nested fields copied) cost about a
    seventh of reading a referral; `load` keeps no state on the instance."""
    return NativeReferralSchema(region=region)


def read_referral(form: str, data: Any, *, region: str) -> Referral:
    """The referral in `data`; raises Invalid naming every field at fault."""
    if form == "fhir":
        try:
            return referral_from_fhir_bundle(data, region=region)
        except ReferralFormError as error:
            raise Invalid(error.errors) from None
    if not isinstance(data, dict):
        raise Invalid.one("body", "a JSON object is required")
    try:
        return _native_schema(region).load(data)
    except ValidationError as error:
        raise Invalid(flatten(error.messages)) from None


def read_cancellation(data: Any, content_type: str | None = NATIVE) -> dict[str, str]:
    """A partner's cancellation (native JSON only): `{partner_referral_id, reason}`; Invalid."""
    if form_of(content_type) == "fhir":
        raise Invalid.one("datacontenttype", f"a cancellation is native JSON, not {FHIR}")
    if not isinstance(data, dict):
        raise Invalid.one("body", "a JSON object is required")
    try:
        return _CANCELLATION.load(data)
    except ValidationError as error:
        raise Invalid(flatten(error.messages)) from None


@dataclass(frozen=True)
class ReferralMessage:
    """A partner's referral as read from a message: the referral, or why it cannot be read.

    `claimed_reference` is the partner's referral id as far as it can be read from data that
    may be invalid, so even a refusal names the referral it answers.
    """

    form: str
    referral: Referral | None
    problems: Invalid | None
    claimed_reference: str | None


def read_referral_message(content_type: str | None, data: Any, *, region: str) -> ReferralMessage:
    form = sniffed_form(content_type)
    try:
        form = form_of(content_type)
        referral = read_referral(form, data, region=region)
    except Invalid as problems:
        return ReferralMessage(form, None, problems, claimed_reference(form, data))
    return ReferralMessage(form, referral, None, claimed_reference(form, data))


def sniffed_form(content_type: str | None) -> str:
    """The form a content type most likely means, even when it is not exactly one of ours."""
    return "fhir" if (content_type or "").startswith(FHIR) else "native"


def claimed_reference(form: str, data: Any) -> str | None:
    """The partner's referral id, read leniently from data that may be invalid (for the answer)."""
    if not isinstance(data, dict):
        return None
    if form != "fhir":
        value = data.get("partner_referral_id")
        return value if isinstance(value, str) else None
    for entry in data.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "ServiceRequest":
            for identifier in resource.get("identifier") or []:
                if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                    return identifier["value"]
    return None
