"""Channel adapters against real local servers: aiosmtpd, the fake SMS provider, a webhook receiver."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from services.notifications.channels import (
    DEFAULT_POLICY,
    HttpSmsProvider,
    PermanentFailure,
    RetryPolicy,
    SmtpSender,
    TemporaryFailure,
    WebhookSender,
    max_attempts,
    next_attempt_delay,
    verify_signature,
)
from services.notifications.channels.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from services.notifications.domain.deliveries import delivery_key
from testkit.fakes import FakeSmsProvider, Reply
from testkit.fakes.http_server import LocalHttpServer
from testkit.processes import free_port
from testkit.smtp import serving

API_KEY = "test-sms-key"
PHONE = "+12125550142"


@pytest.fixture
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route 127.0.0.1 through a developer's proxy
    return session


# --- email -------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps what it accepts; refuses nobody@ (550) and defers busy@ (451)."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 2.0.0 Queued as Q123"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, port


def test_an_email_arrives_with_subject_body_and_a_message_id_from_the_delivery_key(smtp):
    inbox, port = smtp
    key = delivery_key("planning", "evt-1", "patient:pat-1", "email")
    sender = SmtpSender("127.0.0.1", port, "Calm Hands <clinic@calmhands.example>", timeout=5)
    answer = sender.send(
        "maria@example.org",
        "Your appointment is confirmed",
        "Hello Maria,\nSee you on Thursday.\n.\nA line with a lone dot above.\n",
        html="<p>Hello Maria</p>",
        delivery_key=key,
        unsubscribe_url="https://calmhands.example/u/abc",
    )
    assert answer == "250 2.0.0 Queued as Q123"
    [envelope] = inbox.envelopes  # the handler ran before the server answered DATA
    assert envelope.mail_from == "clinic@calmhands.example"
    assert envelope.rcpt_tos == ["maria@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Your appointment is confirmed"
    assert message["Message-ID"] == f"<{key}@calmhands.example>"
    assert message["List-Unsubscribe"] == "<https://calmhands.example/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "See you on Thursday.\n.\nA line with a lone dot above." in text
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello Maria</p>"


def test_the_same_delivery_sent_twice_carries_the_same_message_id(smtp):
    inbox, port = smtp
    sender = SmtpSender("127.0.0.1", port, "clinic@calmhands.example", timeout=5)
    for _ in range(2):
        sender.send("maria@example.org", "Hi", "Body", delivery_key="k1")
    ids = {email.message_from_bytes(e.original_content)["Message-ID"] for e in inbox.envelopes}
    assert ids == {"<k1@calmhands.example>"}


def test_a_refused_recipient_is_a_permanent_failure(smtp):
    _, port = smtp
    sender = SmtpSender("127.0.0.1", port, "clinic@calmhands.example", timeout=5)
    with pytest.raises(PermanentFailure) as caught:
        sender.send("nobody@example.org", "Hi", "Body")
    assert caught.value.status == 550


def test_a_deferred_recipient_is_a_temporary_failure(smtp):
    _, port = smtp
    sender = SmtpSender("127.0.0.1", port, "clinic@calmhands.example", timeout=5)
    with pytest.raises(TemporaryFailure, match="451"):
        sender.send("busy@example.org", "Hi", "Body")


def test_an_unreachable_mail_server_is_a_temporary_failure():
    sender = SmtpSender("127.0.0.1", free_port(), "clinic@calmhands.example", timeout=2)
    with pytest.raises(TemporaryFailure, match="unavailable"):
        sender.send("maria@example.org", "Hi", "Body")


def test_a_malformed_address_or_header_injection_is_permanent():
    sender = SmtpSender("127.0.0.1", free_port(), "clinic@calmhands.example", timeout=2)
    with pytest.raises(PermanentFailure):
        sender.send("not an address", "Hi", "Body")
    with pytest.raises(PermanentFailure):
        sender.send("maria@example.org", "Hi\r\nBcc: everyone@example.org", "Body")


# --- SMS ---------------------------------------------------------------------------------


@pytest.fixture
def provider() -> Iterator[FakeSmsProvider]:
    with FakeSmsProvider(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def sms(provider, http) -> HttpSmsProvider:
    return HttpSmsProvider(provider.base_url, API_KEY, timeout=5, session=http)


def test_a_text_is_sent_and_the_provider_message_id_returned(provider, sms):
    message_id = sms.send(PHONE, "See you at 10:00. Reply STOP to opt out.", "key-1")
    assert [(m.id, m.to, m.body, m.idempotency_key) for m in provider.sent] == [
        (message_id, PHONE, "See you at 10:00. Reply STOP to opt out.", "key-1")
    ]


def test_a_server_error_is_temporary_and_the_retry_succeeds(provider, sms):
    provider.script(500, 201)
    with pytest.raises(TemporaryFailure, match="500"):
        sms.send(PHONE, "Hello", "key-2")
    assert provider.sent == []
    message_id = sms.send(PHONE, "Hello", "key-2")
    assert [m.id for m in provider.sent] == [message_id]


def test_rate_limiting_is_temporary_and_carries_retry_after(provider, sms):
    provider.script(Reply(429, {"Retry-After": "1"}), 201)
    with pytest.raises(TemporaryFailure) as caught:
        sms.send(PHONE, "Hello", "key-3")
    assert caught.value.retry_after == 1.0
    assert sms.send(PHONE, "Hello", "key-3")


def test_a_rejected_request_is_permanent_with_status_and_body(provider, sms):
    provider.script(Reply(400, body={"error": "number cannot receive texts"}))
    with pytest.raises(PermanentFailure) as caught:
        sms.send(PHONE, "Hello", "key-4")
    assert caught.value.status == 400 and "cannot receive" in caught.value.body


def test_the_same_idempotency_key_sends_once_and_returns_the_same_id(provider, sms):
    first = sms.send(PHONE, "Hello", "key-5")
    second = sms.send(PHONE, "Hello", "key-5")
    assert first == second and len(provider.sent) == 1
    provider.wait_for_requests(2)
    with pytest.raises(PermanentFailure) as caught:  # same key, different message: a bug of ours
        sms.send(PHONE, "Something else", "key-5")
    assert caught.value.status == 422


def test_a_wrong_api_key_is_retried_rather_than_dropped(provider, http):
    wrong = HttpSmsProvider(provider.base_url, "rotated-key", timeout=5, session=http)
    with pytest.raises(TemporaryFailure, match="credentials"):
        wrong.send(PHONE, "Hello", "key-6")
    assert provider.sent == []


def test_the_fake_provider_refuses_malformed_json(provider, http):
    response = http.post(
        f"{provider.base_url}/v1/messages",
        data=b"{not json",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert provider.sent == []


def test_an_unreachable_provider_is_temporary_and_a_bad_number_permanent(http):
    sms = HttpSmsProvider(f"http://127.0.0.1:{free_port()}", API_KEY, timeout=2, session=http)
    with pytest.raises(TemporaryFailure, match="unreachable"):
        sms.send(PHONE, "Hello", "key-7")
    with pytest.raises(PermanentFailure, match="E.164"):
        sms.send("212 555 0142", "Hello", "key-7")


# --- webhooks ----------------------------------------------------------------------------

SECRET = "whsec-partner-9"


class Receiver(LocalHttpServer):
    """A partner's endpoint: verifies the signature like a partner would, records each call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.statuses: list[Reply] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = verify_signature(SECRET, self.headers.get(SIGNATURE_HEADER), body)
                receiver.calls.append({"body": body, "valid": valid, "headers": dict(self.headers)})
                reply = receiver.statuses.pop(0) if receiver.statuses else Reply(204)
                self.send_response(reply.status if valid else 401)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        super().__init__(Handler)
        self.url = f"{self.base_url}/hooks/clinic"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as endpoint:
        yield endpoint


