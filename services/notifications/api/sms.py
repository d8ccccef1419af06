"""Replies patients text back, forwarded by the SMS provider: signed with SMS_INBOUND_SECRET."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort

from shared.web.views import View, deps, settings

from ..channels.webhook import verify_signature
from ..usecases import preferences
from .schemas import InboundSmsReceiveSchema, InboundSmsSchema

blp = Blueprint(
    "sms", __name__, description="Replies to our texts, forwarded by the SMS provider (signed)"
)
SMS_SIGNATURE_HEADER = "X-Sms-Signature"


@blp.before_request
def _signed_by_the_provider() -> None:
    header = request.headers.get(SMS_SIGNATURE_HEADER)
    if not verify_signature(settings().own.sms_inbound_secret, header, request.get_data()):
        abort(401, message=f"a valid {SMS_SIGNATURE_HEADER} header is required")


@blp.route("/sms/inbound")
class InboundSms(View):
    @blp.doc(
        security=[],
        parameters=[
            {
                "in": "header",
                "name": SMS_SIGNATURE_HEADER,
                "required": True,
                "schema": {"type": "string"},
                "description": "t=<unix seconds>,v1=<HMAC-SHA256 hex of '<t>.' + body>",
            }
        ],
    )
    @blp.arguments(InboundSmsReceiveSchema)
    @blp.response(200, InboundSmsSchema)
    @blp.alt_response(401, description="Missing or wrong signature")
    def post(self, message: dict[str, Any]):
        """A patient's reply: STOP (and its synonyms) opts the number out of texts, START back in."""
        return preferences.apply_sms_reply(deps(), message["from_"], message["body"])
