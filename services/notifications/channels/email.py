"""Email over SMTP (stdlib smtplib), with failures sorted into temporary and permanent.

The Message-ID is built from the delivery key, so a message sent twice (a retry after a lost
answer) is recognisable as the same message by the server, the recipient and our logs.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal

from .errors import PermanentFailure, TemporaryFailure

CREDENTIAL_CODES = frozenset({530, 534, 535, 538})
"""Authentication refusals: our configuration, not the recipient; retried (and so noticed)."""


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        starttls: Literal["auto", "require", "never"] = "auto",
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.timeout = username, password, timeout
        self.starttls = starttls
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def build(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        delivery_key: str | None = None,
        unsubscribe_url: str | None = None,
    ) -> EmailMessage:
        message = EmailMessage()
        try:
            message["From"] = self.sender
            message["To"] = Address(addr_spec=to)
            message["Subject"] = subject
        except (ValueError, IndexError, MessageError) as error:
            raise PermanentFailure(f"invalid address or subject: {type(error).__name__}") from None
        message["Date"] = formatdate(localtime=False)
        if delivery_key:
            message["Message-ID"] = message_id(delivery_key, self.domain)
        if unsubscribe_url:
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for name, value in (headers or {}).items():
            if "\n" in value or "\r" in value:
                raise PermanentFailure(f"header {name} contains a line break")
            message[name] = value
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        delivery_key: str | None = None,
        unsubscribe_url: str | None = None,
    ) -> str:
        """Send one message; return the server's answer to DATA (e.g. "250 queued as X").

        Raises `TemporaryFailure` (unreachable, timeout, 4xx, credentials) or
        `PermanentFailure` (5xx: recipient or message refused; malformed address).
        """
        message = self.build(
            to, subject, text, html, headers,
            delivery_key=delivery_key, unsubscribe_url=unsubscribe_url,
        )  # fmt: skip
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                self._hello(smtp)
                _expect(smtp.mail(self.sender), "MAIL FROM")
                _expect(smtp.rcpt(to), "RCPT TO")
                # smtplib sends bytes as they are: SMTP needs CRLF for dot-stuffing to work.
                wire = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
                code, answer = smtp.data(wire)
                return f"{code} {answer.decode('utf-8', 'replace')}"
        except smtplib.SMTPResponseException as error:
            raise _classify(error.smtp_code, "SMTP") from None
        except (OSError, smtplib.SMTPException) as error:  # refused, timeout, dropped, TLS
            raise TemporaryFailure(f"SMTP server unavailable: {type(error).__name__}") from None

    def _hello(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self.starttls == "require" or (self.starttls == "auto" and smtp.has_extn("starttls")):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")


def message_id(delivery_key: str, domain: str) -> str:
    return f"<{delivery_key}@{domain}>"


def _expect(reply: tuple[int, bytes], step: str) -> None:
    code, _ = reply
    if code >= 400:
        raise _classify(code, step)


def _classify(code: int, step: str) -> TemporaryFailure | PermanentFailure:
    if code in CREDENTIAL_CODES:
        return TemporaryFailure(f"SMTP {step} refused our credentials ({code})")
    if 400 <= code < 500:
        return TemporaryFailure(f"SMTP {step} deferred ({code})")
    return PermanentFailure(f"SMTP {step} refused ({code})", status=code)
