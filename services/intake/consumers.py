"""Partner referrals over AMQP: the `partner.referrals` exchange, queue `intake.partner-referrals`.

Partners publish CloudEvents with routing key `<partner_id>.referral.requested` or
`.referral.cancelled`, as their own RabbitMQ user, with the AMQP `user_id` property set to that
user (the broker refuses a `user_id` other than the connection's user, so it names the partner).

Who sent a message is its origin (`shared.events.origin`): the broker-validated `user_id` and
routing key of the first publish, carried by the service's own headers through retries and the
DLQ tool's `move-back`, so a retried referral is judged as the original was. A partner that sets
those headers itself is refused.

`decode` never drops anything: a message it cannot read (or with forged origin headers) becomes
a `partner.message.unreadable` event, so every refusal goes through one path
(`PartnerInbox._reject`): it is recorded (rejections.py: audit, status event to a known
partner), then dead-lettered with the reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from kombu.message import Message
from pymongo.database import Database

from services.intake.domain import refusals as rejections
from services.intake.domain.refusals import Refusal
from services.intake.errors import Conflict, Invalid, NotFound
from services.intake.partner_forms.reading import FHIR, form_of, read_cancellation, read_referral
from services.intake.usecases import referrals
from services.intake.usecases import tenants as access
from shared.config import Settings
from shared.events import Event, InvalidEvent, Reject, Subscription, parse_event, subscribe
from shared.events.origin import origin_of
from shared.events.topology import PARTNER_REFERRALS_EXCHANGE

PURPOSE = "partner-referrals"
BINDING = (PARTNER_REFERRALS_EXCHANGE, "*.referral.*")
REQUESTED = "referral.requested"
CANCELLED = "referral.cancelled"
UNREADABLE = "partner.message.unreadable"
PARTNER_CACHE_TTL_S = 10.0


def _message_key(message: Message) -> str:
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    return message.properties.get("message_id") or hashlib.sha256(body).hexdigest()


def _unreadable(
    message: Message, field: str, reason: str, extra: dict, tenant_id: str | None = None
) -> Event:
    return Event(
        id=_message_key(message),
        source="amqp",
        type=UNREADABLE,
        time=datetime.now(UTC),
        tenant_id=tenant_id or rejections.UNKNOWN_TENANT,
        data={"field": field, "message": reason, "tenant_id": tenant_id},
        extra=extra,
    )


def decode(message: Message) -> Event:
    """The event, with the broker-validated `user_id` and the routing key of its origin in `extra`."""
    origin = origin_of(message)
    extra = {"user_id": origin.user_id, "routing_key": origin.routing_key}
    try:
        event = parse_event(message.body)
    except InvalidEvent as error:
        field = "body" if error.reason.startswith("body") else "envelope"
        return _unreadable(message, field, error.reason, extra)
    try:
        origin.check()
    except InvalidEvent as error:
        return _unreadable(message, "headers", error.reason, extra, event.tenant_id)
    if event.type not in (REQUESTED, CANCELLED):
        reason = f"{event.type!r} is not {REQUESTED} or {CANCELLED}"
        return _unreadable(message, "type", reason, extra, event.tenant_id)
    return replace(event, extra=extra)


class _TtlCache:
    def __init__(self, load: Callable[[str], Any], ttl_s: float) -> None:
        self.load, self.ttl_s = load, ttl_s
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        hit = self._items.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        value = self.load(key)
        self._items[key] = (time.monotonic(), value)
        return value


@dataclass(frozen=True)
class _Admitted:
    """A message the gate let through: from a known partner, for a clinic it may refer to."""

    partner_id: str
    tenant_id: str

    def known(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "tenant_id": self.tenant_id, "tenant_allowed": True}


def _claimed_reference(form: str, data: Any) -> str | None:
    """The partner's referral id, read leniently from data that may be invalid (for the answer)."""
    if not isinstance(data, dict):
        return None
    if form != "fhir":
        value = data.get("partner_referral_id")
        return value if isinstance(value, str) else None
    for entry in data.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "ServiceRequest":
            for identifier in resource.get("identifier") or []:
                if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                    return identifier["value"]
    return None


