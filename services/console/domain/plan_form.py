"""The plan page's form (page 7): a plan's content as the fields a therapist edits, the fields
back as planning's edit (`PATCH /plans/{id}`), and planning's field errors on those fields.

A draft allows every field; an active plan only its techniques, goals and notes (the rest was
checked against the referral when it was approved: planning's rule, `EDITABLE_FIELDS`). Lists
are one item a line. Numbers and dates go to planning as typed: planning says what is wrong
with them, next to the field. A technique keeps the notes planning has for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.clinical.outcome_chart import number

FIELD_LABELS = {
    "techniques": "Techniques",
    "precautions": "Precautions",
    "treatment_areas": "Treatment areas",
    "frequency_per_week": "Sessions a week",
    "session_minutes": "Minutes a session",
    "planned_sessions": "Sessions planned",
    "start_on": "Starts on",
    "end_on": "Ends on",
    "notes": "Notes",
}
LINES = ("techniques", "precautions", "treatment_areas")
NUMBERS = ("frequency_per_week", "session_minutes", "planned_sessions")
DATES = ("start_on", "end_on")
EDITABLE = {
    "draft": frozenset({*LINES, *NUMBERS, *DATES, "goals", "notes"}),
    "active": frozenset({"techniques", "goals", "notes"}),
}
STATUS_LABELS = {
    "held": "Held for a physician's clearance",
    "cannot_plan": "Cannot be planned",
    "draft": "Draft: waiting for a therapist's approval",
    "active": "Active",
    "completed": "Completed",
    "discontinued": "Discontinued",
}


@dataclass(frozen=True)
class GoalRow:
    measure: str
    baseline: str
    target_field: str
    due_field: str


def editable(status: str) -> frozenset[str]:
    return EDITABLE.get(status, frozenset())


def goal_rows(plan: Mapping[str, Any]) -> list[GoalRow]:
    """One row per measure with a baseline (a goal needs one): its target and its date."""
    return [
        GoalRow(code, number(score), f"goal-{code}-target", f"goal-{code}-due_on")
        for code, score in sorted((plan.get("baseline") or {}).items())
    ]


def form_values(plan: Mapping[str, Any]) -> dict[str, str]:
    """The plan's content as the form shows it."""
    content = plan.get("content") or {}
    values = {
        "techniques": "\n".join(t["code"] for t in content.get("techniques", ())),
        "precautions": "\n".join(content.get("precautions", ())),
        "treatment_areas": "\n".join(content.get("treatment_areas", ())),
        "notes": content.get("notes") or "",
    }
    for name in (*NUMBERS, *DATES):
        values[name] = "" if content.get(name) is None else str(content[name])
    for goal in content.get("goals", ()):
        values[f"goal-{goal['measure']}-target"] = number(goal["target"])
        values[f"goal-{goal['measure']}-due_on"] = goal.get("due_on") or ""
    return values


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def edit_body(
    plan: Mapping[str, Any], form: Mapping[str, str]
) -> tuple[dict[str, Any], list[str], dict[str, list[str]]]:
    """Planning's edit from the form: the body, the goals' measures in the order sent (to put
    planning's `goals.<n>` errors back on their row), and what the form itself lacks."""
    allowed = editable(plan["status"])
    content = plan.get("content") or {}
    body: dict[str, Any] = {"version": plan["version"]}
    missing: dict[str, list[str]] = {}
    if "techniques" in allowed:
        notes = {t["code"]: t.get("notes", []) for t in content.get("techniques", ())}
        body["techniques"] = [
            {"code": code, "notes": notes.get(code, [])}
            for code in _lines(form.get("techniques", ""))
        ]
        if not body["techniques"]:
            missing["techniques"] = ["Give at least one technique."]
    for name in ("precautions", "treatment_areas"):
        if name in allowed:
            body[name] = _lines(form.get(name, ""))
    for name in (*NUMBERS, *DATES):
        if name in allowed:
            body[name] = form.get(name, "").strip()
    if "notes" in allowed:
        body["notes"] = form.get("notes", "").strip()
    order: list[str] = []
    if "goals" in allowed:
        goals = []
        for row in goal_rows(plan):
            target = form.get(row.target_field, "").strip()
            due = form.get(row.due_field, "").strip()
            if not target and not due:
                continue  # no goal on this measure
            if not target:
                missing[row.target_field] = ["Give the score to reach, or clear the date."]
            if not due:
                missing[row.due_field] = ["Give the date to reach it by."]
            goals.append({"measure": row.measure, "target": target, "due_on": due})
            order.append(row.measure)
        body["goals"] = goals
    return body, order, missing


def on_form(fields: Mapping[str, list[str]], goal_order: Sequence[str]) -> dict[str, list[str]]:
    """Planning's field errors (`techniques.0.code`, `goals.1.target`) on the form's fields."""
    placed: dict[str, list[str]] = {}
    for path, problems in fields.items():
        head, _, rest = path.partition(".")
        if head != "goals":
            placed.setdefault(head, []).extend(problems)
            continue
        index, _, part = rest.partition(".")
        if index.isdigit() and int(index) < len(goal_order):
            name = f"goal-{goal_order[int(index)]}-{'due_on' if part == 'due_on' else 'target'}"
            placed.setdefault(name, []).extend(problems)
            continue
        for problem in problems:  # planning names the measure first: "NPRS: target 9 is ..."
            measure = problem.partition(":")[0]
            name = f"goal-{measure}-target" if measure in goal_order else "goals"
            placed.setdefault(name, []).append(problem)
    return placed


def form_fields(plan: Mapping[str, Any]) -> list[str]:
    """Every field name of the form (where planning's errors may go)."""
    rows = [f for row in goal_rows(plan) for f in (row.target_field, row.due_field)]
    return [*FIELD_LABELS, "goals", *rows]
