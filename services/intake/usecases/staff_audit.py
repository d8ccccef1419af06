"""The audit records of staff sign-in and account changes, written by the use cases themselves
(there is no signed-in principal yet: sign-in, links): the person is named when known."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.bootstrap import Deps
from shared import audit

ANONYMOUS = "anonymous"


def record(
    deps: Deps,
    tenant_id: str,
    user: Mapping[str, Any] | None,
    action: str,
    *,
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    """`action` on the user's account (`user` None: no such account), by that person."""
    audit.record(
        deps.db,
        actor=f"user:{user['_id']}" if user else ANONYMOUS,
        actor_name=user["name"] if user else None,
        tenant_id=tenant_id,
        action=action,
        object_type="user",
        object_id=user["_id"] if user else None,
        outcome=outcome,
        detail=detail,
    )
