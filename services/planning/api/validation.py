"""What every planning HTTP schema shares: strict input (unknown fields, such as `tenant_id`,
`status` or `_id`, are refused with a 422 naming them) and the bounds of common fields."""

from __future__ import annotations

from datetime import date, datetime

from marshmallow import RAISE, Schema, fields, validate

from services.planning.session_booking import LONGEST_SESSION_MINUTES
from shared.clinical.outcome_measures import MEASURES

ID = validate.Regexp(r"^[A-Za-z0-9._:-]{1,100}$", error="must be 1-100 of [A-Za-z0-9._:-]")
DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
LOCAL_TIMES = validate.Range(min=datetime(2000, 1, 1), max=datetime(2100, 12, 31))
TEXT = validate.Length(max=5000)
LABEL = validate.Length(min=1, max=200)
SESSION_MINUTES = validate.Range(min=15, max=LONGEST_SESSION_MINUTES)
MEASURE = validate.OneOf(sorted(MEASURES))


class Strict(Schema):
    class Meta:
        unknown = RAISE


def labels(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=LABEL), validate=validate.Length(max=30), **kwargs)
