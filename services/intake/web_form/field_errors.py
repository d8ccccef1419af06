"""The schema's and the use case's errors (by schema path) as messages next to the HTML fields.

A path goes to the field it came from (`Reading.origins`, the longest known prefix); the words
shown are the patient-facing ones of `MESSAGES` when the field has one, else the rule's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from services.intake.web_form.questionnaires import Questionnaire

WHOLE_FORM = "form"  # an error no field owns: shown in the summary only

MESSAGES: tuple[tuple[str, str], ...] = (  # (field pattern, message; {0} is the row number)
    (r"signed_by", "Type your full name to sign the form."),
    (r"consent_agreed", "Tick the box to agree, then send the form."),
    (r"temperature_c", "Enter your temperature in °C (30 to 45), or leave it empty."),
    (r"bp_systolic", "Enter the top blood pressure number (50 to 300), or leave both empty."),
    (r"bp_diastolic", "Enter the bottom blood pressure number (30 to 200), or leave both empty."),
    (r"surgery_(\d+)_date", "Enter the date of operation {0}."),
    (r"surgery_(\d+)_area", "Say where on the body operation {0} was, for example left knee."),
    (r"symptom_(\d+)_description", "Describe symptom {0} in a few words (500 characters at most)."),
    (r"symptom_(\d+)_body_area", "Say where symptom {0} is in 60 characters at most."),
    (r"event_\w+_date", "Enter the date of the stroke or mini-stroke as day, month and year."),
    (r"finding_\w+_area", "Name each place in 60 characters at most, separated by commas."),
    (r"medications", "Write one medicine per line, each in 200 characters at most (50 at most)."),
    (r"body_areas(_other)?", "Name each body area in 60 characters at most (30 areas at most)."),
    (r"history_notes", "Please keep this to 5,000 characters."),
)


def _parent(path: str) -> str:
    """`a.b[2].c` -> `a.b[2]` -> `a.b` -> `a` -> ``."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def field_for(path: str, origins: Mapping[str, str]) -> str:
    while path:
        if path in origins:
            return origins[path]
        path = _parent(path)
    return WHOLE_FORM


def questionnaire_message(q: Questionnaire) -> str:
    """What to do when a questionnaire's answers cannot be scored (too few, out of range)."""
    spec = q.spec
    low, high = spec.item_range
    fewest, most = spec.item_count
    if len(q.items) == 1:
        return f"Enter {q.items[0].what} as a whole number from {low} to {high}."
    if q.items[0].activity_field:
        return f"{q.title}: name and rate at least {fewest} activities, from {low} to {high}."
    if spec.max_missing == 0:
        return f"{q.title}: please answer every question."
    return f"{q.title}: please answer at least {most - spec.max_missing} of the {most} questions."


def _words(field: str, rule_message: str, questionnaires: Sequence[Questionnaire]) -> str:
    for q in questionnaires:
        if field in (q.group_id, q.items[0].field):
            return questionnaire_message(q)
    for pattern, message in MESSAGES:
        if matched := re.fullmatch(pattern, field):
            return message.format(*matched.groups())
    return rule_message


def field_errors(
    messages: Mapping[str, Sequence[str]],
    origins: Mapping[str, str],
    questionnaires: Sequence[Questionnaire] = (),
) -> dict[str, str]:
    """One message per field (the first), from `{schema path: [messages]}`."""
    found: dict[str, str] = {}
    for path, texts in messages.items():
        field = field_for(path, origins)
        found.setdefault(field, _words(field, texts[0] if texts else "", questionnaires))
    return found