BODY = b'{"event_type":"referral.accepted","partner_id":"partner-9","status":"accepted"}'


def test_a_webhook_arrives_signed_and_verifiable(receiver, http):
    answer = WebhookSender(timeout=5, session=http).send(receiver.url, SECRET, BODY, "evt-42")
    assert answer == "HTTP 204"
    [call] = receiver.calls
    assert call["valid"] and call["body"] == BODY
    assert call["headers"][EVENT_ID_HEADER] == "evt-42"
    assert call["headers"]["Content-Type"] == "application/json"


def test_a_webhook_signed_with_the_wrong_secret_is_refused_by_the_partner(receiver, http):
    with pytest.raises(TemporaryFailure, match="401"):
        WebhookSender(timeout=5, session=http).send(receiver.url, "old-secret", BODY, "evt-43")
    assert receiver.calls[0]["valid"] is False


def test_webhook_failures_are_classified_like_sms(receiver, http):
    sender = WebhookSender(timeout=5, session=http)
    receiver.statuses = [
        Reply(503, {"Retry-After": "30"}),
        Reply(410),
        Reply(302, {"Location": "/x"}),
    ]
    with pytest.raises(TemporaryFailure) as caught:
        sender.send(receiver.url, SECRET, BODY, "evt-44")
    assert caught.value.retry_after == 30.0
    with pytest.raises(PermanentFailure) as gone:
        sender.send(receiver.url, SECRET, BODY, "evt-44")
    assert gone.value.status == 410
    with pytest.raises(PermanentFailure, match="redirect"):
        sender.send(receiver.url, SECRET, BODY, "evt-44")
    assert len(receiver.calls) == 3  # the redirect was not followed


