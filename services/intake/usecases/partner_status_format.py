"""What a use case needs to write a partner's status: the partner's format, and the clinic.

The one way to choose a partner's format is its setting (`domain/partner_settings.py`:
`status_format_of`), read through the partners cache of `Deps`: `status_format`. The clinic that
speaks (`clinic_context`: its name, where intake's ids live, now) is what a FHIR Task names
besides the referral; the internal events carry the same name for the prescriber's letters.
Serves the use cases that emit status (receiving, acceptance, review, refusals, milestones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.bootstrap import Deps
from services.intake.domain.fhir_task import TaskContext
from services.intake.domain.partner_settings import status_format_of
from services.intake.repository.tenants import Tenants


def status_format(deps: Deps, partner_id: str | None) -> str:
    """The partner's status format (native for a referral no partner sent, or a partner gone)."""
    return status_format_of(deps.partners.get(partner_id) if partner_id else None)


def clinic_context(
    deps: Deps, tenant_id: str, tenant: Mapping[str, Any] | None = None
) -> TaskContext:
    """The clinic as its status events name it. `tenant`: the clinic's document when the caller
    has read it already (read here otherwise); `{}` names the clinic by its id only (a clinic
    the partner may not refer to is not described to it)."""
    if tenant is None:
        tenant = Tenants(deps.db, tenant_id).get() or {}
    return TaskContext(
        clinic_name=tenant.get("name") or tenant_id,
        tenant_id=tenant_id,
        base_url=deps.settings.own.public_base_url,
        now=deps.clock(),
    )
