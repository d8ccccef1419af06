"""Email over SMTP (stdlib smtplib), with failures sorted into temporary and permanent.

The Message-ID is built from the delivery key, so a message sent twice (a retry after a lost
answer) is recognisable as the same message by the server, the recipient and our logs.

One connection is kept open between messages (up to `KEEP_OPEN_S` idle), so a burst of emails
pays for connecting, EHLO, STARTTLS and login once. A kept connection the server has closed
meanwhile fails at MAIL FROM, before anything of the message was sent: the message is then
sent once more on a fresh connection. Any other failure closes the connection.
A sender is used by one thread (each sender loop has its own channels).
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from email import policy as email_policy
from email.errors import MessageError
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal

from ..domain.progress_charts import Attachment
from .errors import PermanentFailure, TemporaryFailure

CREDENTIAL_CODES = frozenset({530, 534, 535, 538})
"""Authentication refusals: our configuration, not the recipient; retried (and so noticed)."""
KEEP_OPEN_S = 20.0
"""How long an idle connection is reused (well under the 5 minutes servers wait, RFC 5321)."""


class _HeaderClassesMadeOnce(HeaderRegistry):
    """The stdlib's registry makes a new class (`type(...)`) for every header it parses or
    folds: a third of the time spent building a message. Made once per header name here."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made


POLICY = email_policy.default.clone(header_factory=_HeaderClassesMadeOnce())
"""`email.policy.default` with the header classes made once."""
WIRE_POLICY = POLICY.clone(linesep="\r\n")
"""What goes on the wire: smtplib sends bytes as they are, and SMTP needs CRLF for
dot-stuffing to work."""


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
        self._smtp: smtplib.SMTP | None = None
        self._idle_since = 0.0

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
        attachments: Sequence[Attachment] = (),
    ) -> str:
        """Send one message; return the server's answer to DATA (e.g. "250 queued as X").

        Raises `TemporaryFailure` (unreachable, timeout, 4xx, credentials) or
        `PermanentFailure` (5xx: recipient or message refused; malformed address).
        """
        message = self._addressed(to, subject)
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
        for file in attachments:
            maintype, _, subtype = file.content_type.partition("/")
            message.add_attachment(
                file.content, maintype=maintype, subtype=subtype, filename=file.filename
            )
        return self._transmit(to, message)

    def _addressed(self, to: str, subject: str) -> EmailMessage:
        """A new message from us to `to`, dated now; a malformed address or subject is permanent."""
        message = EmailMessage(policy=POLICY)
        try:
            message["From"] = self.sender
            message["To"] = Address(addr_spec=to)
            message["Subject"] = subject
        except (ValueError, IndexError, MessageError) as error:
            raise PermanentFailure(f"invalid address or subject: {type(error).__name__}") from None
        message["Date"] = formatdate(localtime=False)
        return message

    def _transmit(self, to: str, message: EmailMessage) -> str:
        """Hand the message over for `to` on the kept connection or a new one; the DATA answer."""
        wire = message.as_bytes(policy=WIRE_POLICY)
        try:
            smtp, reused = self._connection()
            try:
                _expect(smtp.mail(self.sender), "MAIL FROM")
            except (smtplib.SMTPServerDisconnected, OSError):
                if not reused:
                    raise
                self.close()  # closed by the server while idle: nothing was sent on it
                smtp, _ = self._connection()
                _expect(smtp.mail(self.sender), "MAIL FROM")
            _expect(smtp.rcpt(to), "RCPT TO")
            code, answer = smtp.data(wire)
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _classify(error.smtp_code, "SMTP") from None
        except (OSError, smtplib.SMTPException) as error:  # refused, timeout, dropped, TLS
            self.close()
            raise TemporaryFailure(f"SMTP server unavailable: {type(error).__name__}") from None
        except BaseException:  # refused at MAIL FROM or RCPT TO: start clean next time
            self.close()
            raise
        self._idle_since = time.monotonic()
        return f"{code} {answer.decode('utf-8', 'replace')}"

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """(connection, reused): the kept one if fresh enough, else a new one (greeted)."""
        if self._smtp is not None and time.monotonic() - self._idle_since < KEEP_OPEN_S:
            return self._smtp, True
        self.close()
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            self._hello(smtp)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp, False

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

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
