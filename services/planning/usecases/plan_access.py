"""Which plan a staff member reaches, and the checks a plan or session use case makes first.

A plan is visible to a principal of its tenant whose locations include the plan's; any other
plan (another clinic's too) is "not found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.planning.bootstrap import Deps
from services.planning.domain.plan_document import find_session, last_change_of
from services.planning.repository.plans import Plans
from shared.errors import Conflict, NotFound, StaleVersion
from shared.web.auth import Principal


def visible_plan(deps: Deps, principal: Principal, plan_id: str) -> dict[str, Any]:
    plan = Plans(deps.db, principal.tenant_id).get(plan_id)
    if plan is None or not principal.may_see_location(plan.get("location_id")):
        raise NotFound(f"no plan {plan_id!r}")
    return plan


def existing_session(plan: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    session = find_session(plan, session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} in plan {plan['_id']!r}")
    return session


def expect_version(plan: Mapping[str, Any], version: int) -> None:
    """Nobody overwrites a change they have not seen: a write names the version it was made on;
    a stale one hears who made the current version and when (`StaleVersion.current`)."""
    current = plan.get("version", 0)
    if current != version:
        change = last_change_of(plan)
        at = change.get("at")
        raise StaleVersion(
            f"the plan is at version {current}, not {version}; reload it first",
            {
                "version": current,
                "changed_by": change.get("by"),
                "changed_by_name": change.get("name"),
                "changed_at": at.isoformat() if isinstance(at, datetime) else at,
            },
        )


def expect_active(plan: Mapping[str, Any], what: str) -> None:
    if plan["status"] != "active":
        raise Conflict(f"only an active plan can {what}; this plan is {plan['status']}")


def local_today(deps: Deps, plan: Mapping[str, Any], now: datetime) -> date:
    """Today at the plan's location (referral dates are local dates)."""
    return now.astimezone(deps.zone_of(plan["tenant_id"], plan.get("location_id"))).date()
