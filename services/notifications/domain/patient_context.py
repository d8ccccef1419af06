"""What a patient message may show: an allow-list of fields that cannot carry clinical content.

A patient template is rendered from `patient_context`, built from `PATIENT_FIELDS` only, never
from the event's data as a whole: diagnoses, screening, reasons, measures, goals, notes and
medications are simply not there. Two consequences for a clinic's template override:

- saved through the API, an override that names a field outside the list is refused (422,
  naming the field): `template_check.check_override`;
- stored some other way, it fails when rendered: templates use `StrictUndefined`, so an unknown
  name is an error (the delivery fails and staff are told), never a silent blank.

Only plain values (text, numbers, true/false) are taken, so a field cannot smuggle a nested
object in. The PHI guard still checks the rendered text (`phi_guard`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PATIENT_FIELDS: Mapping[str, str] = {
    "recipient_name": "the patient's given name",
    "clinic_name": "the clinic's name (its settings)",
    "intake_link": "the patient's link to the health-history form",
    "unsubscribe_url": "the patient's link to stop emails",
    "starts_at": "when the session starts (UTC; show it with local_datetime(location_tz))",
    "previous_starts_at": "when a rescheduled session was to start",
    "duration_minutes": "how long the session lasts",
    "location_name": "where the session takes place",
    "location_tz": "the location's time zone",
    "room_id": "the room, as the clinic names it",
    "cancelled_by": "patient or clinic",
    "language": "the message's language tag",
    "event_type": "the event the message answers",
}
"""Every name a patient template may use, and what it holds (shown in the 422 of an override)."""

_PLAIN = (str, int, float, bool, type(None))


def patient_context(
    event_type: str, data: Mapping[str, Any], *, clinic_name: str, **extras: Any
) -> dict[str, Any]:
    """The allow-listed fields of the event's `data` and of `extras`, and nothing else.

    ``recipient_name`` (for the greeting) defaults to the given name in the event.
    """
    contact = data.get("patient") or data.get("contact") or {}
    given_name = contact.get("given_name") if isinstance(contact, Mapping) else None
    available = {
        "recipient_name": given_name, **data, "event_type": event_type,
        "clinic_name": clinic_name, **extras,
    }  # fmt: skip
    return {
        name: available[name]
        for name in PATIENT_FIELDS
        if name in available and isinstance(available[name], _PLAIN)
    }
