"""Referral tracking: `referral.expiring` and `referral.expired`, each sent once.

``referral_check`` computes, for a plan as it will be stored, the alerts due now (with the
clinic's thresholds, in the plan location's time zone) and when a date alert may next fall due.
Every write that changes what the alerts depend on (a plan drafted, a session booked, a
referral amended) folds that check into the same write, so visit alerts go out with the booking
that caused them. What remains is the passage of time: the plan's ``referral_check_at`` is the
local midnight of the next day a days-threshold or the expiry is reached, and the worker's
``ReferralTracker`` polls for plans due (every ``scheduler_poll_interval_s``). Each alert's key
is stored with its event in one guarded write; two trackers racing on a plan: one write wins.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from pymongo.database import Database

from services.planning import events
from services.planning.domain.referral_tracking import (
    Alert,
    AlertThresholds,
    next_check_on,
    referral_alerts,
)
from services.planning.domain.scheduling import LocalTimeError, zone
from services.planning.plan_changes import TRACKED_STATUSES, Change
from services.planning.plan_views import visits_used
from services.planning.storage.locations import find_location
from services.planning.storage.plans import Plans
from services.planning.storage.tenant_settings import load_settings

log = logging.getLogger("planning.referral_tracker")
BATCH = 100
PROJECTION = {"history": 0, "intake": 0, "outbox": 0, "applied_events": 0, "measurements": 0}
EVENT_KIND = {"visits_remaining": "visits", "visits_exhausted": "visits", "days_remaining": "days"}


@dataclass(frozen=True)
class CheckContext:
    timezone: tzinfo
    thresholds: AlertThresholds

    def today(self, now: datetime) -> date:
        return now.astimezone(self.timezone).date()


def referral_check(plan: Mapping[str, Any], now: datetime, context: CheckContext) -> Change:
    """The alerts due for ``plan`` now and its next check, as fields and events of one write."""
    if plan.get("status") not in TRACKED_STATUSES or not plan.get("referral"):
        return Change({}, unset=("referral_check_at",))
    referral, used, today = plan["referral"], visits_used(plan), context.today(now)
    expires_on = date.fromisoformat(referral["expires_on"])
    sent = list(plan.get("alerts_sent", ()))
    alerts = referral_alerts(
        used, referral["authorized_visits"], today, expires_on, set(sent), context.thresholds
    )
    sent += [a.key for a in alerts]
    after = {**plan, "alerts_sent": sent}
    outgoing = [_event(after, alert, used) for alert in alerts]
    check_on = next_check_on(today, expires_on, set(sent), context.thresholds)
    if check_on is None:
        return Change({"alerts_sent": sent}, outgoing, unset=("referral_check_at",))
    at = datetime.combine(check_on, time(), tzinfo=context.timezone).astimezone(UTC)
    return Change({"alerts_sent": sent, "referral_check_at": at}, outgoing)


class CheckContexts:
    """The time zone of a plan's location and its clinic's thresholds, kept for ``ttl_s``."""

    def __init__(self, db: Database, ttl_s: float = 60.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._zones: dict[tuple[str, str], tuple[float, tzinfo]] = {}
        self._thresholds: dict[str, tuple[float, AlertThresholds]] = {}

    def for_plan(self, plan: Mapping[str, Any]) -> CheckContext:
        tenant_id = plan["tenant_id"]
        return CheckContext(
            self.timezone(tenant_id, plan.get("location_id") or ""), self._alerts(tenant_id)
        )

    def timezone(self, tenant_id: str, location_id: str) -> tzinfo:
        return self._cached(self._zones, (tenant_id, location_id), self._load_zone)

    def forget(self) -> None:
        self._zones.clear()
        self._thresholds.clear()

    def _alerts(self, tenant_id: str) -> AlertThresholds:
        return self._cached(self._thresholds, tenant_id, lambda t: load_settings(self.db, t).alerts)

    def _load_zone(self, key: tuple[str, str]) -> tzinfo:
        location = find_location(self.db, *key)
        try:
            return zone(location.timezone if location else "UTC")
        except LocalTimeError:
            return UTC

    def _cached(self, cache: dict, key: Any, load: Callable[[Any], Any]) -> Any:
        found = cache.get(key)
        if found is None or monotonic.monotonic() - found[0] > self.ttl_s:
            found = cache[key] = (monotonic.monotonic(), load(key))
        return found[1]


class ReferralTracker:
    """The worker component that sends the date alerts as days pass."""

    name = "referral-tracker"

    def __init__(
        self,
        db: Database,
        poll_interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.on_events = on_events
        self.contexts = CheckContexts(db)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.check_due():
                stop.wait(self.poll_interval_s)

    def check_due(self) -> bool:
        """Check every plan due now; True if a full batch was found (more may be waiting)."""
        now = self.clock()
        due = list(
            self.db.plans.find({"referral_check_at": {"$lte": now}}, PROJECTION)
            .sort("referral_check_at", 1)
            .limit(BATCH)
        )
        sent = 0
        for plan in due:
            change = referral_check(plan, now, self.contexts.for_plan(plan))
            if Plans(self.db, plan["tenant_id"]).save(plan, change.update(), change.events):
                sent += len(change.events)
            else:
                log.info("plan changed while checking its referral; checked again next time")
        if sent:
            self.on_events()
        return len(due) == BATCH


def _event(plan: Mapping[str, Any], alert: Alert, used: int) -> Any:
    if alert.kind == "expired":
        return events.referral_alert(plan, "expired", 0, used)
    remaining = alert.days_remaining if alert.kind == "days_remaining" else alert.visits_remaining
    return events.referral_alert(plan, EVENT_KIND[alert.kind], remaining, used)
