from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.quiet_hours import (
    DEFAULT_QUIET_HOURS,
    NO_QUIET_HOURS,
    QuietHours,
    last_allowed_before,
    next_allowed_send,
)


def at(tz: str, *args: int, fold: int = 0) -> datetime:
    """A UTC instant given by a local wall-clock time in `tz`."""
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC)


@pytest.mark.parametrize(
    "tz", ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
)
class TestDefaultWindowInEachZone:
    def test_daytime_is_allowed_immediately(self, tz):
        now = at(tz, 2025, 6, 10, 14, 0)
        assert next_allowed_send(now, tz, DEFAULT_QUIET_HOURS) == now

    def test_late_evening_waits_until_eight_next_morning(self, tz):
        now = at(tz, 2025, 6, 10, 22, 30)
        assert next_allowed_send(now, tz, DEFAULT_QUIET_HOURS) == at(tz, 2025, 6, 11, 8, 0)

    def test_after_midnight_waits_until_eight_the_same_morning(self, tz):
        now = at(tz, 2025, 6, 11, 3, 15)
        assert next_allowed_send(now, tz, DEFAULT_QUIET_HOURS) == at(tz, 2025, 6, 11, 8, 0)

    def test_the_window_is_half_open(self, tz):
        start, end = at(tz, 2025, 6, 10, 21, 0), at(tz, 2025, 6, 11, 8, 0)
        assert next_allowed_send(start, tz, DEFAULT_QUIET_HOURS) == end
        assert next_allowed_send(end, tz, DEFAULT_QUIET_HOURS) == end
        just_before = start - timedelta(seconds=1)
        assert next_allowed_send(just_before, tz, DEFAULT_QUIET_HOURS) == just_before

    def test_urgent_messages_bypass_quiet_hours(self, tz):
        now = at(tz, 2025, 6, 10, 23, 0)
        assert next_allowed_send(now, tz, DEFAULT_QUIET_HOURS, urgent=True) == now


def test_local_time_decides_not_utc():
    # 13:00 UTC is 22:00 in Tokyo (quiet) and 09:00 in New York (allowed).
    now = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)
    assert next_allowed_send(now, "America/New_York", DEFAULT_QUIET_HOURS) == now
    assert next_allowed_send(now, "Asia/Tokyo", DEFAULT_QUIET_HOURS) == at(
        "Asia/Tokyo", 2025, 6, 11, 8, 0
    )


def test_new_year_crossing_moves_to_the_next_year():
    now = at("Europe/Berlin", 2025, 12, 31, 23, 30)
    assert next_allowed_send(now, "Europe/Berlin", DEFAULT_QUIET_HOURS) == at(
        "Europe/Berlin", 2026, 1, 1, 8, 0
    )


def test_spring_forward_night_in_new_york_is_an_hour_shorter():
    # 2025-03-09: clocks jump 02:00 EST -> 03:00 EDT. 22:00 EST -> 08:00 EDT is 9 real hours.
    now = at("America/New_York", 2025, 3, 8, 22, 0)
    end = next_allowed_send(now, "America/New_York", DEFAULT_QUIET_HOURS)
    assert end == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    assert end - now == timedelta(hours=9)


def test_fall_back_night_in_berlin_is_an_hour_longer():
    # 2025-10-26: clocks go back 03:00 CEST -> 02:00 CET. 22:00 CEST -> 08:00 CET is 11 h.
    now = at("Europe/Berlin", 2025, 10, 25, 22, 0)
    end = next_allowed_send(now, "Europe/Berlin", DEFAULT_QUIET_HOURS)
    assert end == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)
    assert end - now == timedelta(hours=11)


def test_sydney_dst_starts_in_october():
    # 2025-10-05: 02:00 AEST -> 03:00 AEDT; 08:00 that morning is 21:00 UTC the day before.
    now = at("Australia/Sydney", 2025, 10, 4, 23, 0)
    assert next_allowed_send(now, "Australia/Sydney", DEFAULT_QUIET_HOURS) == datetime(
        2025, 10, 4, 21, 0, tzinfo=UTC
    )


def test_an_end_time_inside_the_spring_forward_gap_is_shifted_forward():
    quiet = QuietHours.parse("23:00", "02:30")  # 02:30 does not exist on 2025-03-09 in New York
    now = at("America/New_York", 2025, 3, 9, 1, 0)
    assert next_allowed_send(now, "America/New_York", quiet) == at(
        "America/New_York", 2025, 3, 9, 3, 30
    )


def test_an_end_time_that_happens_twice_ends_at_its_next_occurrence():
    quiet = QuietHours.parse("23:00", "01:30")  # 2025-11-02 01:30 happens twice in New York
    first_pass = at("America/New_York", 2025, 11, 2, 1, 10, fold=0)  # EDT
    assert next_allowed_send(first_pass, "America/New_York", quiet) == at(
        "America/New_York", 2025, 11, 2, 1, 30, fold=0
    )
    second_pass = at("America/New_York", 2025, 11, 2, 1, 10, fold=1)  # EST, an hour later
    assert next_allowed_send(second_pass, "America/New_York", quiet) == at(
        "America/New_York", 2025, 11, 2, 1, 30, fold=1
    )


def test_a_window_within_one_day_is_supported():
    lunch = QuietHours(time(12, 0), time(13, 30))
    now = at("Asia/Tokyo", 2025, 6, 10, 12, 45)
    assert next_allowed_send(now, "Asia/Tokyo", lunch) == at("Asia/Tokyo", 2025, 6, 10, 13, 30)
    evening = at("Asia/Tokyo", 2025, 6, 10, 22, 0)
    assert next_allowed_send(evening, "Asia/Tokyo", lunch) == evening


def test_equal_start_and_end_means_no_quiet_hours():
    now = at("Europe/Berlin", 2025, 6, 10, 3, 0)
    assert next_allowed_send(now, "Europe/Berlin", NO_QUIET_HOURS) == now


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        next_allowed_send(datetime(2025, 6, 10, 12, 0), "Europe/Berlin", DEFAULT_QUIET_HOURS)


def test_last_allowed_before_moves_to_just_before_quiet_hours_began():
    due = at("Europe/Berlin", 2025, 6, 11, 6, 0)
    assert last_allowed_before(due, "Europe/Berlin", DEFAULT_QUIET_HOURS) == at(
        "Europe/Berlin", 2025, 6, 10, 20, 59
    )
    daytime = at("Europe/Berlin", 2025, 6, 11, 10, 0)
    assert last_allowed_before(daytime, "Europe/Berlin", DEFAULT_QUIET_HOURS) == daytime


ZONES = st.sampled_from(
    ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo"]
)
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
WALL_TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(now=INSTANTS, tz=ZONES, start=WALL_TIMES, end=WALL_TIMES)
def test_the_answer_is_never_earlier_never_quiet_and_never_far(now, tz, start, end):
    quiet = QuietHours(start, end)
    result = next_allowed_send(now, tz, quiet)
    assert result >= now
    assert not quiet.contains(result.astimezone(ZoneInfo(tz)).time())
    assert result - now <= timedelta(hours=25)
    if not quiet.contains(now.astimezone(ZoneInfo(tz)).time()):
        assert result == now
