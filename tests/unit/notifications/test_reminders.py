from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.notifications.domain.quiet_hours import DEFAULT_QUIET_HOURS
from services.notifications.domain.reminders import (
    DEFAULT_REMINDER_OFFSETS,
    ReminderOffset,
    plan_reminders,
    reminder_key,
    reminder_times,
    stale_reminder_keys,
)

STARTS = datetime(2025, 6, 12, 15, 0, tzinfo=UTC)
NY = "America/New_York"


def test_default_reminders_are_an_email_a_day_before_and_a_text_two_hours_before():
    now = STARTS - timedelta(days=5)
    assert reminder_times(STARTS, DEFAULT_REMINDER_OFFSETS, now) == [
        ("email-24h", STARTS - timedelta(hours=24)),
        ("sms-2h", STARTS - timedelta(hours=2)),
    ]


def test_reminders_already_past_are_skipped():
    now = STARTS - timedelta(hours=5)  # booked the same day
    assert reminder_times(STARTS, DEFAULT_REMINDER_OFFSETS, now) == [
        ("sms-2h", STARTS - timedelta(hours=2))
    ]
    assert reminder_times(STARTS, DEFAULT_REMINDER_OFFSETS, STARTS - timedelta(hours=2)) == []


def test_iso_strings_are_accepted_and_results_are_utc():
    times = reminder_times(
        "2025-06-12T17:00:00+02:00", DEFAULT_REMINDER_OFFSETS, STARTS - timedelta(days=2)
    )
    assert [due for _, due in times] == [
        datetime(2025, 6, 11, 15, 0, tzinfo=UTC),
        datetime(2025, 6, 12, 13, 0, tzinfo=UTC),
    ]


def test_tenant_offsets_replace_the_defaults():
    offsets = (
        ReminderOffset("email-1w", "email", timedelta(weeks=1)),
        ReminderOffset("sms-1d", "sms", timedelta(days=1)),
    )
    keys = [key for key, _ in reminder_times(STARTS, offsets, STARTS - timedelta(days=30))]
    assert keys == ["email-1w", "sms-1d"]


def test_a_reschedule_moves_the_same_reminders_to_new_times():
    now = STARTS - timedelta(days=5)
    first = plan_reminders("s-1", STARTS, DEFAULT_REMINDER_OFFSETS, now)
    moved = plan_reminders("s-1", STARTS + timedelta(days=2), DEFAULT_REMINDER_OFFSETS, now)
    assert (
        [r.key for r in moved]
        == [r.key for r in first]
        == [("s-1", "email-24h"), ("s-1", "sms-2h")]
    )
    assert [r.due_at - f.due_at for r, f in zip(moved, first, strict=True)] == [
        timedelta(days=2)
    ] * 2
    assert {r.event_id for r in moved}.isdisjoint({r.event_id for r in first})


def test_a_reschedule_to_sooner_cancels_reminders_that_can_no_longer_go_out():
    now = STARTS - timedelta(days=5)
    stored = [r.key for r in plan_reminders("s-1", STARTS, DEFAULT_REMINDER_OFFSETS, now)]
    moved = plan_reminders("s-1", now + timedelta(hours=6), DEFAULT_REMINDER_OFFSETS, now)
    assert [r.offset_key for r in moved] == ["sms-2h"]
    assert stale_reminder_keys(stored, moved) == {reminder_key("s-1", "email-24h")}


def test_a_reminder_falling_in_quiet_hours_waits_until_morning_if_still_useful():
    starts = datetime(2025, 6, 12, 10, 0, tzinfo=ZoneInfo(NY))  # 2 h before is 08:00: allowed
    late = datetime(2025, 6, 12, 9, 45, tzinfo=ZoneInfo(NY))  # 07:45: wait to 08:00 (1 h 45 before)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    for start, expected in (
        (starts, starts - timedelta(hours=2)),
        (late, late.replace(hour=8, minute=0)),
    ):
        sms = plan_reminders(
            "s", start, DEFAULT_REMINDER_OFFSETS, now, tz=NY, quiet=DEFAULT_QUIET_HOURS
        )[-1]
        assert sms.due_at == expected.astimezone(UTC)


def test_an_early_morning_session_gets_its_text_the_evening_before():
    starts = datetime(2025, 6, 12, 8, 0, tzinfo=ZoneInfo(NY))  # 2 h before is 06:00
    now = datetime(2025, 6, 1, tzinfo=UTC)
    sms = plan_reminders(
        "s", starts, DEFAULT_REMINDER_OFFSETS, now, tz=NY, quiet=DEFAULT_QUIET_HOURS
    )[-1]
    assert sms.due_at == datetime(2025, 6, 11, 20, 59, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def test_a_quiet_hours_reminder_with_no_useful_time_left_is_dropped():
    starts = datetime(2025, 6, 12, 8, 0, tzinfo=ZoneInfo(NY))
    now = datetime(2025, 6, 11, 23, 0, tzinfo=ZoneInfo(NY))  # booked late at night
    assert (
        plan_reminders("s", starts, DEFAULT_REMINDER_OFFSETS, now, tz=NY, quiet=DEFAULT_QUIET_HOURS)
        == []
    )
