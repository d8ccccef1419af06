"""schemathesis against the planning OpenAPI, in process and authenticated as a clinic admin:
whatever it sends, no 5xx. Half the cases aim at a real active plan and its sessions, so the
checks behind the 404s run too."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.support import planning_data as data
from tests.support.planning_api import InProcess, PlanningApi

EXAMPLES = 250


def seeded_ids(client, keys, deliver, db) -> dict[str, str]:
    """An active plan with a session that took place yesterday and one tomorrow."""
    intake = data.intake_completed()
    deliver(data.intake_event("intake.completed", intake))
    deliver(data.intake_event("intake.completed", data.blocked()))
    plan_id = db.plans.find_one({"referral_id": intake["referral_id"]})["_id"]
    api = PlanningApi(InProcess(client))
    api.approve(keys.admin, plan_id)
    sessions = [
        api.schedule(
            keys.admin, plan_id, datetime.combine(date.today() + timedelta(days=d), time(10))
        )
        for d in (-1, 1)
    ]
    return {"plan_id": plan_id, "session_id": sessions[0].body["session_id"]}


def test_the_planning_api_never_answers_5xx(client, keys, deliver, db):
    real = seeded_ids(client, keys, deliver, db)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", client.application)
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    cases = st.one_of(*(schema.as_strategy(mode) for mode in modes))

    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=cases, aim_at_real_ids=st.booleans())
    def check(case, aim_at_real_ids):
        if aim_at_real_ids and case.path_parameters:
            case.path_parameters = {
                **case.path_parameters,
                **{k: real[k] for k in case.path_parameters if k in real},
            }
        case.call_and_validate(headers=data.bearer(keys.admin), checks=[not_a_server_error])

    check()
