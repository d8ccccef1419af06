"""schemathesis against the intake OpenAPI, in-process and authenticated as a clinic admin: no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from testkit.referrals import native_referral
from testkit.staff import bearer

EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}


@pytest.fixture
def admin_key(world):
    return world.key("clinic-a", "admin")


@pytest.fixture
def intake_api(app, client, admin_key):
    """The schema of an app with data to find: a referral and its patient in clinic A."""
    client.post("/referrals", json=native_referral(), headers=bearer(admin_key))
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_the_intake_api_never_answers_5xx(intake_api, admin_key):
    operations = [result.ok() for result in intake_api.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:
        for mode, examples in EXAMPLES_PER_OPERATION.items():

            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=operation.as_strategy(mode))
            def check(case):
                case.call_and_validate(headers=bearer(admin_key), checks=[not_a_server_error])

            try:
                check()
            except Unsatisfiable:  # no input to break (e.g. /healthz): nothing negative to send
                assert mode is GenerationMode.NEGATIVE
