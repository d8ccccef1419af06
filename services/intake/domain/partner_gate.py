"""The gate of partner referrals: which messages a partner may send, for which clinic.

Over AMQP the broker vouches for the sender (the validated `user_id`); the message must come
from a known partner, be routed under its own id, and name a clinic the partner may refer to.
Over HTTP the partner's API key names it, and the same `may_refer` decides. A refused message
is answered with one reason `{field, message}` and never processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Partner = Mapping[str, Any]


def may_refer(partner: Partner | None, tenant_id: str | None) -> bool:
    """The partner exists, is not disabled, and may refer patients to this clinic."""
    if partner is None or partner.get("disabled"):
        return False
    return tenant_id in partner.get("tenants", [])


def refusal(
    user_id: str | None,
    routing_key: str,
    event_type: str,
    tenant_id: str | None,
    partner: Partner | None,
) -> dict[str, str] | None:
    """Why the gate refuses the message (one reason), or None: it may pass.

    `partner` is the partner named `user_id` (None: no such partner).
    """
    if not user_id:
        message = "the AMQP user_id property is required: set it to your RabbitMQ user name"
        return {"field": "user_id", "message": message}
    if partner is None:
        return {"field": "user_id", "message": f"{user_id!r} is not a known partner"}
    if partner.get("disabled"):
        return {"field": "user_id", "message": f"partner {user_id!r} is disabled"}
    if not routing_key.startswith(f"{user_id}."):
        message = f"must start with your partner id: {user_id}.{event_type}"
        return {"field": "routing_key", "message": message}
    if not may_refer(partner, tenant_id):
        message = f"partner {user_id!r} may not refer to clinic {tenant_id!r}"
        return {"field": "tenantid", "message": message}
    return None
