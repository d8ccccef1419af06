"""Contraindication screening of an intake assessment against a configurable rules table.

The rules live in ``contraindications.json`` (a clinic can load its own with ``load_rules``).
Each rule has a tier; the tier sets the outcome:

    absolute -> "blocked", clearance -> "needs_clearance", local -> "local", modify -> "modify"

The most severe outcome wins: blocked > needs_clearance > local > modify > clear. Excluding an
area ranks above lighter pressure, but a result always carries the full ``excluded_areas`` and
``modifications`` whatever its outcome, so a "local" or "needs_clearance" result may also
require modifications, and the therapist applies all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

TIER_OUTCOMES = {
    "absolute": "blocked",
    "clearance": "needs_clearance",
    "local": "local",
    "modify": "modify",
}
OUTCOME_SEVERITY = ("clear", "modify", "local", "needs_clearance", "blocked")


class RulesError(ValueError):
    """A rules table that cannot be used; the message lists every problem."""


class ClearanceError(ValueError):
    """A clearance that cannot be applied (absolute tier, or rule not awaiting clearance)."""


class Surgery(NamedTuple):
    performed_on: date
    body_area: str


class LocalFinding(NamedTuple):
    condition: str  # e.g. open_wound, varicose_veins, radiation_site
    body_area: str


class Event(NamedTuple):
    condition: str  # e.g. stroke, tia
    occurred_on: date


@dataclass(frozen=True, slots=True)
class Pregnancy:
    trimester: int
    high_risk: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningInput:
    """What the intake assessment tells us; conditions are checklist flags such as ``fever``."""

    as_of: date
    conditions: AbstractSet[str] = frozenset()
    medications: Sequence[str] = ()
    temperature_c: float | None = None
    blood_pressure: tuple[int, int] | None = None  # systolic, diastolic in mmHg
    pregnancy: Pregnancy | None = None
    surgeries: Sequence[Surgery] = ()
    local_findings: Sequence[LocalFinding] = ()
    events: Sequence[Event] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    tier: str
    label: str
    match: Mapping[str, Any]
    modifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    medication_classes: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    tier: str
    label: str
    detail: str
    body_area: str | None = None
    modifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    outcome: str  # clear | modify | local | needs_clearance | blocked
    reasons: tuple[Reason, ...]
    excluded_areas: tuple[str, ...]
    modifications: tuple[str, ...]
    requires_clearance_for: tuple[str, ...]
    cleared: tuple[str, ...] = ()


class Hit(NamedTuple):
    detail: str
    body_area: str | None = None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _within(as_of: date, when: date, days: int) -> bool:
    return 0 <= (as_of - when).days <= days


def _conditions(inp: ScreeningInput, names: list[str], rules: RuleSet) -> list[Hit]:
    reported = {c.strip().lower() for c in inp.conditions}
    return [Hit(f"reported {name}") for name in names if name.lower() in reported]


def _medications(inp: ScreeningInput, classes: list[str], rules: RuleSet) -> list[Hit]:
    return [
        Hit(f"medication {med!r} is in class {cls}")
        for med in inp.medications
        for cls in classes
        if _words(med) & rules.medication_classes[cls]
    ]


def _temperature(inp: ScreeningInput, limit: float, rules: RuleSet) -> list[Hit]:
    t = inp.temperature_c
    return (
        [Hit(f"temperature {t:.1f} °C above {limit:.1f} °C")] if t is not None and t > limit else []
    )


def _blood_pressure(inp: ScreeningInput, limits: dict[str, int], rules: RuleSet) -> list[Hit]:
    if inp.blood_pressure is None:
        return []
    systolic, diastolic = inp.blood_pressure
    if systolic < limits["systolic"] and diastolic < limits["diastolic"]:
        return []
    limit = f"{limits['systolic']}/{limits['diastolic']}"
    return [Hit(f"blood pressure {systolic}/{diastolic} mmHg at or above {limit}")]


def _pregnancy(inp: ScreeningInput, spec: dict[str, Any], rules: RuleSet) -> list[Hit]:
    p = inp.pregnancy
    if p is None:
        return []
    if p.trimester in spec.get("trimesters", ()):
        return [Hit(f"pregnancy, trimester {p.trimester}")]
    return [Hit("high-risk pregnancy")] if p.high_risk and spec.get("high_risk") else []


def _surgeries(inp: ScreeningInput, days: int, rules: RuleSet) -> list[Hit]:
    return [
        Hit(f"surgery on {on.isoformat()} ({area})", area)
        for on, area in inp.surgeries
        if _within(inp.as_of, on, days)
    ]


def _local_findings(inp: ScreeningInput, names: list[str], rules: RuleSet) -> list[Hit]:
    return [Hit(f"{c} at {area}", area) for c, area in inp.local_findings if c.lower() in names]


def _events(inp: ScreeningInput, spec: dict[str, Any], rules: RuleSet) -> list[Hit]:
    return [
        Hit(f"{c} on {on.isoformat()}")
        for c, on in inp.events
        if c.lower() in spec["events"] and _within(inp.as_of, on, spec["days"])
    ]


Matcher = Callable[[ScreeningInput, Any, RuleSet], list[Hit]]
# criterion name -> (matcher, the JSON type its parameter must have)
CRITERIA: dict[str, tuple[Matcher, type | tuple[type, ...]]] = {
    "conditions": (_conditions, list),
    "medication_classes": (_medications, list),
    "temperature_above_c": (_temperature, (int, float)),
    "blood_pressure_at_least": (_blood_pressure, dict),
    "pregnancy": (_pregnancy, dict),
    "surgery_within_days": (_surgeries, int),
    "local_findings": (_local_findings, list),
    "events_within_days": (_events, dict),
}


def _criterion_problem(criterion: str, param: Any, classes: Mapping[str, Any]) -> str | None:
    is_classes = criterion == "medication_classes" and isinstance(param, list)
    unknown = sorted(set(param) - set(classes)) if is_classes else []
    if criterion not in CRITERIA:
        return f"unknown match criterion {criterion!r}"
    if isinstance(param, bool) or not isinstance(param, CRITERIA[criterion][1]):
        return f"match criterion {criterion!r} has the wrong type"
    return f"unknown medication classes {unknown}" if unknown else None


def _rule_problems(raw: Any, classes: Mapping[str, Any]) -> list[str]:
    if not isinstance(raw, dict):
        return [f"rule {raw!r}: must be an object"]
    problems: list[str | None] = [
        f"missing {key}" for key in ("id", "tier", "label", "match") if not raw.get(key)
    ]
    if raw.get("tier") not in TIER_OUTCOMES:
        problems.append(f"unknown tier {raw.get('tier')!r} (expected {', '.join(TIER_OUTCOMES)})")
    match = raw.get("match")
    if isinstance(match, dict):
        problems += [_criterion_problem(k, v, classes) for k, v in match.items()]
    return [f"rule {raw.get('id')!r}: {p}" for p in problems if p]


def parse_rules(data: Mapping[str, Any]) -> RuleSet:
    """Validate a rules table (the parsed JSON document) and build the RuleSet."""
    classes = data.get("medication_classes") or {}
    raws = data.get("rules") or []
    ids = [str(raw.get("id")) for raw in raws if isinstance(raw, dict)]
    problems = [p for raw in raws for p in _rule_problems(raw, classes)]
    problems += [f"rule {i!r}: duplicate id" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems or not raws:
        raise RulesError("invalid contraindication rules: " + ("; ".join(problems) or "no rules"))
    return RuleSet(
        rules=tuple(
            Rule(r["id"], r["tier"], r["label"], r["match"], tuple(r.get("modifications", ())))
            for r in raws
        ),
        medication_classes={k: frozenset(n.lower() for n in v) for k, v in classes.items()},
    )


def load_rules(path: str | Path) -> RuleSet:
    """Load and validate a clinic's rules table from a JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RulesError(f"cannot read contraindication rules from {path}: {exc}") from exc
    return parse_rules(data)


