"""The booking and rescheduling forms: a day and a time at the location (its wall clock, which
planning turns into UTC), a therapist, a room, a length; what the form checks before asking
(a day and a time that exist), and where the API's field errors go on the form (a double
booking or a referral that does not cover the session: next to the time asked for).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

BOOKING_FIELDS = ("plan_id", "therapist_id", "room_id", "date", "time", "duration_minutes")
RESCHEDULE_FIELDS = ("therapist_id", "room_id", "date", "time", "duration_minutes")
CANCEL_FIELDS = ("cancelled_by", "reason")
CANCELLED_BY = (("patient", "The patient"), ("clinic", "The clinic"))
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

API_FIELD_ON_FORM = {"starts_at_local": "time"}
"""The API's field -> the form's (the rest keep their names)."""


def local_start(form: Mapping[str, str]) -> tuple[datetime | None, dict[str, list[str]]]:
    """The wall-clock start the form asks for, or the errors of its day and time."""
    errors: dict[str, list[str]] = {}
    day_text, time_text = form.get("date", "").strip(), form.get("time", "").strip()
    day: date | None = None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        errors["date"] = ["give the day, e.g. 2026-12-09" if day_text else "give the day"]
    found = TIME.match(time_text)
    if not found:
        errors["time"] = ["give the time, e.g. 10:00" if time_text else "give the time"]
    if errors or day is None or found is None:
        return None, errors
    return datetime.combine(day, time(int(found[1]), int(found[2]))), {}


def booking_body(
    form: Mapping[str, str], *, rescheduling: bool = False
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The body of `POST .../sessions` (or `.../reschedule`), or the form's own errors."""
    start, errors = local_start(form)
    if not rescheduling and not form.get("plan_id", "").strip():
        errors["plan_id"] = ["choose the patient"]
    therapist = form.get("therapist_id", "").strip()
    if not rescheduling and not therapist:
        errors["therapist_id"] = ["choose the therapist"]
    minutes = form.get("duration_minutes", "").strip()
    if minutes and not minutes.isdigit():
        errors["duration_minutes"] = ["give the length in whole minutes, e.g. 50"]
    if errors or start is None:
        return {}, errors
    body: dict[str, Any] = {"starts_at_local": start.isoformat(timespec="minutes")}
    if therapist:
        body["therapist_id"] = therapist
    room = form.get("room_id", "").strip()
    if room or not rescheduling:
        body["room_id"] = room or None
    if minutes:
        body["duration_minutes"] = int(minutes)
    return body, {}


def on_form(api_fields: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The API's field errors under the form's names."""
    placed: dict[str, list[str]] = {}
    for name, problems in api_fields.items():
        placed.setdefault(API_FIELD_ON_FORM.get(name, name), []).extend(problems)
    return placed


def cancel_body(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    who = form.get("cancelled_by", "")
    if who not in dict(CANCELLED_BY):
        return {}, {"cancelled_by": ["say who cancels: the patient or the clinic"]}
    reason = form.get("reason", "").strip()
    return {"cancelled_by": who, "reason": reason or None}, {}
