"""Outcome measures: the published scoring rules and minimal clinically important differences.

Used by intake (baseline scores) and planning (goals and progress). The measures are a table of
``MeasureSpec`` rows; each row names one of a few scoring rules.

System-wide decisions:

- Every score is rounded to 1 decimal; ``change`` is rounded the same way.
- NDI is stored as a percent (0-100), like ODI, so both share one missing-item rule and one
  MCID scale. Its MCID of 7.5 points on the 0-50 total is therefore 15 percentage points.
- ODI and NDI are scored from at least 8 of 10 answered items (at most 2 missing).
- LEFS and PSFS allow no missing items; QuickDASH allows at most 1 of 11.
- Answered items must be whole numbers within the item range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Item = int | float | None


class ScoringError(ValueError):
    """Items or scores that the measure's published rule cannot score; the message names it."""


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """One outcome measure. ``item_range`` bounds each answer, ``item_count`` the answers."""

    code: str
    name: str
    loinc: str | None
    better: Literal["lower", "higher"]
    mcid_points: float  # on the stored scale (NDI: percent)
    mcid_percent: float | None  # relative change from baseline that also counts as the MCID
    score_min: float
    score_max: float
    item_range: tuple[int, int]
    item_count: tuple[int, int]
    max_missing: int  # unanswered (None) items the rule tolerates
    rule: Literal["single", "mean", "sum", "percent_of_answered", "dash"]


MEASURES: dict[str, MeasureSpec] = {
    m.code: m
    for m in (
        MeasureSpec(
            code="NPRS", name="Numeric Pain Rating Scale", loinc="72514-3", better="lower",
            mcid_points=2.0, mcid_percent=0.30, score_min=0.0, score_max=10.0,
            item_range=(0, 10), item_count=(1, 1), max_missing=0, rule="single",
        ),
        MeasureSpec(
            code="ODI", name="Oswestry Disability Index", loinc=None, better="lower",
            mcid_points=10.0, mcid_percent=0.30, score_min=0.0, score_max=100.0,
            item_range=(0, 5), item_count=(10, 10), max_missing=2, rule="percent_of_answered",
        ),
        MeasureSpec(  # MCID 7.5 points of the 0-50 total = 15 points of the percent score
            code="NDI", name="Neck Disability Index", loinc="82237-9", better="lower",
            mcid_points=15.0, mcid_percent=0.30, score_min=0.0, score_max=100.0,
            item_range=(0, 5), item_count=(10, 10), max_missing=2, rule="percent_of_answered",
        ),
        MeasureSpec(
            code="PSFS", name="Patient-Specific Functional Scale", loinc=None, better="higher",
            mcid_points=2.0, mcid_percent=None, score_min=0.0, score_max=10.0,
            item_range=(0, 10), item_count=(3, 5), max_missing=0, rule="mean",
        ),
        MeasureSpec(
            code="QuickDASH", name="Quick Disabilities of the Arm, Shoulder and Hand",
            loinc=None, better="lower", mcid_points=14.0, mcid_percent=None,
            score_min=0.0, score_max=100.0,
            item_range=(1, 5), item_count=(11, 11), max_missing=1, rule="dash",
        ),
        MeasureSpec(
            code="LEFS", name="Lower Extremity Functional Scale", loinc=None, better="higher",
            mcid_points=9.0, mcid_percent=None, score_min=0.0, score_max=80.0,
            item_range=(0, 4), item_count=(20, 20), max_missing=0, rule="sum",
        ),
    )
}  # fmt: skip

_TOLERANCE = 1e-9


def _single(answered: list[float], spec: MeasureSpec) -> float:
    return answered[0]


def _mean(answered: list[float], spec: MeasureSpec) -> float:
    return sum(answered) / len(answered)


def _sum(answered: list[float], spec: MeasureSpec) -> float:
    return sum(answered)


def _percent_of_answered(answered: list[float], spec: MeasureSpec) -> float:
    return sum(answered) / (spec.item_range[1] * len(answered)) * 100


