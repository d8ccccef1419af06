"""Intake's events turn into plans: drafted, held until cleared, or blocked with reasons; in any
order and however often they arrive (handlers called directly, real MongoDB stand-in)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.events import Reject
from tests.support import planning_data as data

PLAN_FIELDS = {"plan_id", "referral_id", "patient_id", "location_id"}


def plan_of(db, referral_id):
    return db.plans.find_one({"tenant_id": data.TENANT, "referral_id": referral_id})


def outbox(plan):
    return [(item["event"]["type"], item["event"]["data"]) for item in plan.get("outbox", [])]


def types(plan):
    return [t for t, _ in outbox(plan)]


def test_a_completed_intake_drafts_a_plan_within_the_referral_with_one_goal_per_measure(
    db, deliver
):
    intake = data.intake_completed()
    assert deliver(data.intake_event("intake.completed", intake)) is True

    plan = plan_of(db, intake["referral_id"])
    content = plan["content"]
    assert plan["status"] == "draft" and plan["version"] == 1
    assert content["condition_group"] == "low_back_pain"
    assert "deep_tissue" in [t["code"] for t in content["techniques"]]
    assert content["planned_sessions"] <= intake["referral"]["authorized_visits"]
    assert content["end_on"] <= intake["referral"]["expires_on"]
    goals = {g["measure"]: g for g in content["goals"]}
    assert goals["NPRS"]["target"] == 5.0 and goals["ODI"]["target"] == 30.0
    [(kind, payload)] = outbox(plan)
    assert kind == "plan.drafted"
    assert set(payload) == PLAN_FIELDS | {
        "techniques",
        "session_minutes",
        "frequency_per_week",
        "planned_sessions",
        "start_on",
        "end_on",
        "goals",
        "version",
    }
    assert payload["goals"][0] == {
        "measure": "NPRS",
        "baseline": 7.0,
        "target": 5.0,
        "due_on": content["end_on"],
    }


@pytest.mark.parametrize(
    ("screening", "absent", "expected"),
    [
        (
            {"screening.outcome": "modify", "screening.modifications": ["no deep tissue"]},
            {"deep_tissue", "trigger_point"},
            {"precautions": ["no deep tissue"]},
        ),
        (
            {"screening.outcome": "local", "screening.excluded_areas": ["left calf"]},
            set(),
            {"excluded_areas": ["left calf"]},
        ),
    ],
)
def test_screening_adjusts_the_draft(db, deliver, screening, absent, expected):
    intake = data.intake_completed(**screening, body_areas=["lower back", "left calf"])
    deliver(data.intake_event("intake.completed", intake))

    content = plan_of(db, intake["referral_id"])["content"]
    assert not absent & {t["code"] for t in content["techniques"]}
    for field, value in expected.items():
        assert content[field] == value
    assert "left calf" not in content["treatment_areas"] or not expected.get("excluded_areas")


def test_a_blocked_screening_makes_no_plan_and_shows_the_reasons(db, deliver):
    intake = data.blocked()
    deliver(data.intake_event("intake.completed", intake))

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "cannot_plan" and "content" not in plan
    assert [r["rule_id"] for r in plan["reasons"]] == ["suspected_dvt"]
    [(kind, payload)] = outbox(plan)
    assert kind == "plan.cannot_plan" and payload["reasons"][0]["tier"] == "absolute"


def test_a_plan_needing_clearance_is_held_then_drafted_once_cleared(db, deliver):
    intake = data.needs_clearance()
    deliver(data.intake_event("intake.completed", intake))
    held = plan_of(db, intake["referral_id"])
    assert held["status"] == "held" and held["awaiting"] == ["heart_disease"]

    cleared = data.screening_updated(intake, ["heart_disease"])
    deliver(data.intake_event("intake.screening_updated", cleared))

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "draft" and plan["_id"] == held["_id"]
    assert types(plan) == ["plan.held", "plan.drafted"]


def test_a_clearance_before_its_intake_completed_ends_drafted(db, deliver):
    intake = data.needs_clearance()
    cleared = data.screening_updated(intake, ["heart_disease"])
    deliver(data.intake_event("intake.screening_updated", cleared))
    deliver(data.intake_event("intake.completed", intake))

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "draft"
    assert types(plan) == ["plan.drafted"]


def test_one_of_two_clearances_keeps_the_plan_held_for_the_other(db, deliver):
    intake = data.needs_clearance(
        **{
            "screening.reasons": [
                data.reason("heart_disease", "clearance"),
                data.reason("recent_stroke", "clearance"),
            ]
        }
    )
    deliver(data.intake_event("intake.completed", intake))
    deliver(
        data.intake_event(
            "intake.screening_updated", data.screening_updated(intake, ["heart_disease"])
        )
    )

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "held" and plan["awaiting"] == ["recent_stroke"]
    assert types(plan) == ["plan.held", "plan.held"]


@pytest.mark.parametrize("order", list(itertools.permutations(["completed", "cleared", "repeat"])))
def test_repeated_and_reordered_intake_events_end_in_the_same_state(db, deliver, order):
    intake = data.needs_clearance()
    completed = data.intake_event("intake.completed", intake)
    cleared = data.intake_event(
        "intake.screening_updated", data.screening_updated(intake, ["heart_disease"])
    )
    events = {"completed": completed, "cleared": cleared, "repeat": completed}
    for name in order:
        deliver(events[name])
    deliver(cleared)  # and the clearance once more

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "draft"
    assert types(plan).count("plan.drafted") == 1
    assert db.plans.count_documents({"referral_id": intake["referral_id"]}) == 1


def test_the_same_event_twice_is_applied_once(db, deliver):
    event = data.intake_event("intake.completed", data.intake_completed())
    assert deliver(event) is True
    assert deliver(event) is False
    plan = plan_of(db, event.data["referral_id"])
    assert types(plan) == ["plan.drafted"] and plan["rev"] == 1


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"screening.outcome": "maybe"}, "screening outcome"),
        ({"baseline": [{"measure": "NPRS", "score": 11}]}, "NPRS"),
        ({"referral.expires_on": "soon"}, "referral.expires_on"),
    ],
)
def test_malformed_intake_data_is_rejected_with_a_reason(deliver, change, named):
    with pytest.raises(Reject, match=named):
        deliver(data.intake_event("intake.completed", data.intake_completed(**change)))


def test_an_expired_referral_cannot_be_planned(db, deliver):
    expired_on = date.today() - timedelta(days=2)  # in the past in every time zone
    intake = data.intake_completed(
        **{
            "referral.valid_from": (expired_on - timedelta(days=30)).isoformat(),
            "referral.expires_on": expired_on.isoformat(),
        }
    )
    deliver(data.intake_event("intake.completed", intake))
    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "cannot_plan"
    assert plan["reasons"][0]["rule_id"] == "referral_expired"


def amended(intake, version, **terms):
    referral = {**intake["referral"], **terms}
    return {
        "referral_id": intake["referral_id"],
        "patient_id": intake["patient_id"],
        "location_id": intake["location_id"],
        **referral,
        "version": version,
    }


def test_an_amendment_before_the_intake_bounds_the_draft_by_the_new_terms(db, deliver):
    intake = data.intake_completed()
    deliver(data.intake_event("referral.amended", amended(intake, 2, authorized_visits=3)))
    assert plan_of(db, intake["referral_id"])["status"] == "awaiting_intake"

    deliver(data.intake_event("intake.completed", intake))
    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "draft"
    assert plan["referral"]["authorized_visits"] == 3
    assert plan["content"]["planned_sessions"] == 3


def test_an_older_amendment_does_not_overwrite_a_newer_one(db, deliver):
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    assert deliver(data.intake_event("referral.amended", amended(intake, 3, authorized_visits=12)))
    assert not deliver(
        data.intake_event("referral.amended", amended(intake, 2, authorized_visits=4))
    )
    assert plan_of(db, intake["referral_id"])["referral"]["authorized_visits"] == 12


def test_a_cancellation_before_the_intake_leaves_the_plan_discontinued(db, deliver):
    intake = data.intake_completed()
    cancel = {
        "referral_id": intake["referral_id"],
        "patient_id": intake["patient_id"],
        "reason": "patient moved",
    }
    deliver(data.intake_event("referral.cancelled", cancel))
    deliver(data.intake_event("intake.completed", intake))

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "discontinued"
    assert plan["closed"]["reason"] == "referral cancelled: patient moved"
    assert types(plan) == ["plan.discontinued"]


def test_a_cancelled_referral_discontinues_its_plan_and_cancels_future_sessions(db, deliver):
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    now = datetime.now(UTC)
    sessions = [
        session("past", now - timedelta(days=1), "completed"),
        session("soon", now + timedelta(days=1)),
        session("later", now + timedelta(days=4)),
    ]
    db.plans.update_one(
        {"referral_id": intake["referral_id"]},
        {"$set": {"status": "active", "sessions": sessions, "outbox": []}},
    )
    cancel = {
        "referral_id": intake["referral_id"],
        "patient_id": intake["patient_id"],
        "reason": "revoked",
    }
    deliver(data.intake_event("referral.cancelled", cancel))

    plan = plan_of(db, intake["referral_id"])
    assert plan["status"] == "discontinued"
    assert [s["status"] for s in plan["sessions"]] == ["completed", "cancelled", "cancelled"]
    cancelled = [d for t, d in outbox(plan) if t == "session.cancelled"]
    assert [d["session_id"] for d in cancelled] == ["soon", "later"]
    assert {d["cancelled_by"] for d in cancelled} == {"clinic"}
    assert cancelled[0]["location_tz"] == data.LOCATION_TZ
    assert types(plan)[-1] == "plan.discontinued"


def session(session_id, starts_at, status="scheduled"):
    return {
        "session_id": session_id,
        "location_id": data.LOCATION,
        "location_name": "Clinic downtown",
        "location_tz": data.LOCATION_TZ,
        "therapist_id": "th-1",
        "room_id": None,
        "room_key": None,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "duration_minutes": 60,
        "status": status,
        "booked_by": "staff",
        "booked_at": starts_at,
        "cancelled_by": None,
    }
