"""The events intake emits: to its own exchange (`intake.events`) and, for partners, to `partner.status`.

Partner status events are routed `<partner_id>.<type>`, so each partner's queue (bound with
`<partner_id>.#`) receives only its own. Their data is what the partner sent back to it, never
more: `partner_referral_id, referral_id, status, reasons, version`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.events import new_event, outbox
from shared.events.outbox import Outgoing
from shared.events.topology import PARTNER_STATUS_EXCHANGE

SOURCE = "clinic/intake"
SERVICE = "intake"


def internal(type: str, tenant_id: str, data: dict[str, Any], subject: str | None) -> Outgoing:
    event = new_event(type, source=SOURCE, tenant_id=tenant_id, data=data, subject=subject)
    return outbox.to_exchange_of(SERVICE, event)


def partner_status(
    partner_id: str,
    type: str,
    tenant_id: str,
    *,
    partner_referral_id: str | None,
    referral_id: str | None,
    reasons: Sequence[Mapping[str, str]] = (),
    version: int | None = None,
) -> Outgoing:
    """A status event for one partner: `referral.accepted`, `.rejected` or `.cancelled`."""
    data = {
        "partner_referral_id": partner_referral_id,
        "referral_id": referral_id,
        "status": type.removeprefix("referral."),
        "reasons": [dict(r) for r in reasons],
        "version": version,
    }
    event = new_event(type, source=SOURCE, tenant_id=tenant_id, data=data, subject=referral_id)
    return Outgoing(event, PARTNER_STATUS_EXCHANGE, status_routing_key(partner_id, type))


def status_routing_key(partner_id: str, type: str) -> str:
    return f"{partner_id}.{type}"
