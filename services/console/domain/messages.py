"""Page 12, the delivery log as staff read it: the filters of the form as the API's query, and
each delivery as a row that says in words to whom it went, what it was, and what became of it
(why it was not sent, why it waits, why it failed).

Pure: the page gives it the API's answers, the person's places and the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.console.domain.places import Place, place_of, zone_for
from services.console.domain.times import when

KINDS = {
    "message": "Messages",
    "reminder": "Reminders",
    "failure_notice": "Failure notices",
    "failure_report": "Failure reports to staff",
}
CHANNELS = {"email": "Email", "sms": "Text message", "webhook": "Webhook"}
STATUSES = {
    "sent": "Sent",
    "queued": "Queued",
    "deferred": "Deferred",
    "failed": "Failed",
    "suppressed": "Not sent",
    "cancelled": "Cancelled",
    "waiting": "Waiting for a report",
}
AUDIENCES = {
    "patient": "Patient",
    "referrer": "Referrer",
    "staff": "Staff inbox",
    "partner": "Partner",
    "user": "Staff member",
}
FILTER_FIELDS = ("kind", "channel", "status", "since", "until", "patient")
API_FIELDS = {
    "kind": "kind",
    "channel": "channel",
    "status": "status",
    "created_since": "since",
    "created_before": "until",
    "patient_id": "patient",
    "recipient": "patient",
}
"""The API's query parameters -> the form's fields (for its field errors)."""


def on_form(api_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The API's query errors under the form's field names."""
    return {API_FIELDS.get(name, name): problems for name, problems in api_errors.items()}


CANCELLED_BECAUSE = {
    "session.cancelled": "the session was cancelled",
    "session.rescheduled": "the session moved, and a message for the new time replaces it",
    "too_late": "it was due only after the session had begun",
    "nothing_to_report": "its notices went out in another report",
}
SUPPRESSED_BECAUSE = {
    "consent": "the patient has not consented to {channel}, or has opted out of it",
    "no_address": "nobody is set up to receive it (see the clinic's notification settings)",
}


@dataclass(frozen=True)
class Filters:
    """The log's filters as the form has them, and their errors (form field -> problems)."""

    values: dict[str, str]
    query: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


def filters_from(form: Mapping[str, str], zone: ZoneInfo) -> Filters:
    """The form's filters as the API's query: the days `since` and `until` (both included) are
    whole days in `zone`; a value the API would not know is an error next to its field."""
    values = {name: (form.get(name) or "").strip() for name in FILTER_FIELDS}
    query: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, known in (("kind", KINDS), ("channel", CHANNELS), ("status", STATUSES)):
        if values[name] and values[name] not in known:
            errors[name] = ["choose one of the list"]
        elif values[name]:
            query[name] = values[name]
    days: dict[str, date] = {}
    for name in ("since", "until"):
        if values[name]:
            try:
                days[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = ["a date such as 2025-12-09"]
    if "since" in days and "until" in days and days["until"] < days["since"]:
        errors["until"] = ["must not be before the first day"]
    if "since" in days:
        query["created_since"] = _start_of(days["since"], zone)
    if "until" in days:
        query["created_before"] = _start_of(days["until"] + timedelta(days=1), zone)
    if values["patient"]:
        query["patient_id"] = values["patient"]
    return Filters(values, {} if errors else query, errors)


def _start_of(day: date, zone: ZoneInfo) -> str:
    return datetime.combine(day, time(0), zone).isoformat()


@dataclass(frozen=True)
class Row:
    delivery_id: str
    planned: str
    recipient: str
    what: str
    channel: str
    status: str
    status_key: str
    why: str


def patient_ids(deliveries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The patients a page of the log went to (their names come in one call)."""
    keys = (str(d.get("recipient") or "") for d in deliveries)
    return sorted({k.removeprefix("patient:") for k in keys if k.startswith("patient:")})


def row(delivery: Mapping[str, Any], places: Iterable[Place], names: Mapping[str, str]) -> Row:
    listed = list(places)
    zone = zone_for(listed, delivery.get("location_id"))
    return Row(
        delivery_id=str(delivery.get("delivery_id", "")),
        planned=when(delivery.get("created_at"), zone),
        recipient=recipient_words(str(delivery.get("recipient") or ""), listed, names),
        what=template_words(delivery),
        channel=CHANNELS.get(str(delivery.get("channel")), str(delivery.get("channel", ""))),
        status=STATUSES.get(str(delivery.get("status")), str(delivery.get("status", ""))),
        status_key=str(delivery.get("status", "")),
        why=explanation(delivery, zone),
    )


def recipient_words(key: str, places: Iterable[Place], names: Mapping[str, str]) -> str:
    """`Patient: Maria Alvarez`, `Referrer: lee@practice.example`, `Staff inbox: Downtown`."""
    audience, _, who = key.partition(":")
    label = AUDIENCES.get(audience, audience.capitalize() or "Someone")
    if audience == "patient":
        who = names.get(who) or who
    elif audience == "staff":
        place = place_of(places, who)
        who = "every location" if who in ("all", "*") else (place.name if place else who)
    return f"{label}: {who}" if who else label


def template_words(delivery: Mapping[str, Any]) -> str:
    """The template as words (`patient_session_reminder` -> `Session reminder`)."""
    template = str(delivery.get("template") or delivery.get("kind") or "")
    for audience in AUDIENCES:
        template = template.removeprefix(f"{audience}_")
    words = template.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def explanation(delivery: Mapping[str, Any], zone: ZoneInfo) -> str:
    """What became of a delivery, in words: why it was not sent, why and until when it waits,
    why it failed, when it went."""
    status = delivery.get("status")
    reason = str(delivery.get("reason") or "")
    channel = CHANNELS.get(str(delivery.get("channel")), "this channel").lower()
    attempts = int(delivery.get("attempts") or 0)
    error = delivery.get("last_error")
    if status == "sent":
        return f"Sent {when(delivery.get('sent_at'), zone)}."
    if status == "suppressed":
        why = SUPPRESSED_BECAUSE.get(reason, reason or "no reason was recorded")
        return f"Not sent: {why.format(channel=channel)}."
    if status == "deferred":
        return (
            "Held back by the clinic's quiet hours: it goes out "
            f"{when(delivery.get('send_at'), zone)}."
        )
    if status == "queued":
        at = when(delivery.get("send_at"), zone)
        if error:
            tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
            return f"Trying again {at} after {tries}: {error}."
        return f"Due {at}."
    if status == "failed":
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        return f"Failed after {tries}: {error or 'no reason was recorded'}. Staff are told."
    if status == "cancelled":
        why = CANCELLED_BECAUSE.get(reason, reason or "no reason was recorded")
        return f"Cancelled: {why}."
    if status == "waiting":
        return "Waits to go out with the staff inbox's next failure report."
    return ""
