"""The `data` of the events notifications publishes (docs/events.md): no personal data, a
delivery is named by its id (the delivery log API has the rest)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.schemas import Strict

_TEXT = validate.Length(min=1)


class NotificationSentSchema(Strict):
    """`notification.sent`: the provider accepted the delivery."""

    delivery_id = fields.String(required=True, validate=_TEXT)
    event_type = fields.String(required=True, validate=_TEXT)
    audience = fields.String(required=True, validate=_TEXT, metadata={"example": "patient"})
    channel = fields.String(required=True, validate=_TEXT, metadata={"example": "email"})
    template = fields.String(required=True, validate=_TEXT)
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))


class NotificationFailedSchema(NotificationSentSchema):
    """`notification.failed`: given up on (refused, or retries exhausted); staff are told."""

    reason = fields.String(required=True)


PAYLOADS: dict[str, type[Schema]] = {
    "notification.sent": NotificationSentSchema,
    "notification.failed": NotificationFailedSchema,
}
