"""Channel adapters: email (SMTP), SMS (HTTP provider), partner webhooks; plus retry timing.

Each adapter sends one message and either returns the provider's answer or raises
`TemporaryFailure` (retry later, see `backoff`) or `PermanentFailure` (give up, tell staff).
"""

from .backoff import DEFAULT_POLICY, RetryPolicy, max_attempts, next_attempt_delay
from .email import SmtpSender
from .errors import DeliveryFailure, PermanentFailure, TemporaryFailure
from .sms import HttpSmsProvider
from .webhook import WebhookSender, sign, verify_signature

__all__ = [
    "DEFAULT_POLICY",
    "DeliveryFailure",
    "HttpSmsProvider",
    "PermanentFailure",
    "RetryPolicy",
    "SmtpSender",
    "TemporaryFailure",
    "WebhookSender",
    "max_attempts",
    "next_attempt_delay",
    "sign",
    "verify_signature",
]
