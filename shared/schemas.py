"""What every marshmallow schema of the project builds on.

Input schemas are `Strict`: an unknown field (`tenant_id`, `status`, `_id`, a typo) is refused
with a 422 naming it, so a client can never set what only the service decides. Names: an
answer is `<Resource>Schema` (`PlanSchema`), a body `<Resource><Action>Schema`
(`PlanEditSchema`, `SessionBookSchema`), query arguments `<Resource>QuerySchema`, a page of
a list `<Resource>PageSchema` (`shared.web.paging.page_schema`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, validate

ID = validate.Regexp(r"^[A-Za-z0-9._:-]{1,100}$", error="must be 1-100 of [A-Za-z0-9._:-]")
"""Ids sent in by clients (ours and theirs): short, printable, no operators or spaces."""


class Strict(Schema):
    class Meta:
        unknown = RAISE


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as field paths: `{"patient.phone": [...], "diagnoses[0].code": [...]}`.

    The paths of `errors.json` (docs/api.md) and of a rejected event's reasons: one level per
    field, `[i]` for a list item.
    """
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    if not isinstance(messages, dict):
        return {prefix or "body": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}".lstrip(".")
        flat.update(flatten(value, path))
    return flat
