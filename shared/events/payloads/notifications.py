"""The data of notifications' events (docs/events.md, "notifications"), built by
services/notifications/events.py: no personal data, a delivery is named by its id (the delivery
log API has the rest)."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.events.payloads import Payload

_TEXT = validate.Length(min=1)


class NotificationSentPayload(Payload):
    """`notification.sent`: the provider accepted the delivery."""

    delivery_id = fields.String(required=True, validate=_TEXT)
    event_type = fields.String(required=True, validate=_TEXT)
    audience = fields.String(required=True, validate=_TEXT, metadata={"example": "patient"})
    channel = fields.String(required=True, validate=_TEXT, metadata={"example": "email"})
    template = fields.String(required=True, validate=_TEXT)
    attempts = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class NotificationFailedPayload(NotificationSentPayload):
    """`notification.failed`: given up on (refused, or retries exhausted); staff are told."""

    reason = fields.String(required=True)
