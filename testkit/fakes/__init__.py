"""Test doubles that behave like the real outside services (real sockets, same protocol)."""

from .partner_webhook import FakePartnerEndpoint, WebhookCall
from .sms_provider import FakeSmsProvider, Reply, SentMessage, inbound_reply

__all__ = [
    "FakePartnerEndpoint",
    "FakeSmsProvider",
    "Reply",
    "SentMessage",
    "WebhookCall",
    "inbound_reply",
]
