"""Reads a referral in either form: a FHIR R4 Bundle (`application/fhir+json`) or the native JSON form
(`application/json`). Both paths, AMQP and HTTP, come through here, so they accept and refuse the
same things with the same field paths.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from services.intake.domain.referral import Referral
from services.intake.errors import Invalid
from services.intake.partner_forms.fhir import ReferralFormError, referral_from_fhir_bundle
from services.intake.partner_forms.native import CancellationSchema, NativeReferralSchema, flatten

FHIR = "application/fhir+json"
NATIVE = "application/json"
FORMS = {FHIR: "fhir", NATIVE: "native"}


def form_of(content_type: str | None) -> str:
    """'fhir' or 'native' for a (data) content type; Invalid for anything else."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in FORMS:
        raise Invalid.one("datacontenttype", f"{media_type or 'none'!r} is not {FHIR} or {NATIVE}")
    return FORMS[media_type]


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
        return NativeReferralSchema(region=region).load(data)
    except ValidationError as error:
        raise Invalid(flatten(error.messages)) from None


def read_cancellation(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise Invalid.one("body", "a JSON object is required")
    try:
        return CancellationSchema().load(data)
    except ValidationError as error:
        raise Invalid(flatten(error.messages)) from None
