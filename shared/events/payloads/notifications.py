"""The `data` of the events notifications publishes (docs/events.md): no personal data, a
delivery is named by its id (the delivery log API has the rest)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.schemas import Strict

AUDIENCES = ("patient", "referrer", "staff", "partner")
CHANNELS = ("email", "sms", "webhook")


class NotificationSentSchema(Strict):
    """`notification.sent`: the provider accepted the delivery."""

    delivery_id = fields.String(required=True, validate=validate.Length(min=1))
    event_type = fields.String(required=True, validate=validate.Length(min=1))
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    template = fields.String(required=True, validate=validate.Length(min=1))
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))


class NotificationFailedSchema(NotificationSentSchema):
    """`notification.failed`: given up on (refused, or retries exhausted); staff are told."""

    reason = fields.String(required=True)


PAYLOADS: dict[str, type[Schema]] = {
    "notification.sent": NotificationSentSchema,
    "notification.failed": NotificationFailedSchema,
}
