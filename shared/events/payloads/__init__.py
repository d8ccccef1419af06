"""The `data` of each event type, as marshmallow schemas, one module per publisher.

`shared/events/catalog.py` names each type's schema (`PAYLOADS`). Events grow additively, so
a payload schema reads the fields it declares and leaves out any others (`Payload`); the
publisher's tests check that what its builders emit loads, with no field the schema lacks.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields


class Payload(Schema):
    class Meta:
        unknown = EXCLUDE


def undeclared(schema: Schema, value: Any, path: str = "") -> list[str]:
    """Fields in `value` that `schema` does not declare, at any depth (`Payload` loads leave
    them out): what a publisher's test checks its builders against."""
    if not isinstance(value, dict):
        return []
    found = []
    for key, item in value.items():
        field = schema.fields.get(key)
        if field is None:
            found.append(f"{path}{key}")
            continue
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            items = item if isinstance(field, fields.List) else [item]
            for each in items or ():
                found += undeclared(inner.schema, each, f"{path}{key}.")
    return found
