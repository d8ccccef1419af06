"""Auditing from an HTTP request: the authenticated principal did `action` to an object."""

from __future__ import annotations

from flask import current_app

from shared import audit
from shared.web.auth import current_principal


def audit_request(
    action: str,
    object_type: str,
    object_id: str | None = None,
    *,
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    principal = current_principal()
    audit.record(
        current_app.extensions["mongo"].db,
        actor=principal.actor,
        tenant_id=principal.tenant_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail,
        actor_name=principal.name if principal.user_id else None,
    )
