"""Referrals API: partners and staff POST a referral in either form; staff read and cancel them.

The content type decides the form: `application/fhir+json` (a FHIR R4 Bundle) or
`application/json` (the native form). The answer is the referral's receipt (201; 200 for a
repeat or an amendment), or 400 for a body that is not JSON, or 422 with the fields at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import HTTPException

from services.intake.api.schemas import (
    ReferralCancelSchema,
    ReferralDeclineSchema,
    ReferralQuerySchema,
    ReferralReceiptSchema,
    ReferralReviewSchema,
    ReferralSchema,
    ReferralSubmitHeadersSchema,
)
from services.intake.partner_forms.native import NativeReferralSchema
from services.intake.partner_forms.reading import FHIR, FORMS, NATIVE, read_referral
from services.intake.usecases import referral_review, referrals
from shared.errors import UseCaseError
from shared.web.auditing import audit_request
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal, settings

blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/referrals",
    description="Referrals (prescriptions for massage therapy)",
)

REFERRAL_BODY = {
    "required": True,
    "description": (
        "The referral: the native JSON form, or a FHIR R4 Bundle (ServiceRequest, Patient, "
        "Condition, Practitioner). See docs/partners.md."
    ),
    "content": {
        NATIVE: {"schema": NativeReferralSchema},
        FHIR: {
            "schema": {
                "type": "object",
                "description": "A FHIR R4 Bundle",
                "required": ["resourceType"],
                "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]}},
            }
        },
    },
}


def _json_body() -> tuple[str, Any]:
    if request.mimetype not in FORMS:
        abort(
            415, message=f"Content-Type must be {NATIVE} (native form) or {FHIR} (FHIR R4 Bundle)"
        )
    try:
        return FORMS[request.mimetype], json.loads(request.get_data(cache=False) or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        abort(400, message=f"the body is not valid JSON: {error}")
        raise  # unreachable: abort raised


@contextmanager
def _audited_refusal() -> Iterator[None]:
    """A refused referral is audited with the fields at fault (never their values), then answered.

    Not `audited`: an accepted referral is audited by the use case, which every channel shares.
    """
    try:
        yield
    except (UseCaseError, HTTPException) as error:
        fields = sorted(error.errors) if getattr(error, "errors", None) else [type(error).__name__]
        detail = "fields: " + ", ".join(fields)
        audit_request("referral.rejected", "referral", None, detail=detail, outcome="rejected")
        raise


@blp.route("")
class ReferralCollection(View):
    @requires("admin", "front_desk", "partner")
    @blp.doc(requestBody=REFERRAL_BODY)
    @blp.response(201, ReferralReceiptSchema, description="Accepted: the new referral's id")
    @blp.alt_response(
        200, schema=ReferralReceiptSchema, description="A repeat (nothing changed) or an amendment"
    )
    @blp.alt_response(400, description="The body is not JSON")
    @blp.alt_response(
        409, description="The referral with this partner id was cancelled, or kept changing"
    )
    @blp.alt_response(413, description="The body is larger than MAX_BODY_BYTES")
    @blp.alt_response(415, description="Neither JSON form")
    @blp.alt_response(
        422, description="Refused: `errors.json` maps each field path to its problems"
    )
    @blp.arguments(ReferralSubmitHeadersSchema, location="headers", as_kwargs=True)
    def post(self, idempotency_key=None):
        """Submit a referral (partners and front desk); a repeat is recognised, changed content amends it.

        201 for a new referral: `accepted`, or `held` (status `needs_review`, with what is
        `pending`) when the clinic must settle something with the prescriber first.
        """
        with _audited_refusal():
            form, data = _json_body()
            referral = read_referral(form, data, region=settings().default_phone_region)
            receipt = referrals.submit(
                deps(), principal(), referral, form=form, idempotency_key=idempotency_key
            )
        return receipt, 201 if receipt.outcome in ("accepted", "held") else 200

    @requires(*STAFF_ROLES, "partner")
    @blp.arguments(ReferralQuerySchema, location="query")
    @blp.response(200, page_schema(ReferralSchema))
    def get(self, args):
        """Referrals at the locations the key may see (a partner: its own), newest first;
        filtered by status, location, partner or arrival (the staff's inbox)."""
        page, filters = page_request(args)
        with audited("referral.list", "referral"):
            return referrals.list_referrals(deps(), principal(), filters, page)


@blp.route("/<string:referral_id>")
class Referral(View):
    @requires(*STAFF_ROLES, "partner")
    @blp.response(200, ReferralSchema)
    def get(self, referral_id):
        """One referral with its amendment history."""
        with audited("referral.read", "referral", referral_id):
            return referrals.get_referral(deps(), principal(), referral_id)


@blp.route("/<string:referral_id>/cancel")
class ReferralCancellation(View):
    @requires("admin", "front_desk", "partner")
    @blp.arguments(ReferralCancelSchema)
    @blp.response(200, ReferralReceiptSchema)
    def post(self, body, referral_id):
        """Cancel a referral (a partner: its own); emits `referral.cancelled`."""
        return referrals.cancel_referral(deps(), principal(), referral_id, reason=body["reason"])


@blp.route("/<string:referral_id>/review")
class ReferralReview(View):
    @requires("admin", "front_desk")
    @blp.arguments(ReferralReviewSchema)
    @blp.response(200, ReferralSchema)
    @blp.alt_response(409, description="Not waiting for review, or changed since `version`")
    def post(self, body, referral_id):
        """Supply what a held referral lacks; once nothing is pending it is accepted.

        Each field answers one pending item: `diagnoses` (diagnosis_code), `authorized_visits`,
        `location_id` (location), `patient` (patient_identity: `{"link_to": <patient_id>}` or
        `{"register_new": true}`). Emits `referral.accepted` when it is accepted.
        """
        with audited("referral.review", "referral", referral_id):
            return referral_review.review_referral(deps(), principal(), referral_id, body)


@blp.route("/<string:referral_id>/decline")
class ReferralDecline(View):
    @requires("admin", "front_desk")
    @blp.arguments(ReferralDeclineSchema)
    @blp.response(200, ReferralSchema)
    @blp.alt_response(409, description="Not waiting for review, or changed since `version`")
    def post(self, body, referral_id):
        """Decline a held referral with a reason; the partner receives `referral.rejected`."""
        with audited("referral.decline", "referral", referral_id):
            return referral_review.decline_referral(
                deps(), principal(), referral_id, version=body["version"], reason=body["reason"]
            )
