"""The condition-group table: ICD-10-CM code prefixes -> techniques, session length and frequency.

``condition_groups.json`` is the default; a clinic may pass its own (``ConditionTables.from_dict``
checks it and names what is wrong). Techniques marked ``high_pressure`` are dropped when
screening asks for precautions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.planning.domain.intake_summary import Diagnosis


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
