"""Page 13, clinic settings (admins): its sections, and its forms as the APIs' bodies and back.

Staff users (invite; role and locations; disable), locations, how staff sign in, and the
notification settings (quiet hours, staff inboxes, reminders) with template overrides. Each
form's fields are named so that the API's field errors land next to them (`*_fields`), and
every change is confirmed in words (`invited`, `access_changed`...).

Pure: the pages give it the forms and the APIs' answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.console.domain.places import Place

SECTIONS = {
    "staff": ("Staff", "staff_settings.staff"),
    "locations": ("Locations", "clinic_settings.locations"),
    "sign_in": ("Sign-in", "clinic_settings.sign_in"),
    "notifications": ("Notifications", "message_settings.notifications"),
    "templates": ("Templates", "message_settings.templates"),
}
"""The sections of the settings, each a page of its own (key -> tab label, endpoint)."""

ROLES = {"therapist": "Therapist", "front_desk": "Front desk", "admin": "Admin"}
ROLE_WORDS = {"therapist": "therapist", "front_desk": "front desk", "admin": "admin"}
USER_STATUSES = {"invited": "Invited", "active": "Active", "disabled": "Disabled"}
EVERY_LOCATION = "every location"
REMINDER_ROWS = 3
REMINDER_CHANNELS = {"sms": "Text message", "email": "Email"}
ALL_INBOX = "*"


def places_words(location_ids: Sequence[str] | None, places: Iterable[Place]) -> str:
    """`Downtown and Lakeside`, or `every location` (None: no limit)."""
    if location_ids is None:
        return EVERY_LOCATION
    names = {p.location_id: p.name for p in places}
    shown = [names.get(i, i) for i in location_ids]
    if len(shown) <= 1:
        return "".join(shown) or "no location"
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


# --- staff users -----------------------------------------------------------------------------

INVITE_FIELDS = ("name", "email", "role", "locations")
ACCESS_FIELDS = ("role", "locations")


def chosen_locations(form: Any) -> list[str] | None:
    """The ticked locations (`form.getlist`), or None for none ticked: every location."""
    ticked = [v for v in form.getlist("locations") if v]
    return sorted(set(ticked)) or None


def invite_body(form: Any) -> dict[str, Any]:
    return {
        "name": (form.get("name") or "").strip(),
        "email": (form.get("email") or "").strip(),
        "role": form.get("role") or "",
        "locations": chosen_locations(form),
    }


def access_body(form: Any, version: int) -> dict[str, Any]:
    return {"role": form.get("role") or "", "locations": chosen_locations(form), "version": version}


def invited(user: Mapping[str, Any], places: Iterable[Place]) -> str:
    """`Sam Ortiz invited as therapist at Downtown; the email with their link is on its way.`"""
    role = ROLE_WORDS.get(user["role"], user["role"])
    where = places_words(user.get("locations"), places)
    return f"{user['name']} invited as {role} at {where}; the email with their link is on its way."


def access_changed(user: Mapping[str, Any], places: Iterable[Place]) -> str:
    role = ROLE_WORDS.get(user["role"], user["role"])
    return f"{user['name']} is now {role} at {places_words(user.get('locations'), places)}."


@dataclass(frozen=True)
class StaffRow:
    user_id: str
    name: str
    email: str
    role: str
    where: str
    status: str
    second_factor: str


def staff_row(user: Mapping[str, Any], places: Iterable[Place]) -> StaffRow:
    return StaffRow(
        user_id=user["user_id"],
        name=user.get("name") or user.get("email", ""),
        email=user.get("email", ""),
        role=ROLES.get(user.get("role", ""), user.get("role", "")),
        where=places_words(user.get("locations"), places).capitalize(),
        status=USER_STATUSES.get(user.get("status", ""), user.get("status", "")),
        second_factor="Yes" if user.get("totp_enrolled") else "No",
    )


# --- locations -------------------------------------------------------------------------------

LOCATION_FIELDS = ("name", "timezone", "rooms")


def location_body(form: Mapping[str, str], stored: Mapping[str, Any] | None = None) -> dict:
    """A location's name, time zone and rooms (one name a line: a room named as before keeps
    its id, so its booked sessions keep it); its address as stored (the form does not show it)."""
    ids = {r["name"]: r["room_id"] for r in (stored or {}).get("rooms") or []}
    names = [line.strip() for line in (form.get("rooms") or "").splitlines() if line.strip()]
    return {
        "name": (form.get("name") or "").strip(),
        "timezone": (form.get("timezone") or "").strip(),
        "address": (stored or {}).get("address"),
        "rooms": [{"room_id": ids[n], "name": n} if n in ids else {"name": n} for n in names],
    }


def rooms_text(location: Mapping[str, Any]) -> str:
    """The rooms as the form shows them: one name a line."""
    return "\n".join(r["name"] for r in location.get("rooms") or [])


def location_on_form(api_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """`rooms[1].name` (or `rooms.1.name`) is about the rooms: shown next to the one field."""
    placed: dict[str, list[str]] = {}
    for path, problems in api_errors.items():
        placed.setdefault(re.split(r"[.\[]", path, maxsplit=1)[0], []).extend(problems)
    return placed


# --- sign-in policy --------------------------------------------------------------------------

POLICY_FIELDS = ("require_totp", "session_idle_minutes")


def policy_body(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The sign-in policy from its form, and the errors the form alone can tell."""
    minutes = (form.get("session_idle_minutes") or "").strip()
    if not minutes.isdigit():
        return {}, {"session_idle_minutes": ["a whole number of minutes, 5 to 480"]}
    body = {"require_totp": form.get("require_totp") == "yes", "session_idle_minutes": int(minutes)}
    return body, {}