def test_signature_verification_rejects_tampering_staleness_and_garbage():
    header = sign(SECRET, BODY, 1_750_000_000)
    assert verify_signature(SECRET, header, BODY, now=1_750_000_100)
    assert not verify_signature(SECRET, header, BODY + b" ", now=1_750_000_100)
    assert not verify_signature("other", header, BODY, now=1_750_000_100)
    assert not verify_signature(SECRET, header, BODY, now=1_750_000_301)  # older than 300 s
    assert not verify_signature(SECRET, "v1=abc", BODY) and not verify_signature(SECRET, None, BODY)
    rotated = f"{header},v1={'0' * 64}"  # during a secret rotation both signatures are sent
    assert verify_signature(SECRET, rotated, BODY, now=1_750_000_000)


# --- retry timing (pure; here because it belongs to the adapters' failure contract) ----------


def test_retry_delays_grow_exponentially_with_jitter_up_to_a_cap():
    for attempt, low in ((1, 30), (2, 60), (3, 120), (7, 1920)):
        delays = {next_attempt_delay(attempt) for _ in range(20)}
        assert all(low <= d <= low + DEFAULT_POLICY.jitter_s for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered, so a burst of failures does not retry in lockstep
    assert next_attempt_delay(30) == DEFAULT_POLICY.max_delay_s


def test_retry_after_is_a_floor_within_reason():
    assert next_attempt_delay(1, retry_after=600) == 600
    assert 30 <= next_attempt_delay(1, retry_after=1) <= 40
    assert next_attempt_delay(1, retry_after=10**9) == DEFAULT_POLICY.max_retry_after_s


def test_the_worker_gives_up_after_max_attempts():
    assert max_attempts == DEFAULT_POLICY.max_attempts == 8
    assert not DEFAULT_POLICY.gives_up_after(7) and DEFAULT_POLICY.gives_up_after(8)
    with pytest.raises(ValueError):
        next_attempt_delay(0)
    assert RetryPolicy(max_attempts=3, first_delay_s=1, jitter_s=0).delay(3) == 4
