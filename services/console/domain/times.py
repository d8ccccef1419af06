"""Times as staff read them: in the location's zone, with the zone named ("Tue 9 Dec 2025,
10:00 EST"), how long something has waited ("3 days"), and how many days a date leaves."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def parse_instant(value: str | datetime | None) -> datetime | None:
    """An API's ISO 8601 time (UTC when it names no offset), or None."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def when(value: str | datetime | None, zone: ZoneInfo) -> str:
    """`Tue 9 Dec 2025, 10:00 EST` in the zone; an empty string for no time."""
    moment = parse_instant(value)
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def on_day(value: str | date | None) -> str:
    """A calendar date as `Tue 9 Dec 2025` (no zone: it is a date, not a time)."""
    if value is None or value == "":
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day:%a} {day.day} {day:%b %Y}"


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def waited(since: str | datetime | None, now: datetime) -> str:
    """How long since `since`, in the largest whole unit: `3 days`, `5 hours`, `12 minutes`."""
    moment = parse_instant(since)
    if moment is None:
        return ""
    elapsed = max(now - moment, timedelta(0))
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(elapsed.total_seconds() // seconds)
        if count >= 1:
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def days_left(last_day: str | date | None, today: date) -> int | None:
    """Days from `today` to `last_day` (0 on the day itself, negative once past); None: no end."""
    if last_day is None or last_day == "":
        return None
    end = last_day if isinstance(last_day, date) else date.fromisoformat(last_day)
    return (end - today).days
