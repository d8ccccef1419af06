"""Test doubles that behave like the real outside services (real sockets, same protocol)."""

from .sms_provider import FakeSmsProvider, Reply, SentMessage

__all__ = ["FakeSmsProvider", "Reply", "SentMessage"]
