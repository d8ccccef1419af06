"""Drafting a plan of care from a completed intake.

Screening decides whether a plan can be drafted at all (blocked, held for clearance, or
drafted with precautions). The condition tables (``condition_tables``) suggest techniques,
session length, weekly frequency and typical number of sessions; the referral's authorized
visits and expiry bound them; each baseline measure gets a goal at least the MCID away.
Referral problems found here use the tier ``referral``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from services.planning.domain.condition_tables import (
    DEFAULT_TABLES,
    ConditionGroup,
    ConditionTables,
    matched_groups,
)
from services.planning.domain.intake_summary import (
    BaselineScore,
    Diagnosis,
    IntakeSummary,
    Reason,
    Referral,
    Screening,
    awaiting_clearance,
)
from shared.clinical.outcome_measures import MEASURES, improvement_target

REFERRAL_TIER = "referral"


@dataclass(frozen=True)
class PlannedTechnique:
    code: str
    name: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goal:
    measure: str
    better: str
    baseline: float
    target: float
    due_on: date


@dataclass(frozen=True)
class PlanDraft:
    status: ClassVar[str] = "draft"
    condition_group: str
    diagnoses: tuple[Diagnosis, ...]
    techniques: tuple[PlannedTechnique, ...]
    precautions: tuple[str, ...]
    excluded_areas: tuple[str, ...]
    treatment_areas: tuple[str, ...]
    session_minutes: int
    frequency_per_week: int
    planned_sessions: int
    start_on: date
    end_on: date
    goals: tuple[Goal, ...]


@dataclass(frozen=True)
class PlanBlocked:
    """No plan can be made: an absolute contraindication or an unusable referral."""

    status: ClassVar[str] = "cannot_plan"
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class PlanHeld:
    """No plan until a physician clears the rules in ``awaiting``."""

    status: ClassVar[str] = "held"
    reasons: tuple[Reason, ...]
    awaiting: tuple[str, ...]


def draft_plan(
    intake: IntakeSummary, today: date, tables: ConditionTables = DEFAULT_TABLES
) -> PlanDraft | PlanBlocked | PlanHeld:
    screening = intake.screening
    blocking = screening.reasons if screening.outcome == "blocked" else ()
    blocking += referral_problems(intake.referral, today)
    if blocking:
        return PlanBlocked(blocking)
    if screening.outcome == "needs_clearance":
        return PlanHeld(screening.reasons, awaiting_clearance(screening))
    return _draft(intake, today, tables)


def referral_problems(referral: Referral, today: date) -> tuple[Reason, ...]:
    problems = []
    if today > referral.expires_on:
        detail = f"the referral expired on {referral.expires_on.isoformat()}"
        problems.append(Reason("referral_expired", REFERRAL_TIER, "Referral expired", detail))
    if referral.authorized_visits < 1:
        label = "No authorized visits"
        problems.append(Reason("no_authorized_visits", REFERRAL_TIER, label, ""))
    return tuple(problems)


def _draft(intake: IntakeSummary, today: date, tables: ConditionTables) -> PlanDraft:
    groups = matched_groups(intake.referral.diagnoses, tables)
    primary = groups[0]
    start_on = max(today, intake.referral.valid_from)
    sessions = planned_session_count(primary, intake.referral, start_on)
    end_on = last_session_on(start_on, sessions, primary.frequency_per_week)
    precautions = precautions_for(intake.screening, tables)
    return PlanDraft(
        condition_group=primary.code,
        diagnoses=intake.referral.diagnoses,
        techniques=planned_techniques(groups, precautions, intake.screening, tables),
        precautions=precautions,
        excluded_areas=intake.screening.excluded_areas,
        treatment_areas=treatment_areas(intake),
        session_minutes=primary.session_minutes,
        frequency_per_week=primary.frequency_per_week,
        planned_sessions=sessions,
        start_on=start_on,
        end_on=end_on,
        goals=tuple(goal_for(score, end_on) for score in intake.baseline),
    )


def sessions_fitting(start_on: date, expires_on: date, frequency_per_week: int) -> int:
    """Sessions spaced 7/frequency days apart, the first on start_on, that end by expiry."""
    return (expires_on - start_on).days * frequency_per_week // 7 + 1


def planned_session_count(group: ConditionGroup, referral: Referral, start_on: date) -> int:
    fitting = sessions_fitting(start_on, referral.expires_on, group.frequency_per_week)
    return min(group.typical_sessions, referral.authorized_visits, fitting)


def last_session_on(start_on: date, sessions: int, frequency_per_week: int) -> date:
    days = -(-(sessions - 1) * 7 // frequency_per_week)  # ceiling division
    return start_on + timedelta(days=days)


def precautions_for(screening: Screening, tables: ConditionTables) -> tuple[str, ...]:
    """Modification notes; a "modify" outcome without notes gets the table's defaults."""
    if screening.modifications:
        return screening.modifications
    return tables.default_modifications if screening.outcome == "modify" else ()


def planned_techniques(
    groups: Iterable[ConditionGroup],
    precautions: tuple[str, ...],
    screening: Screening,
    tables: ConditionTables,
) -> tuple[PlannedTechnique, ...]:
    """Techniques of all matched groups; with precautions, high-pressure ones are dropped."""
    codes = tuple(dict.fromkeys(code for group in groups for code in group.techniques))
    if precautions:
        codes = tuple(code for code in codes if not tables.techniques[code].high_pressure)
    notes = precautions + tuple(f"avoid {area}" for area in screening.excluded_areas)
    return tuple(
        PlannedTechnique(code, tables.techniques[code].name, notes)
        for code in codes or (tables.gentle_fallback,)
    )


def treatment_areas(intake: IntakeSummary) -> tuple[str, ...]:
    """Areas to treat (the intake's, else the referral's body sites) minus excluded areas."""
    excluded = {area.casefold() for area in intake.screening.excluded_areas}
    areas = intake.body_areas or intake.referral.body_sites
    return tuple(area for area in areas if area.casefold() not in excluded)


def goal_for(score: BaselineScore, due_on: date) -> Goal:
    return Goal(
        measure=score.measure,
        better=MEASURES[score.measure].better,
        baseline=score.score,
        target=improvement_target(score.measure, score.score),
        due_on=due_on,
    )
