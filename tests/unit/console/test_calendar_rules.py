"""The calendar's and the session page's pure rules: the window a view asks for (the location's
midnights, clock changes too), the grid (each session in its hour and column; a clash in the
cell asked for), the booking and record forms (typed values to API bodies, errors next to their
fields), the measures' own questionnaires, and the screening's precautions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.console.domain.booking_form import booking_body, cancel_body, on_form
from services.console.domain.calendar import (
    Asked,
    booked_words,
    build_grid,
    parse_day,
    parse_room,
    therapists_at,
    window,
)
from services.console.domain.offers import may, nav_item
from services.console.domain.precautions import plan_precautions
from services.console.domain.session_form import (
    measurements_from,
    measures_for,
    record_body,
    record_errors_on_form,
)

NEW_YORK = ZoneInfo("America/New_York")
SAM, KIM = "usr_sam", "usr_kim"
THERAPISTS = {SAM: "Sam Ortiz", KIM: "Kim Lee"}


def session(sid: str, starts_at: str, therapist: str = SAM, room: str | None = "2", **more):
    return {
        "session_id": sid,
        "plan_id": "pln_1",
        "patient_id": "pat_1",
        "therapist_id": therapist,
        "room_id": room,
        "starts_at": starts_at,
        "duration_minutes": 50,
        "status": "scheduled",
        **more,
    }


def test_a_day_is_the_locations_midnight_to_midnight_in_utc():
    win = window("day", date(2026, 12, 9), NEW_YORK)
    assert (win.start, win.end) == (
        datetime(2026, 12, 9, 5, tzinfo=UTC),
        datetime(2026, 12, 10, 5, tzinfo=UTC),
    )
    assert (win.previous, win.next) == (date(2026, 12, 8), date(2026, 12, 10))


def test_a_week_runs_monday_to_sunday_and_a_clock_change_day_keeps_its_25_hours():
    win = window("week", date(2026, 11, 4), NEW_YORK)  # a Wednesday; DST ended Sun 1 Nov
    assert win.days[0] == date(2026, 11, 2) and win.days[-1] == date(2026, 11, 8)
    assert win.start == datetime(2026, 11, 2, 5, tzinfo=UTC)
    autumn = window("day", date(2026, 11, 1), NEW_YORK)
    assert (autumn.end - autumn.start).total_seconds() == 25 * 3600


def test_each_session_is_in_the_cell_of_its_local_hour_and_its_therapist():
    win = window("day", date(2026, 12, 9), NEW_YORK)
    sessions = [
        session("ses_a", "2026-12-09T15:00:00+00:00"),  # 10:00 in New York
        session("ses_b", "2026-12-09T15:30:00+00:00", therapist=KIM),
        session("ses_c", "2026-12-10T15:00:00+00:00"),  # another day: not in this view
    ]
    grid = build_grid(win, "therapist", sessions, NEW_YORK, THERAPISTS, {"pat_1": "Maria"})
    assert [c.label for c in grid.columns] == ["Kim Lee", "Sam Ortiz"]
    ten = grid.cell(10, SAM)
    assert ten is not None and [s.session_id for s in ten.slots] == ["ses_a"]
    assert (ten.slots[0].starts, ten.slots[0].ends, ten.slots[0].patient) == (
        "10:00",
        "10:50",
        "Maria",
    )
    kim = grid.cell(10, KIM)
    assert kim is not None and [s.starts for s in kim.slots] == ["10:30"]
    assert grid.count == 2


def test_a_session_outside_the_usual_hours_adds_its_hour_and_an_unknown_therapist_a_column():
    win = window("day", date(2026, 12, 9), NEW_YORK)
    late = session("ses_late", "2026-12-10T02:00:00+00:00", therapist="usr_gone")  # 21:00
    grid = build_grid(win, "therapist", [late], NEW_YORK, THERAPISTS, {})
    assert grid.rows[-1].hour == 21
    cell = grid.cell(21, "usr_gone")
    assert cell is not None and cell.slots[0].patient == "Patient not shown"


def test_by_room_a_day_has_a_column_per_room_seen_and_one_for_no_room():
    win = window("day", date(2026, 12, 9), NEW_YORK)
    sessions = [
        session("ses_a", "2026-12-09T15:00:00+00:00", room="2"),
        session("ses_b", "2026-12-09T16:00:00+00:00", room=None),
    ]
    grid = build_grid(win, "room", sessions, NEW_YORK, THERAPISTS, {})
    assert [c.label for c in grid.columns] == ["2", "No room"]
    assert grid.cell(11, "") is not None and grid.cell(11, "").slots  # type: ignore[union-attr]


def test_a_week_has_seven_day_columns():
    win = window("week", date(2026, 12, 9), NEW_YORK)
    grid = build_grid(
        win, "therapist", [session("ses_a", "2026-12-09T15:00:00+00:00")], NEW_YORK, THERAPISTS, {}
    )
    assert [c.label for c in grid.columns][:3] == ["Mon 7 Dec", "Tue 8 Dec", "Wed 9 Dec"]
    assert grid.cell(10, "2026-12-09").slots  # type: ignore[union-attr]


def test_a_refused_booking_is_placed_in_the_cell_it_asked_for_with_the_apis_reasons():
    win = window("day", date(2026, 12, 9), NEW_YORK)
    asked = Asked(datetime(2026, 12, 9, 10, 20), SAM, "2", ("therapist usr_sam is booked then",))
    booked = [session("ses_a", "2026-12-09T15:00:00+00:00")]
    grid = build_grid(win, "therapist", booked, NEW_YORK, THERAPISTS, {}, asked)
    cell = grid.cell(10, SAM)
    assert cell is not None and cell.clash is not None
    assert cell.clash.asked == "Wed 9 Dec 10:20 with Sam Ortiz in room 2"
    assert cell.clash.reasons == ("therapist usr_sam is booked then",)
    assert [c.clash for r in grid.rows for c in r.cells if c.clash] == [cell.clash]
    in_week = build_grid(window("week", date(2026, 12, 9), NEW_YORK), "room", booked,
                         NEW_YORK, THERAPISTS, {}, asked)  # fmt: skip
    assert in_week.cell(10, "2026-12-09").clash is not None  # type: ignore[union-attr]
    elsewhere = build_grid(window("day", date(2026, 12, 8), NEW_YORK), "therapist", booked,
                           NEW_YORK, THERAPISTS, {}, asked)  # fmt: skip
    assert not any(c.clash for r in elsewhere.rows for c in r.cells)


def test_confirmations_say_the_day_time_and_therapist_in_the_locations_zone():
    booked = session("ses_a", "2026-12-08T15:00:00+00:00")
    assert booked_words(booked, NEW_YORK, "Sam Ortiz") == "Tue 8 Dec 10:00 with Sam Ortiz"


def test_therapists_are_those_who_work_at_the_location():
    people = [
        {"user_id": SAM, "name": "Sam Ortiz", "locations": ["lakeside"]},
        {"user_id": KIM, "name": "Kim Lee", "locations": None},
        {"user_id": "usr_x", "name": "X", "locations": ["main"]},
    ]
    assert therapists_at(people, "lakeside") == {SAM: "Sam Ortiz", KIM: "Kim Lee"}


def test_a_room_filter_is_a_rooms_name_or_nothing():
    assert parse_room(" 2 ") == ("2", "")
    assert parse_room("") == ("", "")
    room, problem = parse_room("$where 1")
    assert room == "" and "letters, digits" in problem


def test_a_day_in_the_address_that_is_not_a_date_is_today():
    assert parse_day("2026-12-09", date(2026, 1, 1)) == date(2026, 12, 9)
    assert parse_day("soon", date(2026, 1, 1)) == date(2026, 1, 1)


def test_the_booking_form_asks_for_a_real_day_and_time_before_asking_the_api():
    body, errors = booking_body(
        {"plan_id": "", "therapist_id": "", "date": "9/12", "time": "25:00"}
    )
    assert body == {} and set(errors) == {"plan_id", "therapist_id", "date", "time"}
    body, errors = booking_body(
        {"plan_id": "pln_1", "therapist_id": SAM, "date": "2026-12-09", "time": "9:05",
         "room_id": " 2 ", "duration_minutes": "50"}
    )  # fmt: skip
    assert errors == {}
    assert body == {"starts_at_local": "2026-12-09T09:05", "therapist_id": SAM, "room_id": "2",
                    "duration_minutes": 50}  # fmt: skip
    moved, _ = booking_body({"date": "2026-12-10", "time": "11:00"}, rescheduling=True)
    assert moved == {"starts_at_local": "2026-12-10T11:00"}


def test_the_apis_time_errors_are_shown_next_to_the_time_field():
    assert on_form({"starts_at_local": ["double booking"], "room_id": ["bad"]}) == {
        "time": ["double booking"],
        "room_id": ["bad"],
    }


def test_a_cancellation_says_who_cancels():
    assert cancel_body({"cancelled_by": "someone"})[1] == {
        "cancelled_by": ["say who cancels: the patient or the clinic"]
    }
    assert cancel_body({"cancelled_by": "patient", "reason": " ill "})[0] == {
        "cancelled_by": "patient",
        "reason": "ill",
    }


PLAN = {
    "content": {
        "goals": [{"measure": "NDI"}, {"measure": "PSFS"}],
        "precautions": ["no deep pressure"],
        "excluded_areas": ["left calf"],
    },
    "baseline": {"NDI": 40.0, "NPRS": 7.0},
}


def test_the_measures_offered_are_the_plans_each_as_its_own_questionnaire():
    measures = measures_for(PLAN)
    assert [m.code for m in measures] == ["NDI", "PSFS", "NPRS"]
    ndi, psfs, nprs = measures
    assert (ndi.items, ndi.lowest, ndi.highest, ndi.required_items) == (10, 0, 5, 8)
    assert (psfs.items, psfs.required_items) == (5, 3)
    assert nprs.items == 1 and "lower is better" in nprs.hint
    assert [m.code for m in measures_for({})] == ["NPRS"]


def test_measurements_send_the_items_the_api_scores_and_refuse_out_of_range_answers():
    measures = measures_for(PLAN)
    form = {f"m-NDI-{n}": "2" for n in range(9)} | {"m-PSFS-0": "4", "m-PSFS-1": "5",
                                                   "m-PSFS-2": "6", "m-NPRS-0": ""}  # fmt: skip
    taken, errors = measurements_from(form, measures)
    assert errors == {}
    assert taken == [
        {"measure": "NDI", "items": [2] * 9 + [None]},  # a missing item: the rule decides
        {"measure": "PSFS", "items": [4, 5, 6]},  # three activities of up to five
    ]
    _, errors = measurements_from({"m-NPRS-0": "11", "m-NDI-0": "x"}, measures)
    assert errors == {
        "m-NPRS-0": ["a whole number from 0 to 10"],
        "m-NDI-0": ["a whole number from 0 to 5"],
    }


def test_the_record_form_needs_every_soap_part_and_a_technique():
    body, errors = record_body({"soap-subjective": "better"}, [], [], [])
    assert body == {} and {"soap-objective", "soap-assessment", "soap-plan", "techniques"} <= set(
        errors
    )
    form = {"soap-subjective": "s", "soap-objective": "o", "soap-assessment": "a",
            "soap-plan": "p", "other_areas": "neck, upper back", "pressure": "light"}  # fmt: skip
    body, errors = record_body(form, ["myofascial_release"], ["lower back"], [])
    assert errors == {}
    assert body["areas"] == ["lower back", "neck", "upper back"] and body["pressure"] == "light"


def test_the_apis_record_errors_go_next_to_their_fields_and_measures():
    placed = record_errors_on_form(
        {"soap.subjective": ["too long"], "measurements": ["NDI: too many missing items"],
         "pressure": ["light or moderate only"]},
        measures_for(PLAN),
    )  # fmt: skip
    assert placed == {
        "soap-subjective": ["too long"],
        "m-NDI": ["NDI: too many missing items"],
        "pressure": ["light or moderate only"],
    }


def test_the_screenings_precautions_stand_out_unless_it_found_nothing():
    shown = plan_precautions(PLAN)
    assert shown.outcome == "local" and shown.stands_out
    assert shown.modifications == ("no deep pressure",) and shown.excluded_areas == ("left calf",)
    assert plan_precautions({"content": {"precautions": ["gentle"]}}).outcome == "modify"
    assert plan_precautions({"awaiting": ["anticoagulants"]}).outcome == "needs_clearance"
    assert not plan_precautions({"content": {}}).stands_out


def test_every_staff_role_books_and_only_clinicians_record():
    item = nav_item("calendar")
    assert item is not None and item.endpoint == "calendar.show"
    for role in ("admin", "front_desk", "therapist"):
        assert may(role, "session.book") and may(role, "session.cancel")
    assert may("therapist", "session.record") and not may("front_desk", "session.record")
