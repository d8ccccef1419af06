"""Partners (referral networks, EHRs) and the clinics they may refer to: ops tasks (the CLI).

A partner is not tenant data: it names the tenants it may refer to, and its AMQP user name is
its id. Onboarding is one command: `onboard_partner` records the partner and makes its broker
user with least privilege and its status queue (`partner_queues/broker_users.py`), and the
password is shown once; `rotate_partner_secret` gives it a new one (closing what the old one
opened); `disable_partner` removes its broker user, closes its connections and stops its
referrals at the gate (over AMQP and HTTP alike). The intake worker also declares the status
queue of every partner it knows (`partner_queues/status_queues.py`). Its `status_format`
(`domain/partner_settings.py`) says whether its status events are native JSON or FHIR Tasks;
only ops changes it (`set_status_format`), not a clinic's admin: a partner refers to several.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, Protocol

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


class BrokerUsers(Protocol):
    """What the partner commands need of the broker (`partner_queues.broker_users`)."""

    def provision(self, partner_id: str, password: str) -> None: ...

    def remove(self, partner_id: str) -> None: ...

    def close_connections(self, partner_id: str) -> int: ...


def new_password() -> str:
    """A broker password: 40 hex digits (safe inside an amqp:// URL)."""
    return secrets.token_hex(20)


def onboard_partner(
    deps: Deps,
    broker: BrokerUsers,
    *,
    partner_id: str,
    name: str,
    tenants: Iterable[str] = (),
    status_format: str = NATIVE,
) -> dict[str, Any]:
    """A new partner with its broker user and status queue; the answer holds its password, once.

    If the broker fails after the partner is recorded, `rotate_partner_secret` finishes the job.
    """
    document = create_partner(
        deps, partner_id=partner_id, name=name, tenants=tenants, status_format=status_format
    )
    password = new_password()
    broker.provision(partner_id, password)
    Partners(deps.db).mark_declared([partner_id])
    return {**document, "status_queue_declared": True, "amqp_password": password}


def rotate_partner_secret(deps: Deps, broker: BrokerUsers, partner_id: str) -> dict[str, Any]:
    """A new broker password for an enabled partner (its user remade with the least permissions);
    connections opened with the old one are closed."""
    partner = Partners(deps.db).get(partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id!r}")
    if partner.get("disabled"):
        raise Conflict(f"partner {partner_id!r} is disabled")
    password = new_password()
    broker.provision(partner_id, password)
    closed = broker.close_connections(partner_id)
    return {"partner_id": partner_id, "amqp_password": password, "connections_closed": closed}


def disable_partner(deps: Deps, broker: BrokerUsers, partner_id: str) -> dict[str, Any]:
    """Stop a partner: its referrals are refused at the gate (within the partner cache's few
    seconds), its broker user is removed and its connections closed. Its status queue stays."""
    partner = Partners(deps.db).disable(partner_id, deps.clock())
    if partner is None:
        raise NotFound(f"no partner {partner_id!r}")
    broker.remove(partner_id)
    closed = broker.close_connections(partner_id)
    return {**partner, "connections_closed": closed}
