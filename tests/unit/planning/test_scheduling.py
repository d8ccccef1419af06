from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.domain.plan_lifecycle import InvalidTransition
from services.planning.domain.scheduling import (
    LocalTimeError,
    Session,
    check_authorization,
    counted_visits,
    find_conflicts,
    referral_ends_at,
    room_problem,
    session_transition,
    to_utc,
)

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def session(
    session_id: str = "new",
    start: str = "2025-03-03 10:00",
    minutes: int = 60,
    therapist: str = "therapist-1",
    room: str | None = "room-1",
    status: str = "scheduled",
) -> Session:
    return Session(session_id, therapist, room, utc(start), minutes, status)


# --- local time to UTC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz", "expected"),
    [
        ("2025-07-01 10:00", NEW_YORK, "2025-07-01 14:00"),
        ("2025-01-15 10:00", NEW_YORK, "2025-01-15 15:00"),
        ("2025-03-09 01:59", NEW_YORK, "2025-03-09 06:59"),  # just before the spring gap
        ("2025-03-09 03:00", NEW_YORK, "2025-03-09 07:00"),  # just after it
        ("2025-11-02 00:59", NEW_YORK, "2025-11-02 04:59"),  # before the repeated hour
        ("2025-11-02 02:00", NEW_YORK, "2025-11-02 07:00"),  # after it
        ("2025-01-15 09:00", BERLIN, "2025-01-15 08:00"),
        ("2025-07-01 09:00", BERLIN, "2025-07-01 07:00"),
        ("2025-03-30 01:59", BERLIN, "2025-03-30 00:59"),
        ("2025-03-30 03:00", BERLIN, "2025-03-30 01:00"),
        ("2025-10-26 03:00", BERLIN, "2025-10-26 02:00"),
    ],
)
def test_a_local_time_becomes_its_utc_instant(local, tz, expected):
    assert to_utc(datetime.fromisoformat(local), tz) == utc(expected)


SPRING_FORWARD = "does not exist in"  # the clocks skip this local time
FALL_BACK = "happens twice in"  # the clocks pass this local time twice


@pytest.mark.parametrize(
    ("local", "tz", "refusal"),
    [
        ("2025-03-09 02:00", NEW_YORK, SPRING_FORWARD),
        ("2025-03-09 02:30", NEW_YORK, SPRING_FORWARD),
        ("2025-03-30 02:00", BERLIN, SPRING_FORWARD),
        ("2025-03-30 02:45", BERLIN, SPRING_FORWARD),
        ("2025-11-02 01:00", NEW_YORK, FALL_BACK),
        ("2025-11-02 01:30", NEW_YORK, FALL_BACK),
        ("2025-10-26 02:00", BERLIN, FALL_BACK),
        ("2025-10-26 02:30", BERLIN, FALL_BACK),
    ],
)
def test_a_local_time_a_clock_change_skips_or_repeats_is_refused_saying_which(local, tz, refusal):
    with pytest.raises(LocalTimeError, match=f"{refusal} {tz}"):
        to_utc(datetime.fromisoformat(local), tz)


def test_a_time_that_already_has_a_zone_is_refused():
    with pytest.raises(LocalTimeError, match="without a time zone"):
        to_utc(datetime(2025, 7, 1, 10, tzinfo=ZoneInfo(BERLIN)), BERLIN)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(tz):
    with pytest.raises(LocalTimeError, match="unknown time zone"):
        to_utc(datetime(2025, 7, 1, 10), tz)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))
def test_every_accepted_local_time_reads_back_the_same_in_its_zone(local):
    try:
        instant = to_utc(local, BERLIN)
    except LocalTimeError:
        return
    assert instant.astimezone(ZoneInfo(BERLIN)).replace(tzinfo=None) == local


# --- double booking ------------------------------------------------------------------------


def test_a_therapist_cannot_be_booked_twice_at_once():
    existing = session("s-1", "2025-03-03 09:30", room="room-2")

    (conflict,) = find_conflicts(session(), [existing])

    assert "therapist therapist-1 is already booked" in conflict and "s-1" in conflict


def test_a_room_cannot_be_booked_twice_at_once():
    existing = session("s-1", "2025-03-03 10:30", therapist="therapist-2")

    (conflict,) = find_conflicts(session(), [existing])

    assert conflict == "room room-1 is already booked 2025-03-03 10:30-11:30 UTC (session s-1)"


def test_the_same_therapist_and_room_give_two_conflicts():
    assert len(find_conflicts(session(), [session("s-1")])) == 2


@pytest.mark.parametrize(
    ("start", "minutes"),
    [("2025-03-03 11:00", 60), ("2025-03-03 09:00", 60), ("2025-03-03 08:00", 30)],
)
def test_back_to_back_or_separate_sessions_do_not_conflict(start, minutes):
    assert find_conflicts(session(), [session("s-1", start, minutes)]) == []


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        ("2025-03-03 09:01", 60),
        ("2025-03-03 10:59", 30),
        ("2025-03-03 10:15", 15),
        ("2025-03-03 09:00", 180),
    ],
)
def test_any_overlap_at_all_is_a_conflict(start, minutes):
    assert find_conflicts(session(), [session("s-1", start, minutes)]) != []


def test_cancelled_sessions_free_their_slot():
    assert find_conflicts(session(), [session("s-1", status="cancelled")]) == []


@pytest.mark.parametrize("status", ["scheduled", "completed", "no_show"])
def test_sessions_in_any_other_status_keep_their_slot(status):
    assert find_conflicts(session(), [session("s-1", status=status)]) != []


