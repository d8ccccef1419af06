"""The referral tracker sends `referral.expiring` and `referral.expired` once each, with the
clinic's thresholds (its clock set by the test; real MongoDB stand-in)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.planning import bootstrap
from services.planning.domain.clinic_settings import ClinicSettings
from services.planning.repository.clinic_settings import save_clinic_settings
from services.planning.usecases.referral_tracking import check_due_referrals
from tests.support import planning_data as data


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)  # after the plans the test makes

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock():
    return Clock()


class Tracker:
    """The worker's referral tracker, one pass at a time, on the test's clock."""

    def __init__(self, deps: bootstrap.Deps) -> None:
        self.deps = deps

    def check_due(self) -> None:
        check_due_referrals(self.deps)


@pytest.fixture
def tracker(planning_settings, mongo, clock):
    return Tracker(bootstrap.build(planning_settings, mongo, cache_ttl_s=60, clock=clock))


def local_today(clock) -> date:
    return clock.now.astimezone(ZoneInfo(data.LOCATION_TZ)).date()


def plan_expiring_in(db, deliver, clock, days: int, visits: int = 8):
    """A drafted plan whose referral expires `days` after the tracker's today at the location."""
    intake = data.intake_completed(
        **{
            "referral.valid_from": (local_today(clock) - timedelta(days=7)).isoformat(),
            "referral.expires_on": (local_today(clock) + timedelta(days=days)).isoformat(),
            "referral.authorized_visits": visits,
        }
    )
    deliver(data.intake_event("intake.completed", intake))
    return db.plans.find_one({"referral_id": intake["referral_id"]})["_id"]


def alerts(db, plan_id):
    outbox = db.plans.find_one({"_id": plan_id}).get("outbox", [])
    return [
        (i["event"]["type"], i["event"]["data"].get("kind"), i["event"]["data"].get("remaining"))
        for i in outbox
        if i["event"]["type"].startswith("referral.")
    ]


def test_an_expiring_referral_is_announced_once_then_its_expiry_once(db, deliver, tracker, clock):
    plan_id = plan_expiring_in(db, deliver, clock, days=10)
    tracker.check_due()
    tracker.check_due()
    assert alerts(db, plan_id) == [("referral.expiring", "days", 10)]

    clock.advance(11)
    tracker.check_due()
    clock.advance(1)
    tracker.check_due()
    assert alerts(db, plan_id) == [
        ("referral.expiring", "days", 10),
        ("referral.expired", None, None),
    ]
    assert "referral_check_at" not in db.plans.find_one({"_id": plan_id})


def test_a_referral_far_from_expiry_is_next_checked_the_day_its_first_threshold_is_reached(
    db, deliver, tracker, clock
):
    plan_id = plan_expiring_in(db, deliver, clock, days=60)
    tracker.check_due()
    assert alerts(db, plan_id) == []
    threshold_day = local_today(clock) + timedelta(days=60 - 14)
    midnight = datetime.combine(threshold_day, time(), tzinfo=ZoneInfo(data.LOCATION_TZ))
    assert db.plans.find_one({"_id": plan_id})["referral_check_at"] == midnight.astimezone(UTC)

    clock.now = midnight.astimezone(UTC) + timedelta(minutes=1)
    tracker.check_due()
    assert alerts(db, plan_id) == [("referral.expiring", "days", 14)]


def test_visits_running_out_are_announced_when_sessions_are_booked(db, deliver, tracker, clock):
    plan_id = plan_expiring_in(db, deliver, clock, days=60, visits=3)
    tracker.check_due()
    session = {"session_id": "s1", "status": "scheduled"}
    db.plans.update_one(
        {"_id": plan_id},
        {
            "$set": {
                "sessions": [session],
                "referral_check_at": datetime.now(UTC) - timedelta(seconds=1),
            }
        },
    )
    tracker.check_due()
    [expiring] = [
        i["event"]["data"]
        for i in db.plans.find_one({"_id": plan_id})["outbox"]
        if i["event"]["type"] == "referral.expiring"
    ]
    assert expiring["kind"] == "visits" and expiring["remaining"] == 2
    assert expiring["visits_used"] == 1 and expiring["authorized_visits"] == 3
    assert {"plan_id", "referral_id", "patient_id", "location_id", "expires_on"} <= set(expiring)


def test_a_clinics_own_thresholds_replace_the_defaults(db, deliver, tracker, clock):
    settings = ClinicSettings.from_dict(
        {
            "referral_alerts": {"visits_remaining": [2], "days_remaining": [30, 7]},
            "reassessment": {"every_sessions": 4, "every_days": 21},
        }
    )
    save_clinic_settings(db, data.TENANT, settings, "admin:test")
    plan_id = plan_expiring_in(db, deliver, clock, days=20)
    tracker.check_due()
    assert alerts(db, plan_id) == [("referral.expiring", "days", 20)]


def test_closed_plans_are_no_longer_tracked(db, deliver, tracker, clock):
    plan_id = plan_expiring_in(db, deliver, clock, days=20)
    db.plans.update_one({"_id": plan_id}, {"$set": {"status": "discontinued"}})
    clock.advance(10)
    tracker.check_due()
    assert alerts(db, plan_id) == []
    assert "referral_check_at" not in db.plans.find_one({"_id": plan_id})
