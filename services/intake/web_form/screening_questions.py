"""The screening questions of the patient's form, worded for patients (`screening_questions.json`).

Each question maps to a flag of the contraindication rules (`domain/checklist_flags.CONDITIONS`,
`LOCAL_FINDINGS`, `DATED_EVENTS`). `load_questions` refuses a table that misses a flag or names
one the rules do not know, so the form always asks everything the screening reads.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from services.intake.domain.checklist_flags import CONDITIONS, DATED_EVENTS, LOCAL_FINDINGS


@dataclass(frozen=True)
class ConditionGroup:
    legend: str
    conditions: tuple[tuple[str, str], ...]  # (flag, question)


@dataclass(frozen=True)
class ScreeningQuestions:
    condition_groups: tuple[ConditionGroup, ...]
    local_findings: tuple[tuple[str, str], ...]
    events: tuple[tuple[str, str], ...]
    body_areas: tuple[str, ...]


def _check(kind: str, asked: list[str], known: Collection[str]) -> list[str]:
    problems = [f"{kind} {flag!r} is asked twice" for flag in set(asked) if asked.count(flag) > 1]
    problems += [f"{kind} {flag!r} is not asked" for flag in sorted(set(known) - set(asked))]
    problems += [
        f"{kind} {flag!r} is unknown to the rules" for flag in sorted(set(asked) - set(known))
    ]
    return problems


def load_questions(
    raw: Mapping[str, Any],
    conditions: Collection[str] = CONDITIONS,
    local_findings: Collection[str] = LOCAL_FINDINGS,
    events: Collection[str] = DATED_EVENTS,
) -> ScreeningQuestions:
    """Build and check the questions; raises ValueError listing every flag asked wrongly."""
    groups = tuple(
        ConditionGroup(g["legend"], tuple(g["conditions"].items())) for g in raw["condition_groups"]
    )
    asked = [flag for group in groups for flag, _ in group.conditions]
    problems = [
        *_check("condition", asked, conditions),
        *_check("local finding", list(raw["local_findings"]), local_findings),
        *_check("event", list(raw["events"]), events),
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return ScreeningQuestions(
        groups,
        tuple(raw["local_findings"].items()),
        tuple(raw["events"].items()),
        tuple(raw["body_areas"]),
    )


def _default() -> ScreeningQuestions:
    text = (resources.files(__package__) / "screening_questions.json").read_text(encoding="utf-8")
    return load_questions(json.loads(text))


QUESTIONS = _default()