class PartnerInbox:
    def __init__(
        self, db: Database, settings: Settings, partner_cache_ttl_s: float = PARTNER_CACHE_TTL_S
    ):
        self.db, self.settings = db, settings
        self.partners = _TtlCache(lambda pid: access.get_partner(db, pid), partner_cache_ttl_s)

    def subscription(self) -> Subscription:
        handlers = {
            REQUESTED: self.on_requested,
            CANCELLED: self.on_cancelled,
            UNREADABLE: self.on_unreadable,
        }
        return subscribe(
            self.settings,
            PURPOSE,
            [BINDING],
            handlers,
            decode=decode,
            owned_exchanges=[PARTNER_REFERRALS_EXCHANGE],
        )

    # --- handlers --------------------------------------------------------------------------

    def on_requested(self, event: Event) -> bool:
        admitted = self._admit(event)
        form = "fhir" if (event.datacontenttype or "").startswith(FHIR) else "native"
        try:
            form = form_of(event.datacontenttype)
            referral = read_referral(form, event.data, region=self.settings.default_phone_region)
        except Invalid as error:
            claimed = _claimed_reference(form, event.data)
            self._reject(event, error.reasons(), **admitted.known(), partner_referral_id=claimed)
        sender = self._sender(event, admitted)
        try:
            receipt = referrals.receive(self.db, self.settings, sender, referral, form=form)
        except (Invalid, Conflict) as error:
            reasons = (
                error.reasons()
                if isinstance(error, Invalid)
                else _reason("partner_referral_id", str(error))
            )
            self._reject(
                event,
                reasons,
                **admitted.known(),
                partner_referral_id=referral.partner_referral_id,
                referrer={"name": referral.requester.name, "email": referral.requester.email},
            )
        return receipt.outcome != "duplicate"

    def on_cancelled(self, event: Event) -> bool:
        admitted = self._admit(event)
        claimed = _claimed_reference("native", event.data)
        try:
            if form_of(event.datacontenttype) == "fhir":
                raise Invalid.one("datacontenttype", f"a cancellation is native JSON, not {FHIR}")
            cancellation = read_cancellation(event.data)
            receipt = referrals.cancel(
                self.db,
                self._sender(event, admitted),
                reason=cancellation["reason"],
                partner_referral_id=cancellation["partner_referral_id"],
            )
        except Invalid as error:
            self._reject(event, error.reasons(), **admitted.known(), partner_referral_id=claimed)
        except NotFound:
            reasons = _reason(
                "partner_referral_id", "no referral with this id from you at this clinic"
            )
            self._reject(event, reasons, **admitted.known(), partner_referral_id=claimed)
        return receipt.outcome != "duplicate"

    def on_unreadable(self, event: Event) -> NoReturn:
        partner = self._known_partner(event)
        tenant_id = event.data.get("tenant_id")
        self._reject(
            event,
            _reason(event.data["field"], event.data["message"]),
            partner_id=partner and partner["_id"],
            tenant_id=tenant_id,
            tenant_allowed=bool(partner and tenant_id in partner.get("tenants", [])),
        )

    # --- the gate ---------------------------------------------------------------------------

    def _known_partner(self, event: Event) -> dict[str, Any] | None:
        user_id = event.extra.get("user_id")
        return self.partners.get(user_id) if user_id else None

    def _admit(self, event: Event) -> _Admitted:
        """The partner the broker vouches for, if it may refer to the clinic; else refused."""
        user_id = event.extra.get("user_id")
        partner = self._known_partner(event)
        if not user_id:
            problem = _reason(
                "user_id",
                "the AMQP user_id property is required: set it to your RabbitMQ user name",
            )
        elif partner is None:
            problem = _reason("user_id", f"{user_id!r} is not a known partner")
        elif not str(event.extra.get("routing_key", "")).startswith(f"{user_id}."):
            problem = _reason(
                "routing_key", f"must start with your partner id: {user_id}.{event.type}"
            )
        elif event.tenant_id not in partner.get("tenants", []):
            problem = _reason(
                "tenantid", f"partner {user_id!r} may not refer to clinic {event.tenant_id!r}"
            )
        else:
            return _Admitted(partner_id=user_id, tenant_id=event.tenant_id)
        form = "fhir" if (event.datacontenttype or "").startswith(FHIR) else "native"
        self._reject(
            event,
            problem,
            partner_id=partner and partner["_id"],
            tenant_id=event.tenant_id,
            partner_referral_id=_claimed_reference(form, event.data),
        )

    def _sender(self, event: Event, admitted: _Admitted) -> referrals.Sender:
        return referrals.Sender(
            tenant_id=admitted.tenant_id,
            partner_id=admitted.partner_id,
            actor=f"partner:{admitted.partner_id}",
            channel="amqp",
            message_key=event.key,
        )

    def _reject(self, event: Event, reasons: list[dict[str, str]], **known: Any) -> NoReturn:
        """Record the refusal (audit, and the partner's status event), then dead-letter the message."""
        refusal = Refusal(
            message_key=event.key, reasons=reasons, sender=event.extra.get("user_id"), **known
        )
        rejections.record(self.db, refusal)
        raise Reject(rejections.summary(reasons))


def _reason(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message}]
