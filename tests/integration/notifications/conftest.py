"""Fixtures for the notifications integration tests: real SMTP and SMS servers, the stand-in
database, a fixed clock, the service in this process, and the worker's components."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.mongo import Mongo
from testkit.fakes import FakeSmsProvider
from testkit.smtp import SmtpInbox, smtp_server
from tests.integration.notifications.harness import (
    NO_QUIET_HOURS,
    NOON_UTC,
    InProcessNotifications,
    worker_in_threads,
)
from tests.support.notifications_events import FixedClock, OtherServices

SMS_KEY = "test-sms-key"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def inbox(smtp) -> SmtpInbox:
    return smtp[0]


@pytest.fixture
def sms() -> Iterator[FakeSmsProvider]:
    with FakeSmsProvider(api_key=SMS_KEY) as provider:
        yield provider


@pytest.fixture
def settings(make_settings, smtp, sms):
    return make_settings(
        "notifications",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        sms_base_url=sms.base_url,
        sms_api_key=SMS_KEY,
        unsubscribe_secret="test-unsubscribe-secret",
        sms_inbound_secret="test-inbound-secret",
        notifications_public_url="https://notify.clinic.example",
    )


@pytest.fixture
def db(settings):
    mongo = Mongo(settings)
    yield mongo.db
    mongo.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON_UTC)


@pytest.fixture
def service(settings, db, clock) -> InProcessNotifications:
    return InProcessNotifications(settings, db, clock)


@pytest.fixture
def worker(settings, service) -> Iterator[OtherServices]:
    """The notifications worker's own components in threads (real RabbitMQ, SMTP, real clock);
    publish events through what it yields."""
    service.configure(**NO_QUIET_HOURS)
    with worker_in_threads(settings) as others:
        yield others
