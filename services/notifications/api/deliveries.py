"""The delivery log: every notification with its status, attempts and the provider's answer."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from shared.web.auditing import audit_request
from shared.web.auth import STAFF_ROLES, current_principal, requires

from ..repository.deliveries import DeliveryLog
from .context import db, settings
from .schemas import DeliveryQuerySchema, DeliverySchema

blp = Blueprint(
    "deliveries",
    __name__,
    description="The delivery log (staff of the clinic; only the locations they may see)",
)
FILTER_FIELDS = {
    "status": "status",
    "recipient": "recipient_key",
    "event_id": "event.id",
    "event_type": "event.type",
    "channel": "channel",
}


def _log() -> DeliveryLog:
    principal = current_principal()
    return DeliveryLog(db().deliveries, principal.tenant_id, principal.locations)


def _audit(action: str, object_id: str | None) -> None:
    audit_request(action, "delivery", object_id)


@blp.route("/deliveries")
class Deliveries(MethodView):
    @requires(*STAFF_ROLES)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    def get(self, query: dict[str, Any]):
        """List deliveries, newest first; filter by status, recipient, event or channel."""
        limit = min(query.pop("limit"), settings().max_page_size)
        offset = query.pop("offset")
        filters = {FILTER_FIELDS[name]: value for name, value in query.items()}
        rows = _log().list(filters, limit, offset)
        _audit("list", query.get("recipient"))
        return rows


@blp.route("/deliveries/<string:delivery_id>")
class Delivery(MethodView):
    @requires(*STAFF_ROLES)
    @blp.response(200, DeliverySchema)
    @blp.alt_response(404, description="No such delivery in this clinic")
    def get(self, delivery_id: str):
        """One delivery: status, attempts, the provider's answer and the last error."""
        row = _log().get(delivery_id)
        if row is None:
            abort(404, message="no such delivery")
        _audit("read", delivery_id)
        return row
