"""Endpoints without an API key: the unsubscribe link (signed token) and inbound SMS replies
(signed by the SMS provider with SMS_INBOUND_SECRET)."""

from __future__ import annotations

import html
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from shared import audit

from ..channels.webhook import verify_signature
from ..domain.inbound import inbound_command
from ..domain.rules import normalize_phone
from ..domain.unsubscribe_links import UnsubscribeLinks
from ..repository.contacts import ContactDirectory
from .context import db, now, settings
from .schemas import SmsInboundResultSchema, SmsInboundSchema

unsubscribe_blp = Blueprint(
    "unsubscribe", __name__, description="Unsubscribe links in patient emails (public, signed)"
)
sms_blp = Blueprint(
    "sms", __name__, description="Replies to our texts, forwarded by the SMS provider (signed)"
)
SMS_SIGNATURE_HEADER = "X-Sms-Signature"
PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<body><p>{text}</p>{form}</body></html>"
)
FORM = "<form method=post><button type=submit name=confirm value=1>Unsubscribe</button></form>"


def _page(title: str, text: str, form: str = "") -> tuple[str, int, dict[str, str]]:
    body = PAGE.format(title=html.escape(title), text=html.escape(text), form=form)
    return body, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def _links() -> UnsubscribeLinks:
    config = settings()
    return UnsubscribeLinks(config.own.unsubscribe_secret, config.own.notifications_public_url)


@unsubscribe_blp.route("/unsubscribe/<string:token>")
class UnsubscribeLink(MethodView):
    @unsubscribe_blp.doc(security=[])
    @unsubscribe_blp.response(200, content_type="text/html")
    @unsubscribe_blp.alt_response(404, description="Not a link we sent")
    def get(self, token: str):
        """A page asking to confirm (GET changes nothing: mail scanners follow links)."""
        if _links().read(token) is None:
            abort(404, message="this link is not valid")
        return _page("Unsubscribe", "Stop receiving emails from us?", FORM)

    @unsubscribe_blp.doc(security=[])
    @unsubscribe_blp.response(200, content_type="text/html")
    @unsubscribe_blp.alt_response(404, description="Not a link we sent")
    def post(self, token: str):
        """Unsubscribe (the page's button, or RFC 8058 one-click from the mail client)."""
        wanted = _links().read(token)
        if wanted is None:
            abort(404, message="this link is not valid")
        assert wanted is not None
        contact = ContactDirectory(db().contacts).choose(
            wanted.tenant_id, wanted.patient_id, wanted.channel, False, now()
        )
        if contact is None:
            abort(404, message="this link is not valid")
        audit.record(
            db(), actor="patient:unsubscribe-link", tenant_id=wanted.tenant_id, action="opt_out",
            object_type="patient_preferences", object_id=wanted.patient_id,
        )  # fmt: skip
        return _page("Unsubscribed", "You will not receive emails from us any more.")


@sms_blp.before_request
def _signed_by_the_provider() -> None:
    header = request.headers.get(SMS_SIGNATURE_HEADER)
    if not verify_signature(settings().own.sms_inbound_secret, header, request.get_data()):
        abort(401, message=f"a valid {SMS_SIGNATURE_HEADER} header is required")


@sms_blp.route("/sms/inbound")
class SmsInbound(MethodView):
    @sms_blp.doc(
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
    @sms_blp.arguments(SmsInboundSchema)
    @sms_blp.response(200, SmsInboundResultSchema)
    @sms_blp.alt_response(401, description="Missing or wrong signature")
    def post(self, message: dict[str, Any]):
        """A patient's reply: STOP (and its synonyms) opts the number out of texts, START back in."""
        command = inbound_command(message["body"])
        phone = normalize_phone(message["from_"], settings().default_phone_region)
        if command is None or phone is None:
            return {"command": command, "contacts": 0}
        directory = ContactDirectory(db().contacts)
        contacts = directory.with_phone(phone)
        for contact in contacts:
            directory.choose(
                contact["tenant_id"], contact["patient_id"], "sms", command == "start", now()
            )
            audit.record(
                db(), actor="patient:sms-reply", tenant_id=contact["tenant_id"],
                action=f"sms_{command}", object_type="patient_preferences",
                object_id=contact["patient_id"],
            )  # fmt: skip
        return {"command": command, "contacts": len(contacts)}
