"""The checklist flags of the intake form: exactly the names the contraindication rules use.

Conditions, local findings and dated events are offered (and accepted) only under the names
the rules table matches on, so a misspelt flag is refused instead of silently passing the
screening, and a flag the rules gain is asked by the patient's form (web_form checks it).
"""

from __future__ import annotations

from .screening import DEFAULT_RULES, RuleSet


def flags(criterion: str, rules: RuleSet = DEFAULT_RULES) -> list[str]:
    found: list[str] = []
    for rule in rules.rules:
        spec = rule.match.get(criterion)
        found += spec["events"] if isinstance(spec, dict) else (spec or [])
    return sorted(set(found))


CONDITIONS = flags("conditions")
LOCAL_FINDINGS = flags("local_findings")
DATED_EVENTS = flags("events_within_days")
