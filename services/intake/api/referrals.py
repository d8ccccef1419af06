"""Referrals API: partners and staff POST a referral in either form; staff read and cancel them.

The content type decides the form: `application/fhir+json` (a FHIR R4 Bundle) or
`application/json` (the native form). The answer is the referral's id (201; 200 for a repeat or
an amendment), or 400 for a body that is not JSON, or 422 with the fields at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import HTTPException

from services.intake.api.common import STAFF, PageSchema, View, db, paging, record_access, settings
from services.intake.api.schemas import (
    CancelSchema,
    ReceiptSchema,
    ReferralQuerySchema,
    ReferralSchema,
)
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.partner_forms.native import NativeReferralSchema
from services.intake.partner_forms.reading import FHIR, FORMS, NATIVE, read_referral
from services.intake.repository.patient_data import Referrals
from services.intake.usecases import referrals
from services.intake.usecases import tenants as access
from shared.web.auth import Principal, current_principal, requires

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


def _sender(principal: Principal) -> referrals.Sender:
    if principal.partner_id:
        partner = access.get_partner(db(), principal.partner_id)
        if partner is None or principal.tenant_id not in partner.get("tenants", []):
            abort(403, message="this partner may no longer refer to this clinic")
    return referrals.Sender(
        tenant_id=principal.tenant_id,
        partner_id=principal.partner_id,
        actor=principal.actor,
        channel="http",
        locations=principal.locations,
    )


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
    """A refused referral is audited (the fields at fault, never their values), then answered."""
    try:
        yield
    except (Invalid, Conflict, HTTPException) as error:
        fields = sorted(error.errors) if isinstance(error, Invalid) else [type(error).__name__]
        record_access(
            "referral.rejected",
            "referral",
            None,
            detail="fields: " + ", ".join(fields),
            outcome="rejected",
        )
        raise


def _visible(principal: Principal) -> dict[str, Any]:
    """A partner key sees only its own referrals."""
    return {"partner_id": principal.partner_id} if principal.partner_id else {}


@blp.route("")
class ReferralCollection(View):
    @requires("admin", "front_desk", "partner")
    @blp.doc(requestBody=REFERRAL_BODY)
    @blp.response(201, ReceiptSchema, description="Accepted: the new referral's id")
    @blp.alt_response(
        200, schema=ReceiptSchema, description="A repeat (nothing changed) or an amendment"
    )
    @blp.alt_response(400, description="The body is not JSON")
    @blp.alt_response(409, description="The referral with this partner id was cancelled")
    @blp.alt_response(413, description="The body is larger than MAX_BODY_BYTES")
    @blp.alt_response(415, description="Neither JSON form")
    @blp.alt_response(
        422, description="Refused: `errors.json` maps each field path to its problems"
    )
    def post(self):
        """Submit a referral (partners and front desk); a repeat is recognised, changed content amends it."""
        principal = current_principal()
        with _audited_refusal():
            form, data = _json_body()
            referral = read_referral(form, data, region=settings().default_phone_region)
            receipt = referrals.receive(db(), settings(), _sender(principal), referral, form=form)
        return receipt, 201 if receipt.outcome == "accepted" else 200

    @requires(*STAFF, "partner")
    @blp.arguments(ReferralQuerySchema, location="query", as_kwargs=True)
    @blp.arguments(PageSchema, location="query")
    @blp.response(200, ReferralSchema(many=True))
    def get(self, page_args, **filters):
        """Referrals at the locations the key may see (a partner: its own)."""
        principal = current_principal()
        where = {**filters, **_visible(principal)}
        found = Referrals(db(), principal.tenant_id).list(
            principal.locations, where, **paging(page_args)
        )
        record_access("referral.list", "referral", None, detail=f"{len(found)} referrals")
        return found


@blp.route("/<string:referral_id>")
class Referral(View):
    @requires(*STAFF, "partner")
    @blp.response(200, ReferralSchema)
    def get(self, referral_id):
        """One referral with its amendment history."""
        principal = current_principal()
        found = Referrals(db(), principal.tenant_id).get(referral_id, principal.locations)
        if found is None or any(found.get(k) != v for k, v in _visible(principal).items()):
            raise NotFound("referral")
        record_access("referral.read", "referral", referral_id)
        return found


@blp.route("/<string:referral_id>/cancel")
class Cancel(View):
    @requires("admin", "front_desk", "partner")
    @blp.arguments(CancelSchema)
    @blp.response(200, ReceiptSchema)
    def post(self, body, referral_id):
        """Cancel a referral (a partner: its own); emits `referral.cancelled`."""
        sender = _sender(current_principal())
        return referrals.cancel(db(), sender, reason=body["reason"], referral_id=referral_id)