def policy_changed(policy: Mapping[str, Any]) -> str:
    who = "Everyone" if policy["require_totp"] else "Admins"
    return (
        f"Sign-in policy saved: {who} must use a second factor; sessions end after "
        f"{policy['session_idle_minutes']} idle minutes."
    )


# --- notification settings -------------------------------------------------------------------


def inbox_field(location_id: str) -> str:
    return "inbox-all" if location_id == ALL_INBOX else f"inbox-{location_id}"


def config_values(config: Mapping[str, Any], places: Iterable[Place]) -> dict[str, str]:
    """The stored notification settings as the form's values."""
    quiet = config.get("quiet_hours") or {}
    values = {
        "clinic_name": config.get("clinic_name") or "",
        "quiet_start": quiet.get("start", ""),
        "quiet_end": quiet.get("end", ""),
    }
    inboxes = config.get("staff_emails") or {}
    for location_id in [ALL_INBOX, *(p.location_id for p in places)]:
        values[inbox_field(location_id)] = inboxes.get(location_id, "")
    for n, reminder in enumerate((config.get("reminders") or [])[:REMINDER_ROWS]):
        values[f"reminder-{n}-channel"] = reminder.get("channel", "")
        values[f"reminder-{n}-hours"] = _hours(reminder.get("minutes_before"))
    return values


def _hours(minutes: Any) -> str:
    if minutes is None:
        return ""
    hours = float(minutes) / 60
    return str(int(hours)) if hours.is_integer() else f"{hours:g}"


def config_body(
    form: Mapping[str, str], stored: Mapping[str, Any], places: Iterable[Place]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`PUT /config`'s body: the stored settings with the form's changes (what the form does
    not show is sent back as it is; webhooks without their secret keep it), and the errors the
    form alone can tell."""
    errors: dict[str, list[str]] = {}
    body = {k: v for k, v in stored.items() if k not in ("updated_at",)}
    body["partner_webhooks"] = {
        partner: {"url": hook["url"]}
        for partner, hook in (stored.get("partner_webhooks") or {}).items()
    }
    name = (form.get("clinic_name") or "").strip()
    if name:
        body["clinic_name"] = name
    else:
        body.pop("clinic_name", None)
    start, end = (form.get("quiet_start") or "").strip(), (form.get("quiet_end") or "").strip()
    if start and end:
        body["quiet_hours"] = {"start": start, "end": end}
    elif start or end:
        errors["quiet_end" if start else "quiet_start"] = ["give both times, or neither"]
    else:
        body["quiet_hours"] = None
    inboxes = {}
    for location_id in [ALL_INBOX, *(p.location_id for p in places)]:
        if email := (form.get(inbox_field(location_id)) or "").strip():
            inboxes[location_id] = email
    kept = {k: v for k, v in (stored.get("staff_emails") or {}).items() if k not in inboxes}
    known = {ALL_INBOX, *(p.location_id for p in places)}
    body["staff_emails"] = {**{k: v for k, v in kept.items() if k not in known}, **inboxes}
    reminders = []
    for n in range(REMINDER_ROWS):
        channel = form.get(f"reminder-{n}-channel") or ""
        hours = (form.get(f"reminder-{n}-hours") or "").strip()
        if not channel and not hours:
            continue
        try:
            minutes = round(float(hours) * 60, 2)
        except ValueError:
            errors[f"reminder-{n}-hours"] = ["a number of hours, such as 24 or 1.5"]
            continue
        if channel not in REMINDER_CHANNELS:
            errors[f"reminder-{n}-channel"] = ["choose email or text message"]
            continue
        reminders.append(
            {"key": f"{channel}-{_hours(minutes)}h".replace(".", "-"), "channel": channel,
             "minutes_before": minutes}
        )  # fmt: skip
    body["reminders"] = reminders
    return body, errors


def config_on_form(api_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """`PUT /config`'s field errors under the form's fields (`quiet_hours.start` -> quiet_start,
    `staff_emails.main.value` -> inbox-main, `reminders.1.minutes_before` -> reminder-1-hours)."""
    placed: dict[str, list[str]] = {}
    for path, problems in api_errors.items():
        parts = path.split(".")
        if parts[0] == "quiet_hours":
            name = "quiet_end" if parts[-1] == "end" else "quiet_start"
        elif parts[0] == "staff_emails" and len(parts) > 1:
            name = inbox_field(parts[1])
        elif parts[0] == "reminders" and len(parts) > 1 and parts[1].isdigit():
            name = f"reminder-{parts[1]}-{'channel' if parts[-1] == 'channel' else 'hours'}"
        else:
            name = parts[0]
        placed.setdefault(name, []).extend(problems)
    return placed


def config_fields(places: Iterable[Place]) -> list[str]:
    inboxes = [inbox_field(i) for i in [ALL_INBOX, *(p.location_id for p in places)]]
    reminders = [
        f"reminder-{n}-{part}" for n in range(REMINDER_ROWS) for part in ("channel", "hours")
    ]
    return ["clinic_name", "quiet_start", "quiet_end", *inboxes, *reminders]


# --- template overrides ----------------------------------------------------------------------


def template_words(name: str) -> str:
    """`patient_session_reminder.sms` -> `Patient session reminder (text message)`."""
    base, _, channel = name.partition(".")
    words = base.replace("_", " ")
    part = {"email": "email", "sms": "text message", "webhook": "webhook",
            "email.html": "email, HTML part"}.get(channel, channel)  # fmt: skip
    return f"{words[:1].upper()}{words[1:]} ({part})"
