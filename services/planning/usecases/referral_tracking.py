"""Referral tracking: `referral.expiring` and `referral.expired`, each sent once.

``referral_check`` computes, for a plan as it will be stored, the alerts due now (with the
clinic's thresholds, in the plan location's time zone) and when a date alert may next fall due.
Every write that changes what the alerts depend on (a plan drafted, a session booked, a
referral amended) folds that check into the same write (``with_referral_check``), so visit
alerts go out with the booking that caused them. What remains is the passage of time: the
plan's ``referral_check_at`` is the local midnight of the next day a days-threshold or the
expiry is reached, and the worker's tracker calls ``check_due_referrals`` for plans due. Each
alert's key is stored with its event in one guarded write; two trackers racing on a plan: one
write wins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from services.planning import events
from services.planning.bootstrap import Deps
from services.planning.domain.plan_document import visits_used
from services.planning.domain.referral_tracking import (
    TRACKED_STATUSES,
    Alert,
    CheckContext,
    next_check_on,
    referral_alerts,
)
from services.planning.repository.plans import Plans, due_for_referral_check
from services.planning.usecases.plan_changes import Change, applied, combine
from shared.events import outbox

log = logging.getLogger("planning.referral_tracking")
BATCH = 100
EVENT_KIND = {"visits_remaining": "visits", "visits_exhausted": "visits", "days_remaining": "days"}


def check_context(deps: Deps, plan: Mapping[str, Any]) -> CheckContext:
    """The zone of the plan's location and its clinic's thresholds (cached in the worker)."""
    tenant_id = plan["tenant_id"]
    return CheckContext(
        deps.zone_of(tenant_id, plan.get("location_id")),
        deps.clinic_settings.get(tenant_id).alerts,
    )


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


def with_referral_check(
    plan: Mapping[str, Any], change: Change, now: datetime, context: CheckContext
) -> Change:
    """``change`` and the referral alerts it causes (visits running out, a new expiry), as one."""
    return combine(change, referral_check(applied(plan, change), now, context))


@dataclass(frozen=True)
class TrackerPass:
    events_saved: int
    more_waiting: bool  # a full batch was due: check again at once


def check_due_referrals(deps: Deps) -> TrackerPass:
    """Check every plan (of any clinic) whose referral check is due now."""
    now = deps.clock()
    due = due_for_referral_check(deps.db, now, BATCH)
    saved = 0
    for plan in due:
        change = referral_check(plan, now, check_context(deps, plan))
        if Plans(deps.db, plan["tenant_id"]).save(plan, change.update(), change.events):
            saved += len(change.events)
        else:
            log.info("plan changed while checking its referral; checked again next time")
    return TrackerPass(saved, len(due) == BATCH)


def _event(plan: Mapping[str, Any], alert: Alert, used: int) -> outbox.Outgoing:
    if alert.kind == "expired":
        return events.referral_alert(plan, "expired", 0, used)
    remaining = alert.days_remaining if alert.kind == "days_remaining" else alert.visits_remaining
    return events.referral_alert(plan, EVENT_KIND[alert.kind], remaining, used)
