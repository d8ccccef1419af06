"""Drafting a plan of care from a completed intake.

Screening decides whether a plan can be drafted at all (blocked, held for clearance, or
drafted with precautions). The condition-group table (``condition_groups.json``) maps
ICD-10-CM code prefixes to suggested techniques, session length, weekly frequency and typical
number of sessions; a clinic may pass its own (``ConditionTables.from_dict``).

Screening reasons use the contraindication tiers of the domain brief: ``absolute``, ``local``,
``modify`` and ``clearance``; referral problems found here use the tier ``referral``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from shared.outcome_measures import MEASURES, improvement_target

SCREENING_OUTCOMES = frozenset({"clear", "modify", "local", "needs_clearance", "blocked"})
CLEARANCE_TIER = "clearance"
REFERRAL_TIER = "referral"


class InvalidIntake(ValueError):
    """The intake-completed event data cannot be read into an IntakeSummary."""


# --- the intake, as planning sees it -------------------------------------------------------


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


# --- the condition-group table --------------------------------------------------------------


@dataclass(frozen=True)
class Technique:
    code: str
    name: str
    high_pressure: bool


@dataclass(frozen=True)
class ConditionGroup:
    code: str
    label: str
    icd10_prefixes: tuple[str, ...]
    techniques: tuple[str, ...]
    session_minutes: int
    frequency_per_week: int
    typical_sessions: int

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ConditionGroup:
        listed = {key: tuple(raw[key]) for key in ("icd10_prefixes", "techniques")}
        group = cls(**{**raw, **listed})
        if min(group.session_minutes, group.typical_sessions) < 1:
            raise ValueError(f"group {group.code}: minutes and sessions must be at least 1")
        if not 1 <= group.frequency_per_week <= 7:
            raise ValueError(f"group {group.code}: frequency_per_week must be 1-7")
        return group


@dataclass(frozen=True)
class ConditionTables:
    techniques: Mapping[str, Technique]
    groups: tuple[ConditionGroup, ...]
    default_group: ConditionGroup
    gentle_fallback: str
    default_modifications: tuple[str, ...]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ConditionTables:
        """Build and check a table; raise ValueError naming what is wrong."""
        try:
            tables = cls._unchecked(raw)
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed condition table: {error!r}") from error
        _check_technique_codes(tables)
        return tables

    @classmethod
    def _unchecked(cls, raw: Mapping[str, Any]) -> ConditionTables:
        return cls(
            techniques={code: Technique(code, **t) for code, t in raw["techniques"].items()},
            groups=tuple(ConditionGroup.from_dict(g) for g in raw["groups"]),
            default_group=ConditionGroup.from_dict(raw["default_group"]),
            gentle_fallback=raw["gentle_fallback"],
            default_modifications=tuple(raw["default_modifications"]),
        )

    @classmethod
    def from_json_file(cls, path: Path) -> ConditionTables:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _check_technique_codes(tables: ConditionTables) -> None:
    used = {c for g in (*tables.groups, tables.default_group) for c in g.techniques}
    unknown = sorted((used | {tables.gentle_fallback}) - tables.techniques.keys())
    if unknown:
        raise ValueError(f"unknown techniques in condition table: {', '.join(unknown)}")
    if tables.techniques[tables.gentle_fallback].high_pressure:
        raise ValueError("gentle_fallback must not be a high-pressure technique")


DEFAULT_TABLES = ConditionTables.from_json_file(Path(__file__).with_name("condition_groups.json"))


def _normalized(code: str) -> str:
    return code.replace(".", "").strip().upper()


def group_for(code: str, tables: ConditionTables = DEFAULT_TABLES) -> ConditionGroup | None:
    """The group whose ICD-10 prefix matches the code (longest prefix wins), if any."""
    matches = [
        (len(prefix), group)
        for group in tables.groups
        for prefix in map(_normalized, group.icd10_prefixes)
        if _normalized(code).startswith(prefix)
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def matched_groups(
    diagnoses: Iterable[Diagnosis], tables: ConditionTables = DEFAULT_TABLES
) -> tuple[ConditionGroup, ...]:
    """Groups of the diagnoses in referral order (the first is primary), else the default."""
    groups = (group_for(diagnosis.code, tables) for diagnosis in diagnoses)
    return tuple(dict.fromkeys(g for g in groups if g is not None)) or (tables.default_group,)


# --- drafting ---------------------------------------------------------------------------------


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
