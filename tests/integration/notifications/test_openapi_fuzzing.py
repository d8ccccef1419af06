"""Schemathesis against the notifications OpenAPI document, in-process, with a valid admin key:
whatever it sends, no answer is a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from services.notifications.app import create_app
from tests.integration.notifications.harness import NO_QUIET_HOURS
from tests.support.notifications_events import referral_accepted, staff_key


@pytest.fixture
def admin(service) -> dict[str, str]:
    raw, upserted = staff_key("admin")
    service.configure(**NO_QUIET_HOURS)
    service.handle(upserted, referral_accepted("pat-1", email="maria@example.org"))
    service.send_due()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def notifications_api(settings):
    overrides = settings.as_overrides()
    return schemathesis.openapi.from_wsgi("/openapi.json", create_app(overrides))


def test_no_request_makes_the_notifications_api_answer_5xx(notifications_api, admin):
    strategy = st.one_of(
        notifications_api.as_strategy(generation_mode=mode)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )

    @given(case=strategy)
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        case.call_and_validate(headers=admin, checks=[not_a_server_error])

    fuzz()
