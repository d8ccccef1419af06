"""The one event envelope: CloudEvents 1.0, structured JSON mode (`application/cloudevents+json`).

Extension attributes: `tenantid` (the clinic) and `correlationid`. `(source, id)` is the
idempotency key everywhere. `new_event` is the one way to make an event; `parse_event` the one
way to read one, raising `InvalidEvent` with a reason that names what is wrong. A body larger
than `MAX_EVENT_BYTES` is refused unread (a consumer dead-letters it with that reason).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import context

CONTENT_TYPE = "application/cloudevents+json"
MAX_EVENT_BYTES = 2 * 1024 * 1024
"""The largest event body read (2 MiB; the largest partner referral bundle is a few hundred KB):
one larger is never parsed, so a huge message costs a worker neither memory nor time."""
_TOKEN = validate.Regexp(
    r"^[A-Za-z0-9._:/@+-]{1,256}$", error="must be 1-256 characters of [A-Za-z0-9._:/@+-]"
)


class InvalidEvent(ValueError):
    """The message is not a valid event; `reason` says why (it goes to the dead-letter headers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CloudEventSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=_TOKEN)
    source = fields.String(required=True, validate=_TOKEN)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_.-]{2,99}$"))
    time = fields.AwareDateTime(required=True, format="iso", default_timezone=UTC)
    subject = fields.String(load_default=None, validate=validate.Length(max=256))
    datacontenttype = fields.String(
        load_default="application/json", validate=validate.Length(max=100)
    )
    tenantid = fields.String(required=True, validate=_TOKEN)
    correlationid = fields.String(load_default=None, validate=validate.Length(max=128))
    data = fields.Raw(required=True)


_CLOUD_EVENT = CloudEventSchema()
"""Built once: a schema's construction (copying its fields) cost more than a load; `load` keeps
no state on the instance, so threads share it."""


@dataclass(frozen=True)
class Event:
    id: str
    source: str
    type: str
    time: datetime
    tenant_id: str
    data: Any
    subject: str | None = None
    correlation_id: str | None = None
    datacontenttype: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """The idempotency key `(source, id)` as one string."""
        return f"{self.source}#{self.id}"

    def to_dict(self) -> dict[str, Any]:
        document = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "tenantid": self.tenant_id,
            "data": self.data,
        }
        if self.subject is not None:
            document["subject"] = self.subject
        if self.correlation_id is not None:
            document["correlationid"] = self.correlation_id
        return document

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str).encode()


def new_event(
    type: str,
    *,
    source: str,
    tenant_id: str,
    data: Any,
    subject: str | None = None,
    correlation_id: str | None = None,
    id: str | None = None,
    datacontenttype: str = "application/json",
) -> Event:
    """Make an event; the correlation id defaults to the one of the current request or message."""
    event = Event(
        id=id or uuid.uuid4().hex,
        source=source,
        type=type,
        time=datetime.now(UTC),
        tenant_id=tenant_id,
        data=data,
        subject=subject,
        correlation_id=correlation_id or context.correlation_id.get(),
        datacontenttype=datacontenttype,
    )
    return parse_event(event.to_dict())  # the one validation, also for what we make


def check_size(body: bytes | str) -> None:
    """Raise `InvalidEvent` if the body is larger than `MAX_EVENT_BYTES`."""
    size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "replace"))
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent(
            f"body is too large: {size} bytes, more than the {MAX_EVENT_BYTES} an event may have"
        )


def parse_event(raw: bytes | str | dict[str, Any]) -> Event:
    """Decode and validate an event; raise `InvalidEvent` naming the problem."""
    if isinstance(raw, (bytes, str)):
        check_size(raw)
        try:
            raw = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidEvent(f"body is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("body is not a JSON object")
    try:
        loaded = _CLOUD_EVENT.load(raw)
    except ValidationError as error:
        details = "; ".join(
            f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in sorted(error.normalized_messages().items())
        )
        raise InvalidEvent(f"invalid CloudEvent: {details}") from None
    return Event(
        id=loaded["id"],
        source=loaded["source"],
        type=loaded["type"],
        time=loaded["time"],
        tenant_id=loaded["tenantid"],
        data=loaded["data"],
        subject=loaded["subject"],
        correlation_id=loaded["correlationid"],
        datacontenttype=loaded["datacontenttype"],
    )
