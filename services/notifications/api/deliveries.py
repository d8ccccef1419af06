"""The delivery log: every notification with its status, attempts and the provider's answer."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

from ..usecases import delivery_log
from .schemas import DeliveryQuerySchema, DeliverySchema

blp = Blueprint(
    "deliveries",
    __name__,
    description="The delivery log (staff of the clinic; only the locations they may see)",
)


@blp.route("/deliveries")
class DeliveryCollection(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, page_schema(DeliverySchema))
    def get(self, args: dict[str, Any]):
        """List deliveries, newest first; filter by status, recipient, event or channel."""
        request, filters = page_request(args)
        with audited("list", "delivery", filters.get("recipient")):
            return delivery_log.list_deliveries(deps(), principal(), filters, request)


@blp.route("/deliveries/<string:delivery_id>")
class DeliveryItem(View):
    @requires(*STAFF_ROLES)
    @blp.response(200, DeliverySchema)
    @blp.alt_response(404, description="No such delivery in this clinic")
    def get(self, delivery_id: str):
        """One delivery: status, attempts, the provider's answer and the last error."""
        with audited("read", "delivery", delivery_id):
            return delivery_log.get_delivery(deps(), principal(), delivery_id)