def _dash(answered: list[float], spec: MeasureSpec) -> float:
    return (sum(answered) / len(answered) - 1) * 25


_RULES: dict[str, Callable[[list[float], MeasureSpec], float]] = {
    "single": _single,
    "mean": _mean,
    "sum": _sum,
    "percent_of_answered": _percent_of_answered,
    "dash": _dash,
}


def spec_for(code: str) -> MeasureSpec:
    """The measure's spec; unknown codes raise ScoringError listing the known ones."""
    if code not in MEASURES:
        raise ScoringError(f"unknown outcome measure {code!r}; known: {', '.join(MEASURES)}")
    return MEASURES[code]


def _check_item_count(spec: MeasureSpec, items: Sequence[Item]) -> None:
    low, high = spec.item_count
    if not low <= len(items) <= high:
        expected = str(low) if low == high else f"{low}-{high}"
        raise ScoringError(f"{spec.code}: expected {expected} items, got {len(items)}")


def _whole_number(value: object) -> float | None:
    """The value as a float when it is a finite whole number (a bool is not), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if float(value).is_integer() else None


def _check_item(spec: MeasureSpec, position: int, value: object) -> float:
    number = _whole_number(value)
    low, high = spec.item_range
    if number is None or not low <= number <= high:
        raise ScoringError(
            f"{spec.code}: item {position} must be a whole number {low}-{high}, got {value!r}"
        )
    return number


def _answered_items(spec: MeasureSpec, items: Sequence[Item]) -> list[float]:
    _check_item_count(spec, items)
    answered = [_check_item(spec, i, v) for i, v in enumerate(items, 1) if v is not None]
    missing = len(items) - len(answered)
    if missing > spec.max_missing:
        raise ScoringError(
            f"{spec.code}: more than {spec.max_missing} of {len(items)} items missing ({missing})"
        )
    return answered


def score(code: str, items: Sequence[Item]) -> float:
    """Score a completed questionnaire by the measure's published rule, rounded to 1 decimal."""
    spec = spec_for(code)
    answered = _answered_items(spec, items)
    return round(_RULES[spec.rule](answered, spec), 1)


def _check_score(spec: MeasureSpec, label: str, value: float) -> None:
    if not spec.score_min <= value <= spec.score_max:
        raise ScoringError(
            f"{spec.code}: {label} score {value!r} outside {spec.score_min:g}-{spec.score_max:g}"
        )


def change(code: str, baseline: float, current: float) -> float:
    """Change from baseline, positive when the patient improved in the measure's direction."""
    spec = spec_for(code)
    _check_score(spec, "baseline", baseline)
    _check_score(spec, "current", current)
    delta = baseline - current if spec.better == "lower" else current - baseline
    return round(delta, 1)


def is_clinically_improved(code: str, baseline: float, current: float) -> bool:
    """True when the improvement reaches the MCID in points, or the relative MCID if it has one.

    The relative rule (30 % for NPRS, ODI, NDI) is change / baseline; a baseline of 0 leaves
    no room to improve by it, so only the points rule applies there.
    """
    spec = spec_for(code)
    delta = change(code, baseline, current)
    if delta >= spec.mcid_points - _TOLERANCE:
        return True
    if spec.mcid_percent is None or baseline == 0:
        return False
    return delta / abs(baseline) >= spec.mcid_percent - _TOLERANCE


def improvement_target(code: str, baseline: float) -> float:
    """The score a goal should reach: the points MCID from baseline, clamped to the scale.

    The points MCID is used rather than the 30 % rule: reaching it always counts as clinically
    improved. Near the best end of the scale the clamp can make the step smaller.
    """
    spec = spec_for(code)
    _check_score(spec, "baseline", baseline)
    if spec.better == "lower":
        return round(max(spec.score_min, baseline - spec.mcid_points), 1)
    return round(min(spec.score_max, baseline + spec.mcid_points), 1)
