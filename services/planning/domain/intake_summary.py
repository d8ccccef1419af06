"""The intake as planning sees it: the data of an "intake completed" (or "screening updated") event.

``IntakeSummary.from_event_data`` reads and checks the event data (raising ``InvalidIntake``
with a reason that names the field). Screening reasons use the contraindication tiers of the
domain brief: ``absolute``, ``local``, ``modify`` and ``clearance``. ``with_clearances`` gives
the intake as it stands once a physician cleared some of its rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from shared.clinical.outcome_measures import MEASURES

SCREENING_OUTCOMES = frozenset({"clear", "modify", "local", "needs_clearance", "blocked"})
CLEARANCE_TIER = "clearance"


class InvalidIntake(ValueError):
    """The intake-completed event data cannot be read into an IntakeSummary."""


@dataclass(frozen=True)
class Reason:
    rule_id: str
    tier: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Screening:
    outcome: str
    reasons: tuple[Reason, ...] = ()
    excluded_areas: tuple[str, ...] = ()
    modifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    code: str
    display: str = ""


@dataclass(frozen=True)
class Referral:
    authorized_visits: int
    valid_from: date
    expires_on: date
    diagnoses: tuple[Diagnosis, ...] = ()
    body_sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaselineScore:
    measure: str
    score: float


@dataclass(frozen=True)
class IntakeSummary:
    intake_id: str
    referral_id: str
    patient_id: str
    location_id: str
    tenant_id: str
    screening: Screening
    baseline: tuple[BaselineScore, ...]
    referral: Referral
    body_areas: tuple[str, ...]
    completed_at: datetime

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> IntakeSummary:
        """Read the ``data`` of an "intake completed" event; raise InvalidIntake if malformed."""
        ids = ("intake_id", "referral_id", "patient_id", "location_id", "tenant_id")
        return cls(
            **{name: _parsed(_identifier, data, name) for name in ids},
            screening=_screening(data),
            baseline=_baseline(data),
            referral=_referral(data),
            body_areas=tuple(data.get("body_areas") or ()),
            completed_at=_parsed(datetime.fromisoformat, data, "completed_at"),
        )


def _field(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise InvalidIntake(f"intake data is missing '{path}'")
        value = value[key]
    return value


def _parsed(parse: Any, data: Mapping[str, Any], path: str) -> Any:
    raw = _field(data, path)
    try:
        return parse(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidIntake(f"intake data has an invalid '{path}': {raw!r}") from error


def _identifier(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError("expected a non-empty string")
    return raw


def _visit_count(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValueError("expected a whole number of visits, 0 or more")
    return raw


def _screening(data: Mapping[str, Any]) -> Screening:
    outcome = _field(data, "screening.outcome")
    if outcome not in SCREENING_OUTCOMES:
        raise InvalidIntake(f"unknown screening outcome {outcome!r}")
    raw = data["screening"]
    return Screening(
        outcome=outcome,
        reasons=_parsed(_reasons, data, "screening.reasons"),
        excluded_areas=tuple(raw.get("excluded_areas") or ()),
        modifications=tuple(raw.get("modifications") or ()),
    )


def _reasons(raw: list[Mapping[str, Any]]) -> tuple[Reason, ...]:
    return tuple(
        Reason(r["rule_id"], r["tier"], r.get("label") or "", r.get("detail") or "") for r in raw
    )


def _diagnoses(raw: list[Mapping[str, Any]]) -> tuple[Diagnosis, ...]:
    return tuple(Diagnosis(d["code"], d.get("display") or "") for d in raw)


def _scores(raw: list[Mapping[str, Any]]) -> tuple[BaselineScore, ...]:
    return tuple(BaselineScore(item["measure"], float(item["score"])) for item in raw)


def _baseline(data: Mapping[str, Any]) -> tuple[BaselineScore, ...]:
    scores = _parsed(_scores, data, "baseline")
    measures = [score.measure for score in scores]
    unknown = sorted(set(measures) - MEASURES.keys())
    if unknown:
        raise InvalidIntake(f"unknown outcome measures in baseline: {', '.join(unknown)}")
    if len(set(measures)) < len(measures):
        raise InvalidIntake("baseline lists a measure more than once")
    for score in scores:
        _check_in_range(score)
    return scores


def _check_in_range(score: BaselineScore) -> None:
    spec = MEASURES[score.measure]
    if not spec.score_min <= score.score <= spec.score_max:
        scale = f"{spec.score_min}-{spec.score_max}"
        raise InvalidIntake(f"baseline {score.measure} {score.score} is outside {scale}")


def referral_terms(raw: Mapping[str, Any]) -> Referral:
    """Referral terms from a mapping with ``authorized_visits``, ``valid_from``, ``expires_on``,
    ``diagnoses`` and ``body_sites`` (an intake's ``referral``, or a "referral amended" event)."""
    return _referral({"referral": raw})


def _referral(data: Mapping[str, Any]) -> Referral:
    referral = Referral(
        authorized_visits=_parsed(_visit_count, data, "referral.authorized_visits"),
        valid_from=_parsed(date.fromisoformat, data, "referral.valid_from"),
        expires_on=_parsed(date.fromisoformat, data, "referral.expires_on"),
        diagnoses=_parsed(_diagnoses, data, "referral.diagnoses"),
        body_sites=tuple(data["referral"].get("body_sites") or ()),
    )
    if referral.expires_on < referral.valid_from:
        raise InvalidIntake("referral expires_on is before valid_from")
    return referral


def awaiting_clearance(screening: Screening) -> tuple[str, ...]:
    """Rule ids a physician must clear (all reasons' if none is of the clearance tier)."""
    held = [r.rule_id for r in screening.reasons if r.tier == CLEARANCE_TIER]
    return tuple(held or (r.rule_id for r in screening.reasons))


def with_clearances(intake: IntakeSummary, cleared_rule_ids: Iterable[str]) -> IntakeSummary:
    """The intake once a physician cleared these rules; pass it to draft_plan again."""
    cleared = set(cleared_rule_ids)
    screening = intake.screening
    reasons = tuple(r for r in screening.reasons if r.rule_id not in cleared)
    outcome = screening.outcome
    if outcome == "needs_clearance" and all(r.tier != CLEARANCE_TIER for r in reasons):
        outcome = _outcome_without_holds(screening)
    return replace(intake, screening=replace(screening, reasons=reasons, outcome=outcome))


def _outcome_without_holds(screening: Screening) -> str:
    if screening.modifications:
        return "modify"
    return "local" if screening.excluded_areas else "clear"
