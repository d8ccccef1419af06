"""Staff read, edit and approve plans through the HTTP API (in process, real MongoDB stand-in):
versioned history, role and location rules, another clinic's plan is 404, audit records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support import planning_data as data
from tests.support.planning_api import InProcess, PlanningApi


@pytest.fixture
def api(client):
    return PlanningApi(InProcess(client))


@pytest.fixture
def draft(db, deliver):
    """A drafted plan (its stored document)."""
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    return db.plans.find_one({"referral_id": intake["referral_id"]})


def stored(db, plan_id):
    return db.plans.find_one({"_id": plan_id})


def test_staff_see_a_blocked_plan_and_its_reasons(api, keys, deliver):
    intake = data.blocked()
    deliver(data.intake_event("intake.completed", intake))

    reply = api.plans(keys.front_desk, status="cannot_plan")
    assert reply.status == 200
    assert (reply.body["page"], reply.body["page_size"], reply.body["total"]) == (1, 50, 1)
    [plan] = reply.body["items"]
    assert plan["referral_id"] == intake["referral_id"] and plan["content"] is None
    assert plan["reasons"][0]["rule_id"] == "suspected_dvt"


def test_a_therapist_edits_a_draft_and_the_history_keeps_the_old_version(api, keys, draft, db):
    reply = api.edit(
        keys.therapist, draft["_id"], version=1, planned_sessions=6, notes="home stretches"
    )
    assert reply.status == 200, reply.body
    assert reply.body["version"] == 2 and reply.body["content"]["planned_sessions"] == 6

    page = api.transport.call("GET", f"/plans/{draft['_id']}/history", keys.therapist).body
    assert page["total"] == 1
    history = page["items"]
    assert [h["version"] for h in history] == [1]
    assert history[0]["snapshot"]["planned_sessions"] == draft["content"]["planned_sessions"]
    assert history[0]["changed_fields"] == ["notes", "planned_sessions"]
    assert history[0]["changed_by"].startswith("therapist:")


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"version": 7, "notes": "x"}, 409, None),
        ({"version": 1, "planned_sessions": 30}, 422, "planned_sessions"),
        (
            {"version": 1, "goals": [{"measure": "NPRS", "target": 6.5, "due_on": "2030-01-01"}]},
            422,
            "goals",
        ),
        ({"version": 1, "techniques": [{"code": "cupping"}]}, 422, "techniques"),
        ({"version": 1, "status": "active"}, 422, "status"),
        ({"version": 1, "tenant_id": data.OTHER_TENANT}, 422, "tenant_id"),
    ],
)
def test_a_bad_edit_is_refused_and_changes_nothing(api, keys, draft, db, changes, status, field):
    before = stored(db, draft["_id"])
    reply = api.edit(keys.therapist, draft["_id"], **changes)
    assert reply.status == status, reply.body
    if field:
        assert field in reply.body["errors"]["json"], reply.body
    assert stored(db, draft["_id"]) == before


def test_approval_activates_the_plan_and_tells_the_referrer(api, keys, draft, db):
    reply = api.approve(keys.therapist, draft["_id"], version=1)
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "active" and reply.body["version"] == 2

    event = stored(db, draft["_id"])["outbox"][-1]["event"]
    assert event["type"] == "plan.activated" and event["source"] == "clinic/planning"
    assert event["data"]["referrer"] == {"name": "Dr. Ada Reyes", "email": "ada.reyes@example.org"}
    assert event["data"]["summary"]["planned_sessions"] == draft["content"]["planned_sessions"]
    assert api.approve(keys.therapist, draft["_id"], version=2).status == 409


def test_a_stale_version_hears_who_made_the_current_one_and_when(api, keys, draft, db):
    assert api.edit(keys.therapist, draft["_id"], version=1, notes="first").status == 200
    changed = stored(db, draft["_id"])["last_change"]
    assert changed["by"].startswith("therapist:") and changed["at"]

    reply = api.edit(keys.admin, draft["_id"], version=1, notes="second")
    assert reply.status == 409, reply.body
    assert reply.body["current"] == {
        "version": 2,
        "changed_by": changed["by"],
        "changed_by_name": changed["name"],
        "changed_at": changed["at"].isoformat(),
    }
    assert api.approve(keys.admin, draft["_id"], version=1).body["current"]["version"] == 2
    plan = api.transport.call("GET", f"/plans/{draft['_id']}", keys.admin).body
    assert plan["last_change"]["by"] == changed["by"]
    assert stored(db, draft["_id"])["content"]["notes"] == "first"


def test_an_active_plan_allows_goal_edits_but_not_new_dates(api, keys, draft):
    api.approve(keys.admin, draft["_id"])
    due = (date.today() + timedelta(days=30)).isoformat()
    goals = [
        {"measure": "NPRS", "target": 3, "due_on": due},
        {"measure": "ODI", "target": 20, "due_on": due},
    ]
    assert api.edit(keys.therapist, draft["_id"], version=2, goals=goals).status == 200
    assert api.edit(keys.therapist, draft["_id"], version=3, start_on=due).status == 409


def test_a_plan_that_no_longer_fits_its_referral_cannot_be_approved(api, keys, draft, db):
    db.plans.update_one({"_id": draft["_id"]}, {"$set": {"referral.authorized_visits": 2}})
    reply = api.approve(keys.therapist, draft["_id"])
    assert reply.status == 409 and "planned_sessions" in reply.body["errors"]["json"]
    assert stored(db, draft["_id"])["status"] == "draft"


def test_another_clinics_plan_is_not_found_and_not_changed(api, keys, draft, db):
    before = stored(db, draft["_id"])
    assert api.plan(keys.other_admin, draft["_id"]).status == 404
    assert api.edit(keys.other_admin, draft["_id"], version=1, notes="mine").status == 404
    assert api.approve(keys.other_admin, draft["_id"]).status == 404
    assert api.plans(keys.other_admin).body["items"] == []
    assert stored(db, draft["_id"]) == before


def test_a_plan_at_a_location_the_caller_may_not_see_is_not_found(api, keys, draft):
    assert api.plan(keys.uptown_therapist, draft["_id"]).status == 404
    assert api.plans(keys.uptown_therapist).body["items"] == []
    assert api.plan(keys.therapist, draft["_id"]).status == 200


def test_front_desk_may_read_but_not_approve(api, keys, draft):
    assert api.plan(keys.front_desk, draft["_id"]).status == 200
    assert api.approve(keys.front_desk, draft["_id"]).status == 403


def test_a_missing_or_unknown_key_is_401(client, draft):
    assert client.get(f"/plans/{draft['_id']}").status_code == 401
    assert client.get("/plans", headers=data.bearer("ck_nobody_x")).status_code == 401


def test_discontinuing_a_draft_closes_it_with_the_reason(api, keys, draft, db):
    reply = api.transport.call(
        "POST",
        f"/plans/{draft['_id']}/discontinue",
        keys.therapist,
        json={"version": 1, "reason": "patient declined"},
    )
    assert reply.status == 200 and reply.body["status"] == "discontinued"
    assert reply.body["closed"]["reason"] == "patient declined"
    assert stored(db, draft["_id"])["outbox"][-1]["event"]["type"] == "plan.discontinued"


def test_every_read_and_write_of_a_plan_is_audited_without_patient_data(api, keys, draft, db):
    api.plan(keys.therapist, draft["_id"])
    api.edit(keys.therapist, draft["_id"], version=1, notes="x")
    api.plan(keys.other_admin, draft["_id"])

    entries = list(db.audit.find({}, {"_id": 0, "at": 0}).sort("at", 1))
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("plan.read", "ok"),
        ("plan.update", "ok"),
        ("plan.read", "not_found"),
    ]
    assert entries[0]["object"] == {"type": "plan", "id": draft["_id"]}
    assert entries[0]["actor"].startswith("therapist:") and entries[0]["tenant_id"] == data.TENANT
    assert entries[2]["tenant_id"] == data.OTHER_TENANT
    assert draft["patient_id"] not in str(entries)


def test_plans_come_a_page_at_a_time_newest_first_with_the_total(api, keys, deliver, db):
    referrals = []
    for _ in range(3):
        intake = data.intake_completed()
        deliver(data.intake_event("intake.completed", intake))
        referrals.append(intake["referral_id"])

    first = api.plans(keys.therapist, page_size=2).body
    second = api.plans(keys.therapist, page_size=2, page=2).body
    assert (first["page"], first["page_size"], first["total"]) == (1, 2, 3)
    assert (second["page"], second["page_size"], second["total"]) == (2, 2, 3)
    listed = [p["referral_id"] for p in first["items"] + second["items"]]
    assert listed == list(reversed(referrals))
    assert all(p["plan_id"].startswith("pln_") for p in first["items"])


def test_a_page_size_beyond_the_maximum_is_capped_and_a_bad_one_is_a_query_error(api, keys):
    assert api.plans(keys.therapist, page_size=5000).body["page_size"] == 100
    reply = api.plans(keys.therapist, page=0)
    assert reply.status == 422 and "page" in reply.body["errors"]["query"]
