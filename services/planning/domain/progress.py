"""Progress on outcome measures against baseline and goals, and when to re-assess.

A measure's latest score is its most recent measurement; with none yet, the baseline carries
forward (change 0). Measurements of a measure without a baseline are not progress and are
left out. Change, "clinically improved" and targets come from ``shared.clinical.outcome_measures``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from shared.clinical.outcome_measures import MEASURES, change, is_clinically_improved


@dataclass(frozen=True)
class Measurement:
    measure: str
    score: float
    taken_at: datetime


@dataclass(frozen=True)
class MeasureProgress:
    measure: str
    baseline: float
    latest: float
    latest_at: datetime | None  # None: no measurement since baseline
    change: float  # positive = improvement
    percent_change: float | None  # of the baseline; None when the baseline is 0
    clinically_improved: bool
    target: float | None  # None: the plan has no goal on this measure
    goal_met: bool


@dataclass(frozen=True)
class PlanProgress:
    measures: tuple[MeasureProgress, ...]

    @property
    def improved_measures(self) -> tuple[str, ...]:
        return tuple(m.measure for m in self.measures if m.clinically_improved)

    @property
    def goals_met(self) -> tuple[str, ...]:
        return tuple(m.measure for m in self.measures if m.goal_met)

    @property
    def all_goals_met(self) -> bool:
        with_goals = [m for m in self.measures if m.target is not None]
        return bool(with_goals) and all(m.goal_met for m in with_goals)


@dataclass(frozen=True)
class ReassessmentPolicy:
    every_sessions: int = 6
    every_days: int = 30


DEFAULT_REASSESSMENT = ReassessmentPolicy()


def target_reached(measure: str, score: float, target: float) -> bool:
    if MEASURES[measure].better == "lower":
        return score <= target
    return score >= target


def percent_change(baseline: float, delta: float) -> float | None:
    return None if baseline == 0 else round(delta / abs(baseline) * 100, 1)


def latest_measurements(measurements: Iterable[Measurement]) -> dict[str, Measurement]:
    """The most recent measurement of each measure."""
    latest: dict[str, Measurement] = {}
    for item in sorted(measurements, key=lambda m: m.taken_at):
        latest[item.measure] = item
    return latest


def measure_progress(
    measure: str, baseline: float, latest: Measurement | None, target: float | None
) -> MeasureProgress:
    score = baseline if latest is None else latest.score
    delta = change(measure, baseline, score)
    return MeasureProgress(
        measure=measure,
        baseline=baseline,
        latest=score,
        latest_at=None if latest is None else latest.taken_at,
        change=delta,
        percent_change=percent_change(baseline, delta),
        clinically_improved=is_clinically_improved(measure, baseline, score),
        target=target,
        goal_met=target is not None and target_reached(measure, score, target),
    )


def plan_progress(
    baseline: Mapping[str, float],
    measurements: Iterable[Measurement],
    targets: Mapping[str, float] | None = None,
) -> PlanProgress:
    """Progress of every baseline measure; ``targets`` are the plan's goals by measure."""
    latest = latest_measurements(measurements)
    targets = targets or {}
    return PlanProgress(
        tuple(
            measure_progress(code, score, latest.get(code), targets.get(code))
            for code, score in baseline.items()
        )
    )


def newly_improved(before: PlanProgress, after: PlanProgress) -> tuple[str, ...]:
    """Measures that reached the MCID between two summaries (to announce each once)."""
    already = set(before.improved_measures)
    return tuple(code for code in after.improved_measures if code not in already)


def reassessment_due(
    sessions_since_assessment: int,
    last_assessed_on: date,
    today: date,
    policy: ReassessmentPolicy = DEFAULT_REASSESSMENT,
) -> bool:
    """Due after ``every_sessions`` completed sessions or ``every_days`` days, whichever first."""
    days = (today - last_assessed_on).days
    return sessions_since_assessment >= policy.every_sessions or days >= policy.every_days
