"""Ops command for dead letters: list them with their reasons, move them back after a fix.

    python -m shared.events.dlq list planning.intake-events [--limit 50] [--json]
    python -m shared.events.dlq move-back planning.intake-events [--id MESSAGE_ID ...] [--all]

QUEUE is the work queue whose `<QUEUE>.dlq` is read. Uses AMQP_URL (like every process).
Listing takes messages without acking them and gives them back when it closes, so nothing is
lost; moving back republishes a message to QUEUE (with confirms, its retry counts reset, its
origin kept: see `shared.events.origin`, so a partner's message is judged as the partner's) and
only then removes it from the dead-letter queue.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from amqp.exceptions import NotFound
from kombu import Connection

from shared import broker
from shared.config import ConfigError, Settings, load_settings
from shared.events import topology
from shared.events.consumer import OUTAGE_RETRY_HEADER, REASON_HEADER, RETRY_HEADER
from shared.events.origin import origin_of
from shared.events.publisher import ConfirmedPublisher

_RESET = (
    RETRY_HEADER,
    OUTAGE_RETRY_HEADER,
    "x-last-error",
    REASON_HEADER,
    "x-dead-letter-kind",
    "x-dead-lettered-at",
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-delivery-count",
)


def _messages(connection: Connection, queue: str, limit: int) -> Iterator[Any]:
    channel = connection.channel()
    for _ in range(limit):
        message = channel.basic_get(topology.dlq_name(queue), no_ack=False)
        if message is None:
            return
        yield channel, message


def _raw(message: Any) -> bytes:
    body = message.body
    return (
        body
        if isinstance(body, bytes)
        else str(body).encode(message.properties.get("content_encoding") or "utf-8")
    )


def describe(message: Any) -> dict[str, Any]:
    headers = dict(message.headers or {})
    deaths = headers.get("x-death") or []
    reason = headers.get(REASON_HEADER) or (
        f"broker: {deaths[0].get('reason')}" if deaths else "unknown"
    )
    origin = origin_of(message)
    return {
        "message_id": message.properties.get("message_id"),
        "reason": reason,
        "kind": headers.get("x-dead-letter-kind") or "broker",
        "exchange": origin.exchange,
        "routing_key": origin.routing_key,
        "dead_lettered_at": headers.get("x-dead-lettered-at"),
        "partner_user_id": origin.user_id,
        "body_preview": _raw(message)[:200].decode("utf-8", "replace"),
    }


def list_dead_letters(settings: Settings, queue: str, limit: int = 100) -> list[dict[str, Any]]:
    with broker.connection(settings) as connection:
        return [describe(message) for _channel, message in _messages(connection, queue, limit)]


def move_back(settings: Settings, queue: str, ids: set[str] | None, limit: int = 10_000) -> int:
    """Republish dead letters (all, or those with the given message ids) to `queue`; return how many."""
    moved = 0
    publisher = ConfirmedPublisher(settings)
    try:
        with broker.connection(settings) as connection:
            for channel, message in _messages(connection, queue, limit):
                message_id = message.properties.get("message_id") or ""
                if ids is not None and message_id not in ids:
                    continue  # left unacked: returned to the dead-letter queue on close
                kept = {k: v for k, v in (message.headers or {}).items() if k not in _RESET}
                headers = origin_of(message).stamp(kept)
                publisher.publish(
                    topology.DEAD_LETTER_EXCHANGE,
                    topology.requeue_key(queue),
                    _raw(message),
                    message_id=message_id,
                    headers=headers,
                    content_type=message.properties.get("content_type") or "application/json",
                )
                channel.basic_ack(message.delivery_tag)
                moved += 1
    finally:
        publisher.close()
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.events.dlq", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show dead letters with their reasons")
    listing.add_argument("queue")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    moving = commands.add_parser("move-back", help="republish dead letters to their queue")
    moving.add_argument("queue")
    moving.add_argument("--id", action="append", dest="ids", help="a message id (repeatable)")
    moving.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    try:
        settings = load_settings("intake")
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return _run(args, settings, parser)
    except NotFound as error:
        print(
            f"not found: {error.reply_text} (is the queue name right? see docs/ops.md)",
            file=sys.stderr,
        )
        return 1


def _run(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    if args.command == "list":
        rows = list_dead_letters(settings, args.queue, args.limit)
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
        for row in [] if args.json else rows:
            print(f"{row['message_id']}  [{row['kind']}]  {row['reason']}")
        if not args.json:
            print(f"{len(rows)} dead letter(s) in {topology.dlq_name(args.queue)}")
        return 0
    if not args.all and not args.ids:
        parser.error("move-back needs --id MESSAGE_ID or --all")
    moved = move_back(settings, args.queue, None if args.all else set(args.ids))
    print(f"moved {moved} message(s) back to {args.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
