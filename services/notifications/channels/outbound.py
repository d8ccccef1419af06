"""One entry point for the sender: a rendered message, a channel, an address; the adapters behind.

The delivery key is the idempotency key on every channel: the SMTP Message-ID, the SMS
provider's ``Idempotency-Key`` and the webhook's ``X-Clinic-Event-Id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from shared.config import Settings

from ..domain.templates import RenderedMessage
from .email import SmtpSender
from .errors import PermanentFailure
from .sms import HttpSmsProvider
from .webhook import WebhookSender


@dataclass(frozen=True)
class Envelope:
    channel: str
    address: str
    message: RenderedMessage
    delivery_key: str
    unsubscribe_url: str | None = None
    webhook_secret: str | None = None


class Channels:
    def __init__(self, email: SmtpSender, sms: HttpSmsProvider, webhook: WebhookSender) -> None:
        self.email, self.sms, self.webhook = email, sms, webhook

    @classmethod
    def from_settings(cls, settings: Settings, timeout_s: float = 10.0) -> Channels:
        http = requests.Session()
        http.trust_env = False  # providers are configured explicitly, never through env proxies
        email = SmtpSender(
            settings.own.smtp_host,
            settings.own.smtp_port,
            settings.own.smtp_from,
            username=settings.own.smtp_username or None,
            password=settings.own.smtp_password or None,
            timeout=timeout_s,
        )
        sms = HttpSmsProvider(settings.own.sms_base_url, settings.own.sms_api_key, timeout_s, http)
        return cls(email, sms, WebhookSender(timeout_s, http))

    def send(self, envelope: Envelope) -> str:
        """Send; return the provider's answer. Raises `TemporaryFailure` / `PermanentFailure`."""
        message, key = envelope.message, envelope.delivery_key
        if envelope.channel == "email":
            return self.email.send(
                envelope.address,
                message.subject or "",
                message.text,
                message.html,
                delivery_key=key,
                unsubscribe_url=envelope.unsubscribe_url,
                attachments=message.attachments,
            )
        if envelope.channel == "sms":
            return self.sms.send(envelope.address, message.text, idempotency_key=key)
        if envelope.channel == "webhook":
            if not envelope.webhook_secret:
                raise PermanentFailure("no webhook secret is configured for this partner")
            return self.webhook.send(
                envelope.address, envelope.webhook_secret, message.body_bytes, key
            )
        raise PermanentFailure(f"unknown channel {envelope.channel!r}")
