"""What intake's worker consumes: partner referrals, and planning's milestones of their care.

`PartnerInbox`: partner referrals over AMQP, the `partner.referrals` exchange, queue
`intake.partner-referrals` (below). `PlanningEvents`: planning's `plan.activated`,
`progress.updated`, `plan.completed` and `plan.discontinued` (queue `intake.planning-events`,
bound from the event catalogue), each loaded with its payload schema (an invalid one is
dead-lettered with the fields named) and told to the referral's partner
(`usecases.partner_milestones`).

Partners publish CloudEvents with routing key `<partner_id>.referral.requested` or
`.referral.cancelled`, as their own RabbitMQ user, with the AMQP `user_id` property set to that
user (the broker refuses a `user_id` other than the connection's user, so it names the partner).

Who sent a message is its origin (`shared.events.origin`): the broker-validated `user_id` and
routing key of the first publish, carried by the service's own headers through retries and the
DLQ tool's `move-back`, so a retried referral is judged as the original was. A partner that sets
those headers itself is refused.

This module only translates: `decode` never drops anything (a message it cannot read, or with
forged origin headers, becomes a `partner.message.unreadable` event), each handler turns the
event into a `PartnerMessage` and calls its use case (`usecases.partner_referrals`), and a
refusal the use case recorded is dead-lettered with its reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import NoReturn

from kombu.message import Message
from marshmallow import ValidationError

from services.intake.bootstrap import Deps
from services.intake.domain.milestones import OF_PLANNING_EVENT
from services.intake.domain.refusals import UNKNOWN_TENANT
from services.intake.errors import Refused
from services.intake.usecases import partner_milestones, partner_referrals
from services.intake.usecases.partner_referrals import CANCELLED, REQUESTED, PartnerMessage
from shared.errors import NotFound
from shared.events import (
    Event,
    InvalidEvent,
    Reject,
    Subscription,
    catalog,
    parse_event,
    subscribe,
)
from shared.events.envelope import check_size
from shared.events.origin import origin_of
from shared.events.topology import PARTNER_REFERRALS_EXCHANGE
from shared.schemas import flatten
from shared.web.auth import system_principal

PURPOSE = "partner-referrals"
PLANNING_PURPOSE = "planning-events"
BINDING = (PARTNER_REFERRALS_EXCHANGE, "*.referral.*")
UNREADABLE = "partner.message.unreadable"


def _message_key(message: Message) -> str:
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    return message.properties.get("message_id") or hashlib.sha256(body).hexdigest()


def _claimed_answers(body: object) -> dict[str, str | None]:
    """`{id, source}` of a message that could not be read as an event, as far as they can be read
    (a JSON object's string `id` and `source`), else its AMQP message id (or its body's SHA-256)."""
    raw = body if isinstance(body, bytes) else str(body).encode()
    try:
        check_size(raw)  # a body too large is not read at all
        found = json.loads(raw)
    except ValueError:  # InvalidEvent is one
        found = None
    claimed = found if isinstance(found, dict) else {}
    text = {k: v for k, v in claimed.items() if k in ("id", "source") and isinstance(v, str)}
    return {"id": text.get("id"), "source": text.get("source")}


def _unreadable(
    message: Message, field: str, reason: str, extra: dict, tenant_id: str | None = None
) -> Event:
    answers = _claimed_answers(message.body)
    if answers["id"] is None:
        answers = {"id": _message_key(message), "source": None}
    extra = {**extra, "answers": answers}
    return Event(
        id=_message_key(message),
        source="amqp",
        type=UNREADABLE,
        time=datetime.now(UTC),
        tenant_id=tenant_id or UNKNOWN_TENANT,
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


def partner_message(event: Event) -> PartnerMessage:
    answers = event.extra.get("answers") or {"id": event.id, "source": event.source}
    return PartnerMessage(
        answers=answers,
        key=event.key,
        user_id=event.extra.get("user_id"),
        routing_key=str(event.extra.get("routing_key", "")),
        type=event.type,
        tenant_id=event.tenant_id,
        content_type=event.datacontenttype,
        data=event.data,
    )


class PartnerInbox:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscription(self) -> Subscription:
        handlers = {
            REQUESTED: self.on_requested,
            CANCELLED: self.on_cancelled,
            UNREADABLE: self.on_unreadable,
        }
        return subscribe(
            self.deps.settings,
            PURPOSE,
            [BINDING],
            handlers,
            decode=decode,
            owned_exchanges=[PARTNER_REFERRALS_EXCHANGE],
        )

    def on_requested(self, event: Event) -> bool:
        with _refusal_dead_lettered():
            return partner_referrals.refer(self.deps, partner_message(event))

    def on_cancelled(self, event: Event) -> bool:
        with _refusal_dead_lettered():
            return partner_referrals.cancel(self.deps, partner_message(event))

    def on_unreadable(self, event: Event) -> NoReturn:
        field, problem, tenant_id = (event.data.get(k) for k in ("field", "message", "tenant_id"))
        with _refusal_dead_lettered():
            partner_referrals.refuse_unreadable(
                self.deps, partner_message(event), field, problem, tenant_id
            )


@contextmanager
def _refusal_dead_lettered() -> Iterator[None]:
    """A refused message (recorded and answered by the use case) goes to the DLQ with its reason."""
    try:
        yield
    except Refused as refused:
        raise Reject(refused.reason) from None


class PlanningEvents:
    """Planning's milestones of care, told to the partner that sent the referral."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscription(self) -> Subscription:
        handlers = dict.fromkeys(OF_PLANNING_EVENT, self.on_milestone)
        return subscribe(self.deps.settings, PLANNING_PURPOSE, catalog.bindings(handlers), handlers)

    def on_milestone(self, event: Event) -> bool:
        principal = system_principal("intake", event.tenant_id)
        payload = catalog.event_type(event.type).payload
        try:
            data = payload().load(event.data) if payload else event.data
            return partner_milestones.report_milestone(self.deps, principal, event, data)
        except ValidationError as error:
            problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in flatten(error.messages).items())
            raise Reject(f"{event.type}: {problems}") from None
        except NotFound as missing:
            raise Reject(f"{event.type}: {missing.message}") from None
