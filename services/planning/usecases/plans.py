"""Use cases on plans for staff: read, edit, approve, complete, discontinue; history and progress.

A plan is visible to a principal of its tenant whose locations include the plan's; any other
plan answers 404. Writes are guarded by the plan's ``rev``; an edit or a status change also
names the ``version`` it was made on, so nobody overwrites a change they have not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pymongo.database import Database

from services.planning import events
from services.planning.domain.condition_tables import DEFAULT_TABLES, ConditionTables
from services.planning.domain.plan_content import (
    PlanContentError,
    referral_problems,
    stored_changes,
)
from services.planning.domain.plan_lifecycle import (
    EditNotAllowed,
    InvalidTransition,
    change_status,
    edit_plan,
)
from services.planning.domain.progress import reassessment_due
from services.planning.domain.scheduling import LocalTimeError, zone
from services.planning.errors import Conflict, Invalid, NotFound
from services.planning.plan_changes import (
    Change,
    applied,
    close,
    content_of,
    history_document,
    plan_view,
)
from services.planning.plan_views import (
    last_assessed_at,
    referral_of,
)
from services.planning.resources import plan_resource, progress_resource
from services.planning.storage.locations import find_location
from services.planning.storage.plans import Plans
from services.planning.storage.tenant_settings import load_settings
from shared.web.auth import Principal

ATTEMPTS = 3
Clock = Callable[[], datetime]


class PlanService:
    def __init__(
        self,
        db: Database,
        principal: Principal,
        clock: Clock = lambda: datetime.now(UTC),
        tables: ConditionTables = DEFAULT_TABLES,
    ) -> None:
        self.db = db
        self.principal = principal
        self.plans = Plans(db, principal.tenant_id)
        self.clock = clock
        self.tables = tables

    # --- reads -----------------------------------------------------------------------------

    def visible(self, plan_id: str) -> dict[str, Any]:
        plan = self.plans.get(plan_id)
        if plan is None or not self.principal.may_see_location(plan.get("location_id")):
            raise NotFound(f"no plan {plan_id!r}")
        return plan

    def page(self, filters: Mapping[str, Any], page: int, page_size: int) -> list[dict]:
        locations = self.principal.locations
        found = self.plans.page(filters, locations, (page - 1) * page_size, page_size)
        return [plan_resource(p) for p in found]

    def get(self, plan_id: str) -> dict[str, Any]:
        return plan_resource(self.visible(plan_id))

    def history(self, plan_id: str) -> list[dict[str, Any]]:
        return list(reversed(self.visible(plan_id).get("history", [])))

    def progress(self, plan_id: str) -> dict[str, Any]:
        plan = self.visible(plan_id)
        today = local_today(self.db, plan, self.clock())
        return progress_resource(plan, today, self._reassessment(plan, today))

    def _reassessment(self, plan: Mapping[str, Any], today: date) -> dict[str, Any]:
        policy = load_settings(self.db, self.principal.tenant_id).reassessment
        last = last_assessed_at(plan)
        since = sum(
            1
            for s in plan.get("sessions", ())
            if s["status"] == "completed" and (last is None or s["starts_at"] > last)
        )
        due = last is not None and reassessment_due(since, last.date(), today, policy)
        return {
            "due": due,
            "sessions_since": since,
            "last_assessed_at": last,
            "every_sessions": policy.every_sessions,
            "every_days": policy.every_days,
        }

    # --- writes ----------------------------------------------------------------------------

    def edit(self, plan_id: str, version: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        def decide(plan: dict[str, Any]) -> Change | None:
            _expect_version(plan, version)
            try:
                stored = stored_changes(changes, plan.get("baseline") or {}, self.tables)
                edited = edit_plan(plan_view(plan), stored, self.principal.actor, self.clock())
            except PlanContentError as error:
                raise Invalid("the edit breaks a plan rule", error.errors) from None
            except EditNotAllowed as error:
                raise Conflict(str(error)) from None
            if edited is None:
                return None
            content = content_of(edited.plan)
            problems = referral_problems(content, referral_of(plan))
            touched = {
                k: v for k, v in problems.items() if k in edited.history_entry.changed_fields
            }
            if touched:
                raise Invalid("the plan would not fit the referral", touched)
            fields = {"content": content, "version": edited.plan["version"]}
            return Change(fields, history=history_document(edited.history_entry))

        return plan_resource(self.change(plan_id, decide))

    def approve(self, plan_id: str, version: int) -> dict[str, Any]:
        def decide(plan: dict[str, Any]) -> Change:
            _expect_version(plan, version)
            now = self.clock()
            if plan["status"] == "draft":
                self._check_fits_referral(plan, local_today(self.db, plan, now))
            approved = _status_change(plan, "active", self.principal.actor, now)
            fields = {"status": "active", "version": approved.plan["version"]}
            after = {**plan, **fields}
            return Change(
                fields, [events.activated(after)], history_document(approved.history_entry)
            )

        return plan_resource(self.change(plan_id, decide))

    def close(self, plan_id: str, version: int, target: str, reason: str) -> dict[str, Any]:
        """Complete (from active) or discontinue (from held, draft or active)."""

        def decide(plan: dict[str, Any]) -> Change:
            _expect_version(plan, version)
            try:
                return close(plan, target, reason, self.principal.actor, self.clock())
            except InvalidTransition as error:
                raise Conflict(str(error)) from None

        return plan_resource(self.change(plan_id, decide))

    def _check_fits_referral(self, plan: Mapping[str, Any], today: date) -> None:
        referral = referral_of(plan)
        problems = referral_problems(plan["content"], referral)
        if today > referral.expires_on:
            problems["referral"] = [f"the referral expired on {referral.expires_on.isoformat()}"]
        if problems:
            raise Conflict("the plan does not fit the referral; edit it first", problems)

    def change(self, plan_id: str, decide: Callable[[dict[str, Any]], Change | None]) -> dict:
        """Read the plan, decide the change, write it guarded by ``rev``; again if it lost a race.

        Returns the plan as saved (as read when ``decide`` returns None)."""
        for _ in range(ATTEMPTS):
            plan = self.visible(plan_id)
            change = decide(plan)
            if change is None:
                return plan
            if self.plans.save(plan, change.update(), change.events):
                return after_change(plan, change)
        raise Conflict("the plan was changed by someone else at the same time; reload and retry")


# --- helpers shared with the session use cases -----------------------------------------------


def _expect_version(plan: Mapping[str, Any], version: int) -> None:
    if plan.get("version", 0) != version:
        raise Conflict(
            f"the plan is at version {plan.get('version', 0)}, not {version}; reload it first"
        )


def _status_change(plan: Mapping[str, Any], target: str, by: str, now: datetime) -> Any:
    try:
        return change_status(plan_view(plan), target, by, now)
    except InvalidTransition as error:
        raise Conflict(str(error)) from None


def after_change(plan: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """The plan as just saved."""
    return applied(plan, change) | {"rev": plan["rev"] + 1}


def local_today(db: Database, plan: Mapping[str, Any], now: datetime) -> date:
    location = find_location(db, plan["tenant_id"], plan.get("location_id") or "")
    try:
        return now.astimezone(zone(location.timezone if location else "UTC")).date()
    except LocalTimeError:
        return now.astimezone(UTC).date()
