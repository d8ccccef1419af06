"""Partners (referral networks, EHRs) and the clinics they may refer to: ops tasks (the CLI).

A partner is not tenant data: it names the tenants it may refer to, and its AMQP user name is
its id. Its status queue is declared by the intake worker (`partner_queues/`). Its
`status_format` (`domain/partner_settings.py`) says whether its status events are native JSON
or FHIR Tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.intake.bootstrap import Deps
from services.intake.domain.clinic import slug_problem
from services.intake.domain.partner_settings import NATIVE, status_format_problem
from services.intake.repository.partners import Partners
from services.intake.usecases.tenants import get_tenant
from shared.errors import Conflict, Invalid, NotFound
from shared.paging import Page, PageRequest


def create_partner(
    deps: Deps,
    *,
    partner_id: str,
    name: str,
    tenants: Iterable[str] = (),
    status_format: str = NATIVE,
) -> dict[str, Any]:
    if problem := slug_problem("partner_id", partner_id) or status_format_problem(status_format):
        raise Invalid(problem)
    allowed = sorted(set(tenants))
    for tenant_id in allowed:
        get_tenant(deps, tenant_id)
    document = {
        "_id": partner_id,
        "name": name,
        "tenants": allowed,
        "status_format": status_format,
        "version": 1,
        "status_queue_declared": False,
        "created_at": deps.clock(),
    }
    if not Partners(deps.db).insert(document):
        raise Conflict(f"partner {partner_id!r} already exists")
    return document


def set_partner_allowed(
    deps: Deps, partner_id: str, tenant_id: str, allowed: bool
) -> dict[str, Any]:
    """Allow (or stop) a partner referring to a tenant."""
    get_tenant(deps, tenant_id)
    document = Partners(deps.db).set_allowed(partner_id, tenant_id, allowed)
    if document is None:
        raise NotFound(f"no partner {partner_id!r}")
    return document


def set_status_format(deps: Deps, partner_id: str, status_format: str) -> dict[str, Any]:
    """Native JSON or FHIR Tasks from the next status event on (the worker's partner cache
    may send the previous form for a few seconds)."""
    if problem := status_format_problem(status_format):
        raise Invalid(problem)
    document = Partners(deps.db).set_status_format(partner_id, status_format)
    if document is None:
        raise NotFound(f"no partner {partner_id!r}")
    return document


def partners_of(deps: Deps, tenant_id: str, request: PageRequest) -> Page[dict[str, Any]]:
    """The partners that may refer patients to the clinic, by id."""
    return Partners(deps.db).page_of_tenant(tenant_id, request)
