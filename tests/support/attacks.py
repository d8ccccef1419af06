"""What the attack tests send, and how they show that nothing stored changed.

MongoDB operator injection: a query parameter spelled as an operator (``?status[$ne]=x``,
``?x[$ne]=``), an operator as a parameter's value, an operator object in place of a JSON
field's value. Every API must refuse each (422) or take it as literal text (matching nothing),
never as an operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pymongo.database import Database

OPERATOR_VALUES: tuple[Any, ...] = (
    {"$gt": ""},
    {"$ne": None},
    {"$where": "sleep(100) || true"},
    {"$regex": ".*"},
    [{"$gt": ""}],
)
"""In place of a JSON field's value."""


def name_attacks(parameters: Iterable[str]) -> list[dict[str, str]]:
    """Parameters spelled as operators (PHP/qs style): unknown names, which an API ignores
    (`docs/api.md`) or refuses, never turns into an operator."""
    attacks = [{"x[$ne]": ""}, {"$where": "1 == 1"}, {"filter[$gt]": ""}]
    for name in parameters:
        attacks += [{f"{name}[$ne]": "x"}, {f"{name}[$gt]": ""}, {f"{name}[$regex]": ".*"}]
    return attacks


def value_attacks(parameters: Iterable[str]) -> list[dict[str, str]]:
    """Operators as the value of a known parameter: refused or matched as literal text."""
    attacks = []
    for name in parameters:
        attacks += [
            {name: '{"$ne": null}'},
            {name: "$ne"},
            {name: '{"$where": "1 == 1"}'},
            {name: '{"$regex": ".*"}'},
        ]
    return attacks


def body_attacks(body: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field, the body with an operator in that field), for each field and operator; and the
    body with an operator as a field of its own."""
    for name in body:
        for value in OPERATOR_VALUES:
            yield name, {**body, name: value}
    yield "$where", {**body, "$where": "1 == 1"}


def ignored_or_refused(status: int, answer: Any, without: Any) -> bool:
    """422, or the very answer given without the parameter (it was ignored)."""
    return status == 422 or (status == 200 and answer == without)


def refused_or_literal(status: int, answer: Any) -> bool:
    """422, or a list answer with nothing in it (the operator taken as literal text)."""
    if status == 422:
        return True
    return status == 200 and isinstance(answer, dict) and answer.get("items") == []


def everything_stored(db: Database, leave_out: Iterable[str] = ("audit",)) -> dict[str, list]:
    """Every document of every collection (the audit log left out: refusals are audited)."""
    left_out = set(leave_out)
    return {
        name: list(db[name].find({}).sort("_id", 1))
        for name in sorted(db.list_collection_names())
        if name not in left_out
    }
