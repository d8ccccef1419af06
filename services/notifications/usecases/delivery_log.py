"""The delivery log: what staff may read of the deliveries (their clinic, their locations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.errors import NotFound
from shared.paging import Page, PageRequest
from shared.web.auth import Principal

from ..repository.deliveries import DeliveryLog

if TYPE_CHECKING:
    from ..bootstrap import Deps


def list_deliveries(
    deps: Deps, principal: Principal, filters: Mapping[str, Any], request: PageRequest
) -> Page[dict[str, Any]]:
    """A page of the caller's deliveries, newest first, by status, recipient, event or channel."""
    return _log(deps, principal).page(filters, request)


def get_delivery(deps: Deps, principal: Principal, delivery_id: str) -> dict[str, Any]:
    """One delivery: status, attempts, the provider's answer and the last error."""
    if (delivery := _log(deps, principal).get(delivery_id)) is None:
        raise NotFound("no such delivery")
    return delivery


def _log(deps: Deps, principal: Principal) -> DeliveryLog:
    return DeliveryLog(deps.db.deliveries, principal.tenant_id, principal.locations)