def test_rescheduling_a_session_does_not_conflict_with_itself():
    assert find_conflicts(session("s-1", "2025-03-03 10:30"), [session("s-1")]) == []


def test_sessions_without_a_room_only_conflict_on_the_therapist():
    home = session(room=None, therapist="therapist-2")

    assert find_conflicts(home, [session("s-1", room=None)]) == []


def test_sessions_are_compared_as_instants_whatever_their_zone():
    berlin_start = datetime(2025, 3, 3, 11, 30, tzinfo=ZoneInfo(BERLIN))  # 10:30 UTC
    berlin = Session("s-1", "therapist-1", "room-9", berlin_start, 60)

    assert len(find_conflicts(session(), [berlin])) == 1


@pytest.mark.parametrize(
    ("start", "minutes"), [(datetime(2025, 3, 3, 10), 60), (utc("2025-03-03"), 0)]
)
def test_a_session_needs_an_aware_start_and_a_positive_duration(start, minutes):
    with pytest.raises(ValueError):
        Session("s-1", "therapist-1", None, start, minutes)


@given(
    a_start=st.integers(min_value=0, max_value=600),
    b_start=st.integers(min_value=0, max_value=600),
    a_minutes=st.integers(min_value=1, max_value=180),
    b_minutes=st.integers(min_value=1, max_value=180),
)
def test_a_therapist_conflict_is_found_exactly_when_the_intervals_share_a_minute(
    a_start, b_start, a_minutes, b_minutes
):
    day = utc("2025-03-03 08:00")
    a = Session("a", "t", None, day + timedelta(minutes=a_start), a_minutes)
    b = Session("b", "t", None, day + timedelta(minutes=b_start), b_minutes)
    shared = set(range(a_start, a_start + a_minutes)) & set(range(b_start, b_start + b_minutes))

    assert bool(find_conflicts(a, [b])) == bool(shared) == bool(find_conflicts(b, [a]))


# --- referral authorization ----------------------------------------------------------------


def test_visits_counted_are_scheduled_and_completed_but_not_no_shows_nor_cancelled():
    assert counted_visits(["scheduled", "completed", "no_show", "cancelled", "completed"]) == 3


@pytest.mark.parametrize(
    ("counted", "authorized", "allowed"), [(0, 8, True), (7, 8, True), (8, 8, False), (9, 8, False)]
)
def test_no_session_is_booked_beyond_the_authorized_visits(counted, authorized, allowed):
    problems = check_authorization(
        counted, authorized, utc("2025-03-03 10:00"), date(2025, 6, 30), NEW_YORK
    )

    assert (problems == []) == allowed
    if not allowed:
        assert problems == [f"all {authorized} authorized visits are already scheduled or used"]


@pytest.mark.parametrize(
    ("start", "tz", "allowed"),
    [
        ("2025-06-30 23:00", NEW_YORK, True),  # 19:00 local on the expiry day
        ("2025-07-01 03:59", NEW_YORK, True),  # 23:59 local
        ("2025-07-01 04:00", NEW_YORK, False),  # midnight local: the next day
        ("2025-06-30 21:59", BERLIN, True),  # 23:59 local
        ("2025-06-30 22:00", BERLIN, False),  # midnight local
        ("2025-07-02 10:00", BERLIN, False),
    ],
)
def test_no_session_starts_after_the_end_of_the_expiry_day_in_the_locations_zone(
    start, tz, allowed
):
    problems = check_authorization(0, 8, utc(start), date(2025, 6, 30), tz)

    assert (problems == []) == allowed
    if not allowed:
        assert problems == [
            f"the session is after the referral expires (2025-06-30, end of day in {tz})"
        ]


def test_a_referral_expiring_on_a_dst_day_ends_at_the_local_midnight_after_it():
    assert referral_ends_at(date(2025, 3, 29), BERLIN) == utc("2025-03-29 23:00")
    assert referral_ends_at(date(2025, 3, 30), BERLIN) == utc("2025-03-30 22:00")


def test_both_authorization_problems_are_reported_together():
    assert len(check_authorization(8, 8, utc("2025-08-01 10:00"), date(2025, 6, 30), BERLIN)) == 2


# --- session states ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["completed", "cancelled", "no_show"])
def test_a_scheduled_session_can_be_completed_cancelled_or_missed(target):
    assert session_transition("scheduled", target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("completed", "cancelled"),
        ("cancelled", "scheduled"),
        ("no_show", "completed"),
        ("scheduled", "scheduled"),
    ],
)
def test_a_session_in_a_final_state_stays_there(current, target):
    with pytest.raises(InvalidTransition, match=f"a session cannot go from '{current}'"):
        session_transition(current, target)


def test_an_unknown_session_state_is_refused():
    with pytest.raises(InvalidTransition, match="unknown session state 'rescheduled'"):
        session_transition("scheduled", "rescheduled")


@pytest.mark.parametrize(
    ("rooms", "room_id", "problem"),
    [
        (("1", "2"), "2", None),
        (("1", "2"), None, None),  # no room: always bookable
        (None, "anything", None),  # the location's rooms are not known here
        (("1", "2"), "9", "Main has no room '9'; its rooms: 1, 2"),
        ((), "1", "Main has no rooms: book the session without one"),
    ],
)
def test_a_session_takes_place_in_one_of_its_locations_rooms(rooms, room_id, problem):
    assert room_problem(rooms, room_id, "Main") == problem
