"""A real SMTP server (aiosmtpd) in this process that keeps every message it accepts, for the
services to send to; it can hold the next DATA commands to play a server that stalls."""

from __future__ import annotations

import asyncio
import email
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from testkit.processes import free_port
from testkit.waiting import wait_until


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    message_id: str
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]


class SmtpInbox:
    """aiosmtpd handler keeping every accepted message; can hold the next DATA commands.

    A held DATA waits until `release()` and then answers 451 (not accepted), which is what a
    client killed mid-send would have seen, had it lived.
    """

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.held: list[str] = []  # Message-IDs of the DATA commands held so far
        self._to_hold = 0
        self._release = threading.Event()
        self._lock = threading.Lock()

    def hold_next(self, count: int = 1) -> None:
        with self._lock:
            self._to_hold += count
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            hold = self._to_hold > 0
            self._to_hold -= hold
            if hold:
                self.held.append(str(message["Message-ID"]))
        if hold:
            while not self._release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Try again later"
        html = message.get_body(("html",))
        mail = Mail(
            to=tuple(envelope.rcpt_tos),
            message_id=str(message["Message-ID"]),
            subject=str(message["Subject"]),
            text=message.get_body(("plain",)).get_content(),
            html=html.get_content() if html is not None else None,
            headers={k: str(v) for k, v in message.items()},
        )
        with self._lock:
            self.mails.append(mail)
        return "250 2.0.0 Queued"

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in list(self.mails) if address in mail.to]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Mail]:
        wait_until(
            lambda: len(self.mails) >= count,
            timeout=timeout,
            message=f"{count} emails (got {len(self.mails)})",
        )
        return list(self.mails)


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command
    inbox, port = SmtpInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release()
        controller.stop()
