"""Email as the people who receive it read it.

`SmtpInbox` is a real SMTP server (aiosmtpd, `smtp_server()`) in this process for the services
to send to: it keeps every message it accepts, notes when each recipient got their first one,
and can hold the next DATA commands to play a server that stalls. `MaildirSource` reads what
`make run`'s development SMTP server kept. Both are a `MailSource`; an `Inbox` over one shows the
messages that came since it was opened.
"""

from __future__ import annotations

import asyncio
import email
import logging
import mailbox
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any, Protocol

from aiosmtpd.controller import Controller

from testkit.processes import free_port
from testkit.waiting import wait_until


@dataclass(frozen=True)
class Attached:
    """A file a message carries: its name, media type and content."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Mail:
    key: str  # stable per message within its source
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    message_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attached, ...] = ()


def as_mail(key: str, message: Message, to: Iterable[str] | None = None) -> Mail:
    """A parsed message as `Mail`; `to` is the envelope's recipients (else the To header's)."""
    plain = html = None
    attached: list[Attached] = []
    if isinstance(message, EmailMessage):
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        for part in message.iter_attachments():
            content = part.get_payload(decode=True)
            name = part.get_filename() or ""
            attached.append(Attached(name, part.get_content_type(), bytes(content or b"")))
    if to is None:
        to = [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()]
    return Mail(
        key=key,
        to=tuple(to),
        subject=str(message.get("Subject", "")).strip(),
        text=plain.get_content() if isinstance(plain, EmailMessage) else "",
        html=html.get_content() if isinstance(html, EmailMessage) else None,
        message_id=str(message.get("Message-ID", "")),
        headers={k: str(v) for k, v in message.items()},
        attachments=tuple(attached),
    )


class MailSource(Protocol):
    def messages(self) -> Iterable[Mail]: ...


class SmtpInbox:
    """aiosmtpd handler keeping every accepted message; can hold the next DATA commands.

    A held DATA waits until `release()` and then answers 451 (not accepted), which is what a
    client killed mid-send would have seen, had it lived.
    """

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.held: list[str] = []  # Message-IDs of the DATA commands held so far
        self.arrivals: dict[str, float] = {}  # recipient -> perf_counter of their first mail
        self._to_hold = 0
        self._release = threading.Event()
        self._lock = threading.Lock()

    def hold_next(self, count: int = 1) -> None:
        with self._lock:
            self._to_hold += count
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            hold = self._to_hold > 0
            self._to_hold -= hold
            if hold:
                self.held.append(str(message["Message-ID"]))
        if hold:
            while not self._release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Try again later"
        now = time.perf_counter()
        with self._lock:
            self.mails.append(as_mail(str(len(self.mails)), message, envelope.rcpt_tos))
            for recipient in envelope.rcpt_tos:
                self.arrivals.setdefault(recipient, now)
        return "250 2.0.0 Queued"

    def messages(self) -> list[Mail]:
        return list(self.mails)

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
def serving(handler: object) -> Iterator[int]:
    """An aiosmtpd server on 127.0.0.1 with `handler`, on a free port (yielded) until the end."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    with serving(inbox) as port:
        try:
            yield inbox, port
        finally:
            inbox.release()


class MaildirSource:
    """The Maildir the development SMTP server of `make run` writes (one file per message)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parsed: dict[str, Mail] = {}  # each file is read once

    def messages(self) -> list[Mail]:
        if not (self.path / "new").is_dir():
            return []
        box = mailbox.Maildir(self.path, create=False)
        for key in box.iterkeys():
            if key not in self.parsed:
                try:
                    message = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
                except (KeyError, FileNotFoundError):  # moved by a mail client meanwhile
                    continue
                self.parsed[key] = as_mail(key, message)
        return sorted(self.parsed.values(), key=lambda mail: received_order(mail.key))


def received_order(key: str) -> tuple[int, int, str]:
    """Maildir keys start `<unix seconds>.M<microseconds>...`: sort by time received."""
    found = re.match(r"^(\d+)\.M(\d+)", key)
    return (int(found[1]), int(found[2]), key) if found else (0, 0, key)


class Inbox:
    """The messages a source received since this inbox was opened."""

    def __init__(self, source: MailSource) -> None:
        self.source = source
        self.before = {mail.key for mail in source.messages()}

    def new(self) -> list[Mail]:
        return [mail for mail in self.source.messages() if mail.key not in self.before]

    def to(self, address: str, subject_has: str = "") -> list[Mail]:
        return [
            mail
            for mail in self.new()
            if any(address in recipient for recipient in mail.to)
            and subject_has.lower() in mail.subject.lower()
        ]
