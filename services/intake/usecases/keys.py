"""API keys (principals) of a clinic: issued by the ops CLI and admins, revoked by admins.

A key is saved (only its hash) with its `access.principal_upserted` event in the same write, and
revoked with `access.principal_revoked`, so planning and notifications keep their replicas
(shared/replicas.py) current; a revoked key stops working everywhere within seconds.
"""

from __future__ import annotations

from typing import Any

from services.intake import events
from services.intake.bootstrap import Deps
from services.intake.domain.clinic import key_scope_problem
from services.intake.repository.partners import Partners
from services.intake.repository.principals import Principals
from services.intake.usecases.tenants import get_tenant
from shared.errors import Invalid, NotFound
from shared.paging import Page, PageRequest
from shared.web.auth import ROLES, hash_key, new_key


def create_key(
    deps: Deps,
    tenant_id: str,
    *,
    role: str,
    name: str,
    locations: list[str] | None = None,
    partner_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new API key: the stored principal (hashed) and the raw key, which is shown only once."""
    tenant = get_tenant(deps, tenant_id)
    partner = Partners(deps.db).get(partner_id) if role == "partner" and partner_id else None
    if problem := key_scope_problem(tenant, ROLES, role, locations, partner_id, partner):
        raise Invalid(problem)
    key_id, raw_key = new_key()
    document = {
        "_id": hash_key(raw_key),
        "key_id": key_id,
        "tenant_id": tenant_id,
        "role": role,
        "name": name,
        "locations": None if locations is None else sorted(set(locations)),
        "partner_id": partner_id,
        "version": 1,
        "revoked": False,
        "created_at": deps.clock(),
    }
    Principals(deps.db, tenant_id).insert(document, [events.principal_upserted(document)])
    return document, raw_key


def list_keys(deps: Deps, tenant_id: str, request: PageRequest) -> Page[dict[str, Any]]:
    """The clinic's keys, oldest first (never the keys themselves, nor their hashes)."""
    return Principals(deps.db, tenant_id).page(request)


def revoke_key(deps: Deps, tenant_id: str, key_id: str) -> dict[str, Any]:
    """Revoke a key once (revoking it again changes nothing); emits `access.principal_revoked`."""
    principals = Principals(deps.db, tenant_id)
    current = principals.by_key_id(key_id)
    if current is None:
        raise NotFound(f"no key {key_id!r}")
    if current.get("revoked"):
        return current
    principals.revoke(current, [events.principal_revoked(current)])
    return {**current, "revoked": True, "version": current["version"] + 1}