DEFAULT_RULES = parse_rules(
    json.loads(resources.files(__package__).joinpath("contraindications.json").read_text("utf-8"))
)


def _reasons(rule: Rule, inp: ScreeningInput, rules: RuleSet) -> list[Reason]:
    """One reason per hit, in the order of the rule's criteria."""
    hits = [
        hit for name, param in rule.match.items() for hit in CRITERIA[name][0](inp, param, rules)
    ]
    mods = rule.modifications
    return [Reason(rule.id, rule.tier, rule.label, h.detail, h.body_area, mods) for h in hits]


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _result(reasons: Sequence[Reason], cleared: tuple[str, ...] = ()) -> ScreeningResult:
    outcomes = {TIER_OUTCOMES[r.tier] for r in reasons} | {"clear"}
    return ScreeningResult(
        outcome=max(outcomes, key=OUTCOME_SEVERITY.index),
        reasons=tuple(reasons),
        excluded_areas=_unique(r.body_area for r in reasons if r.tier == "local"),
        modifications=_unique(m for r in reasons for m in r.modifications),
        requires_clearance_for=_unique(r.rule_id for r in reasons if r.tier == "clearance"),
        cleared=cleared,
    )


def screen(inp: ScreeningInput, rules: RuleSet = DEFAULT_RULES) -> ScreeningResult:
    """Apply every rule to the assessment; reasons come in table order, one per match."""
    return _result([reason for rule in rules.rules for reason in _reasons(rule, inp, rules)])


def apply_clearance(result: ScreeningResult, cleared_rule_ids: Iterable[str]) -> ScreeningResult:
    """Drop the clearance-tier reasons a clinician cleared and derive the outcome again."""
    ids = set(cleared_rule_ids)
    absolute = sorted(ids & {r.rule_id for r in result.reasons if r.tier == "absolute"})
    if absolute:
        raise ClearanceError(f"absolute contraindications cannot be cleared: {', '.join(absolute)}")
    not_pending = sorted(ids - set(result.requires_clearance_for))
    if not_pending:
        raise ClearanceError(f"rules not awaiting clearance: {', '.join(not_pending)}")
    remaining = [r for r in result.reasons if r.rule_id not in ids]
    return _result(remaining, cleared=result.cleared + tuple(sorted(ids)))
