"""Sessions through the HTTP API (in process, real MongoDB stand-in): booked in local time and
stored in UTC; no double booking, no visit beyond the authorization or after expiry; notes,
measurements and progress; concurrent bookings of one slot."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support import planning_data as data
from tests.support.planning_api import InProcess, PlanningApi

TZ = ZoneInfo(data.LOCATION_TZ)


@pytest.fixture
def api(client):
    return PlanningApi(InProcess(client))


@pytest.fixture
def active_plan(db, deliver, api, keys):
    """Makes active plans: `active_plan(**intake changes)` returns the plan id."""

    def make(**changes):
        intake = data.intake_completed(**changes)
        deliver(data.intake_event("intake.completed", intake))
        plan = db.plans.find_one({"referral_id": intake["referral_id"]})
        assert api.approve(keys.therapist, plan["_id"]).status == 200
        return plan["_id"]

    return make


def local(days: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(date.today() + timedelta(days=days), time(hour, minute))


def stored(db, plan_id):
    return db.plans.find_one({"_id": plan_id})


def events_of(db, plan_id, type_):
    return [
        i["event"]["data"]
        for i in stored(db, plan_id).get("outbox", [])
        if i["event"]["type"] == type_
    ]


def test_a_session_is_entered_in_local_time_and_stored_in_utc(api, keys, active_plan, db):
    plan_id = active_plan()
    when = local(2, 9, 30)
    reply = api.schedule(keys.front_desk, plan_id, when, room_id="room-1")
    assert reply.status == 201, reply.body

    utc = when.replace(tzinfo=TZ).astimezone(UTC)
    [session] = stored(db, plan_id)["sessions"]
    assert session["starts_at"] == utc
    assert reply.body["starts_at_local"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    [event] = events_of(db, plan_id, "session.scheduled")
    assert event["starts_at"] == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["location_name"] == f"Clinic {data.LOCATION}"
    assert event["location_tz"] == data.LOCATION_TZ
    assert event["booked_by"] == "staff" and event["duration_minutes"] == 60
    assert set(event) >= {
        "plan_id",
        "referral_id",
        "patient_id",
        "location_id",
        "session_id",
        "room_id",
    }


@pytest.mark.parametrize(
    ("second", "status"),
    [
        ({"therapist": "th-1", "at": (10, 30)}, 409),  # same therapist, overlapping
        ({"therapist": "th-2", "at": (10, 30), "room_id": "room-1"}, 409),  # same room
        ({"therapist": "th-1", "at": (11, 0)}, 201),  # back to back
        (
            {"therapist": "th-2", "at": (10, 0), "room_id": "room-2"},
            201,
        ),  # other therapist and room
    ],
)
def test_a_therapist_or_room_is_never_double_booked(api, keys, active_plan, db, second, status):
    first_plan, second_plan = active_plan(), active_plan()
    first = api.schedule(keys.front_desk, first_plan, local(3), "th-1", room_id="room-1")
    assert first.status == 201
    before = stored(db, second_plan)

    reply = api.schedule(
        keys.front_desk,
        second_plan,
        local(3, *second["at"]),
        second["therapist"],
        room_id=second.get("room_id"),
    )
    assert reply.status == status, reply.body
    if status == 409:
        assert reply.body["message"] == "double booking"
        assert "already booked" in reply.body["errors"]["json"]["starts_at_local"][0]
        assert stored(db, second_plan) == before


def test_no_session_beyond_the_authorized_visits(api, keys, active_plan, db):
    plan_id = active_plan(**{"referral.authorized_visits": 2})
    for day in (1, 2):
        assert api.schedule(keys.therapist, plan_id, local(day)).status == 201
    before = stored(db, plan_id)

    reply = api.schedule(keys.therapist, plan_id, local(3))
    assert reply.status == 409
    assert "all 2 authorized visits" in reply.body["errors"]["json"]["starts_at_local"][0]
    assert stored(db, plan_id) == before


def test_a_cancelled_session_gives_its_visit_back(api, keys, active_plan):
    plan_id = active_plan(**{"referral.authorized_visits": 1})
    session = api.schedule(keys.therapist, plan_id, local(1)).body
    reply = api.session_action(
        keys.front_desk, plan_id, session["session_id"], "cancel", {"cancelled_by": "patient"}
    )
    assert reply.status == 200 and reply.body["cancelled_by"] == "patient"
    assert api.schedule(keys.therapist, plan_id, local(2)).status == 201


def test_no_session_after_the_referral_expires(api, keys, active_plan, db):
    plan_id = active_plan(
        **{"referral.expires_on": (date.today() + timedelta(days=10)).isoformat()}
    )
    before = stored(db, plan_id)
    reply = api.schedule(keys.therapist, plan_id, local(11))
    assert reply.status == 409
    assert "after the referral expires" in reply.body["errors"]["json"]["starts_at_local"][0]
    assert stored(db, plan_id) == before
    assert api.schedule(keys.therapist, plan_id, local(10, 18)).status == 201  # its last day


def next_spring_forward() -> date:
    """The next second Sunday of March (US clocks skip 02:00-03:00)."""
    for year in (date.today().year, date.today().year + 1):
        sundays = [date(year, 3, d) for d in range(1, 15) if date(year, 3, d).weekday() == 6]
        if sundays[1] > date.today():
            return sundays[1]
    raise AssertionError("unreachable")


def test_a_local_time_that_does_not_exist_is_refused(api, keys, active_plan):
    plan_id = active_plan(
        **{"referral.expires_on": (date.today() + timedelta(days=400)).isoformat()}
    )
    reply = api.schedule(
        keys.therapist, plan_id, datetime.combine(next_spring_forward(), time(2, 30))
    )
    assert reply.status == 422
    assert (
        "does not exist in America/New_York" in reply.body["errors"]["json"]["starts_at_local"][0]
    )


def test_sessions_need_an_active_plan(api, keys, db, deliver):
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    plan_id = db.plans.find_one({"referral_id": intake["referral_id"]})["_id"]
    reply = api.schedule(keys.therapist, plan_id, local(1))
    assert reply.status == 409 and "active" in reply.body["message"]


def test_booking_at_a_location_the_caller_may_not_see_is_forbidden(api, keys, active_plan, db):
    plan_id = active_plan()
    db.principals.update_many({"role": "front_desk"}, {"$set": {"locations": [data.LOCATION]}})
    reply = api.schedule(keys.uptown_therapist, plan_id, local(1))
    assert reply.status == 404  # the plan's location is not the caller's: the plan is not found
    reply = api.schedule(keys.therapist, plan_id, local(1), location_id="loc-nowhere")
    assert reply.status == 422 and "location_id" in reply.body["errors"]["json"]


def test_recording_nprs_7_to_4_emits_progress_with_nprs_clinically_improved(
    api, keys, active_plan, db
):
    plan_id = active_plan()
    session = api.schedule(keys.therapist, plan_id, local(-1)).body

    reply = api.complete_session(
        keys.therapist, plan_id, session["session_id"], [{"measure": "NPRS", "score": 4}]
    )
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "completed"
    assert reply.body["record"]["soap"]["plan"] == "continue"

    [progress] = events_of(db, plan_id, "progress.updated")
    nprs = next(m for m in progress["measures"] if m["measure"] == "NPRS")
    assert nprs == {
        "measure": "NPRS",
        "baseline": 7.0,
        "latest": 4.0,
        "change": 3.0,
        "percent_change": 42.9,
        "clinically_improved": True,
        "target": 5.0,
        "goal_met": True,
        "points": [{"score": 4.0, "taken_at": session["starts_at"].replace("+00:00", "Z")}],
    }  # every measurement too: the referrer's progress report draws the chart from them
    assert progress["baseline_at"].endswith("Z")
    assert progress["newly_improved"] == ["NPRS"] and progress["sessions_completed"] == 1
    assert progress["referrer"]["email"] == "ada.reyes@example.org"
    assert events_of(db, plan_id, "session.completed")[0]["session_id"] == session["session_id"]

    summary = api.progress(keys.therapist, plan_id).body
    assert summary["improved"] == ["NPRS"] and summary["visits"] == {
        "used": 1,
        "authorized": 8,
        "remaining": 7,
    }
    assert summary["reassessment"]["due"] is False
    [nprs_points] = [m["points"] for m in summary["measures"] if m["measure"] == "NPRS"]
    assert [(p["score"], p["session_id"]) for p in nprs_points] == [(4.0, session["session_id"])]
    assert nprs_points[0]["taken_at"].startswith(session["starts_at"][:16])


def test_improvement_is_announced_once(api, keys, active_plan, db):
    plan_id = active_plan()
    for day, score in ((-3, 4), (-2, 3)):
        session = api.schedule(keys.therapist, plan_id, local(day)).body
        api.complete_session(
            keys.therapist, plan_id, session["session_id"], [{"measure": "NPRS", "score": score}]
        )
    assert [e["newly_improved"] for e in events_of(db, plan_id, "progress.updated")] == [
        ["NPRS"],
        [],
    ]


def test_items_are_scored_by_the_measures_rule(api, keys, active_plan, db):
    plan_id = active_plan()
    session = api.schedule(keys.therapist, plan_id, local(-1)).body
    odi = {"measure": "ODI", "items": [2, 2, 2, 2, 2, 2, 2, 2, None, None]}
    reply = api.complete_session(keys.therapist, plan_id, session["session_id"], [odi])
    assert reply.status == 200, reply.body
    assert reply.body["measurements"][0]["score"] == 40.0


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"pressure": "deep"}, "pressure"),
        ({"techniques": ["deep_tissue"]}, "techniques"),
        ({"areas": ["left calf"]}, "areas"),
        ({"measurements": [{"measure": "NPRS", "score": 4, "items": [4]}]}, "measurements"),
        ({"measurements": [{"measure": "ODI", "items": [9] * 10}]}, "measurements"),
    ],
)
def test_a_record_breaking_the_precautions_is_refused(api, keys, active_plan, db, record, field):
    plan_id = active_plan(
        **{
            "screening.outcome": "modify",
            "screening.modifications": ["reduced pressure"],
            "screening.excluded_areas": ["left calf"],
        }
    )
    session = api.schedule(keys.therapist, plan_id, local(-1)).body
    before = stored(db, plan_id)
    measurements = record.pop("measurements", [])
    reply = api.complete_session(
        keys.therapist, plan_id, session["session_id"], measurements, **record
    )
    assert reply.status == 422 and field in reply.body["errors"]["json"], reply.body
    assert stored(db, plan_id) == before


def test_a_session_still_to_come_cannot_be_completed_or_marked_no_show(api, keys, active_plan):
    plan_id = active_plan()
    session = api.schedule(keys.therapist, plan_id, local(1)).body
    assert api.complete_session(keys.therapist, plan_id, session["session_id"], []).status == 409
    no_show = api.session_action(keys.therapist, plan_id, session["session_id"], "no-show")
    assert no_show.status == 409


def test_a_no_show_is_recorded_and_announced(api, keys, active_plan, db):
    plan_id = active_plan()
    session = api.schedule(keys.therapist, plan_id, local(-1)).body
    reply = api.session_action(keys.front_desk, plan_id, session["session_id"], "no-show")
    assert reply.status == 200 and reply.body["status"] == "no_show"
    assert events_of(db, plan_id, "session.no_show")[0]["session_id"] == session["session_id"]


def test_rescheduling_moves_the_session_and_checks_the_new_slot(api, keys, active_plan, db):
    first, second = active_plan(), active_plan()
    api.schedule(keys.therapist, first, local(4), "th-1")
    session = api.schedule(keys.therapist, second, local(5), "th-1").body

    clash = {"starts_at_local": local(4).strftime("%Y-%m-%dT%H:%M")}
    refused = api.session_action(keys.therapist, second, session["session_id"], "reschedule", clash)
    assert refused.status == 409
    moved = {"starts_at_local": local(6, 15).strftime("%Y-%m-%dT%H:%M")}
    reply = api.session_action(keys.therapist, second, session["session_id"], "reschedule", moved)
    assert reply.status == 200 and reply.body["starts_at_local"].startswith(
        moved["starts_at_local"]
    )
    [event] = events_of(db, second, "session.rescheduled")
    assert event["previous_starts_at"] == session["starts_at"].replace("+00:00", "Z")


def test_the_calendar_lists_a_therapists_sessions_across_plans(api, keys, active_plan):
    first, second = active_plan(), active_plan()
    api.schedule(keys.therapist, first, local(1), "th-7")
    api.schedule(keys.therapist, second, local(2), "th-7")
    api.schedule(keys.therapist, second, local(3), "th-8")
    start = datetime.now(UTC).isoformat()
    reply = api.transport.call(
        "GET", "/sessions", keys.front_desk, therapist_id="th-7", **{"from": start}
    )
    assert reply.status == 200
    assert [s["plan_id"] for s in reply.body["items"]] == [first, second]
    assert reply.body["total"] == 2


def test_two_bookings_of_one_slot_at_the_same_moment_make_one_session(api, keys, active_plan, db):
    plans = [active_plan(), active_plan()]
    for day in (5, 6, 7):  # a few races: without the booking lease some of them double-book
        barrier = threading.Barrier(2)
        replies = []

        def book(plan_id, day=day, barrier=barrier, replies=replies):
            barrier.wait()
            replies.append(api.schedule(keys.therapist, plan_id, local(day), "th-race").status)

        threads = [threading.Thread(target=book, args=(p,)) for p in plans]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(replies) == [201, 409]

    booked = [s for p in plans for s in stored(db, p)["sessions"]]
    assert len(booked) == 3


def test_a_booking_that_leaves_few_visits_announces_it_in_the_same_write(
    api, keys, active_plan, db
):
    plan_id = active_plan(**{"referral.authorized_visits": 3})
    api.schedule(keys.therapist, plan_id, local(1))
    [expiring] = events_of(db, plan_id, "referral.expiring")
    assert expiring["kind"] == "visits" and expiring["remaining"] == 2
    api.schedule(keys.therapist, plan_id, local(2))
    assert len(events_of(db, plan_id, "referral.expiring")) == 1  # each alert once


def test_completing_a_plan_reports_the_outcomes_and_cancels_sessions_still_to_come(
    api, keys, active_plan, db
):
    plan_id = active_plan()
    done = api.schedule(keys.therapist, plan_id, local(-1)).body
    api.complete_session(
        keys.therapist, plan_id, done["session_id"], [{"measure": "ODI", "score": 20}]
    )
    coming = api.schedule(keys.therapist, plan_id, local(2)).body

    reply = api.transport.call(
        "POST",
        f"/plans/{plan_id}/complete",
        keys.therapist,
        json={"version": 2, "reason": "goals met"},
    )
    assert reply.status == 200 and reply.body["status"] == "completed", reply.body
    [completed] = events_of(db, plan_id, "plan.completed")
    assert completed["reason"] == "goals met" and completed["sessions_completed"] == 1
    assert completed["referrer"]["name"] == "Dr. Ada Reyes"
    odi = next(m for m in completed["measures"] if m["measure"] == "ODI")
    assert odi["latest"] == 20 and odi["clinically_improved"] is True
    [cancelled] = events_of(db, plan_id, "session.cancelled")
    assert cancelled["session_id"] == coming["session_id"] and cancelled["cancelled_by"] == "clinic"


def test_a_plans_sessions_come_as_a_page_in_booking_order(api, keys, active_plan):
    plan_id = active_plan()
    booked = [api.schedule(keys.therapist, plan_id, local(day)).body for day in (3, 1)]
    path = f"/plans/{plan_id}/sessions"
    page = api.transport.call("GET", path, keys.front_desk, page_size=1, page=2).body
    assert (page["page"], page["page_size"], page["total"]) == (2, 1, 2)
    assert [s["session_id"] for s in page["items"]] == [booked[1]["session_id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": (datetime.now(UTC) + timedelta(days=40)).isoformat()}, "to"),
        ({"to": (datetime.now(UTC) - timedelta(days=1)).isoformat()}, "to"),
        ({"room_id": "room-1"}, "room_id"),
    ],
)
def test_a_calendar_window_beyond_a_month_or_a_room_without_its_location_is_a_query_error(
    api, keys, query, field
):
    reply = api.transport.call("GET", "/sessions", keys.front_desk, **query)
    assert reply.status == 422, reply.body
    assert list(reply.body["errors"]["query"]) == [field]


def test_a_booking_naming_a_room_the_location_lacks_is_refused_with_its_rooms(
    api, keys, active_plan, db, deliver
):
    plan_id = active_plan()
    assert deliver(data.location_upserted(version=2, rooms=["room-1", "room-2"]))
    refused = api.schedule(keys.front_desk, plan_id, local(3), room_id="room-9")
    assert refused.status == 422, refused.body
    [problem] = refused.body["errors"]["json"]["room_id"]
    assert "no room 'room-9'" in problem and "room-1, room-2" in problem
    assert stored(db, plan_id).get("sessions", []) == []  # nothing stored

    booked = api.schedule(keys.front_desk, plan_id, local(3), room_id="room-2")
    assert booked.status == 201, booked.body
    moved = {"starts_at_local": local(4).strftime("%Y-%m-%dT%H:%M"), "room_id": "room-7"}
    session_id = booked.body["session_id"]
    refused = api.session_action(keys.front_desk, plan_id, session_id, "reschedule", moved)
    assert refused.status == 422 and "room_id" in refused.body["errors"]["json"]
    [session] = stored(db, plan_id)["sessions"]
    assert session["room_id"] == "room-2"

    assert deliver(data.location_upserted(version=3, rooms=[]))
    no_rooms = api.schedule(keys.front_desk, plan_id, local(5), room_id="room-1")
    assert no_rooms.status == 422
    assert "has no rooms" in no_rooms.body["errors"]["json"]["room_id"][0]
    assert api.schedule(keys.front_desk, plan_id, local(5)).status == 201  # no room: booked
