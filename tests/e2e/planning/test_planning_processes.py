"""Planning as real processes (gunicorn API and worker) against the real RabbitMQ and MongoDB:
intake's events in, a plan within seconds, sessions, progress out; and the drafting figures."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pymongo
import pytest

from testkit.event_tap import EventTap
from testkit.metrics import mongo_commands
from testkit.processes import Api, Worker, free_port
from testkit.waiting import wait_until
from tests.support import planning_data as data
from tests.support.planning_api import OverHttp, PlanningApi
from tests.support.planning_harness import publish

PLANS_FOR_FIGURES = 100


@pytest.fixture
def stack(service_env, tmp_path, make_settings, mongo_url, mongo_db_name):
    metrics_port = free_port()
    env = service_env("planning", WORKER_METRICS_PORT=str(metrics_port))
    worker = Worker("planning", env, tmp_path)
    api = Api("planning", env, tmp_path, workers=2)
    try:
        api.wait_live()
        wait_until(  # touched once the worker declared its queues and bindings
            worker.heartbeat.exists, timeout=120, message="the worker to start"
        )
        tap = EventTap(make_settings("intake").amqp_url, "planning.events")
        db = pymongo.MongoClient(mongo_url, tz_aware=True)[f"{mongo_db_name}_planning"]
        yield {
            "api": PlanningApi(OverHttp(api.url)),
            "tap": tap,
            "db": db,
            "publisher": make_settings("intake"),
            "metrics": f"http://127.0.0.1:{metrics_port}/metrics",
            "worker": worker,
        }
        tap.close()
        db.client.close()
    finally:
        api.terminate()  # both told at once: they end side by side
        worker.terminate()
        api.stop()
        assert worker.stop() == 0, worker.log()


def local(days: int, hour: int = 10) -> datetime:
    return datetime.combine(date.today() + timedelta(days=days), clock_time(hour))


def test_an_intake_becomes_a_plan_then_sessions_then_progress_through_real_processes(stack):
    api, tap, db = stack["api"], stack["tap"], stack["db"]
    therapist, key_event = data.principal_upserted("therapist")
    intake = data.intake_completed()
    started = time.monotonic()
    publish(
        stack["publisher"],
        [key_event, data.location_upserted(), data.intake_event("intake.completed", intake)],
    )

    plan = wait_until(
        lambda: db.plans.find_one({"referral_id": intake["referral_id"], "status": "draft"}),
        timeout=10,
        message="the drafted plan",
    )
    assert time.monotonic() - started < 10
    plan_id = plan["_id"]
    assert api.approve(therapist, plan_id).status == 200
    yesterday = api.schedule(therapist, plan_id, local(-1), "th-1", room_id="room-2")
    tomorrow = api.schedule(therapist, plan_id, local(1), "th-1", room_id="room-2")
    assert (yesterday.status, tomorrow.status) == (201, 201), (yesterday.body, tomorrow.body)

    nprs_4 = [{"measure": "NPRS", "score": 4}]
    reply = api.complete_session(therapist, plan_id, yesterday.body["session_id"], nprs_4)
    assert reply.status == 200, reply.body

    [progress] = tap.expect("progress.updated")
    nprs = next(m for m in progress["data"]["measures"] if m["measure"] == "NPRS")
    assert nprs["baseline"] == 7 and nprs["latest"] == 4 and nprs["clinically_improved"] is True
    assert progress["data"]["newly_improved"] == ["NPRS"]
    assert progress["data"]["referrer"]["name"] == "Dr. Ada Reyes"
    seen = Counter(e["type"] for e in tap.drain())
    assert seen["plan.drafted"] == 1 and seen["plan.activated"] == 1
    assert seen["session.scheduled"] == 2 and seen["session.completed"] == 1


def test_figures_plans_drafted_per_second_and_mongodb_commands_per_plan(stack, record_property):
    db, metrics = stack["db"], stack["metrics"]
    publish(stack["publisher"], [data.location_upserted()])
    wait_until(lambda: db.locations.find_one({}), timeout=10, message="the location replica")
    idle_from, idle_started = mongo_commands(metrics), time.monotonic()
    time.sleep(2.0)  # an idle window on purpose: how many commands the pollers send alone
    idle_rate = {
        k: (v - idle_from[k]) / (time.monotonic() - idle_started)
        for k, v in mongo_commands(metrics).items()
    }

    events = [
        data.intake_event("intake.completed", data.intake_completed())
        for _ in range(PLANS_FOR_FIGURES)
    ]
    before, started = mongo_commands(metrics), time.monotonic()
    publish(stack["publisher"], events)
    wait_until(
        lambda: db.plans.count_documents({"status": "draft"}) == PLANS_FOR_FIGURES,
        timeout=120,
        interval=0.1,
        message=f"{PLANS_FOR_FIGURES} drafted plans",
    )
    drafted_s = time.monotonic() - started
    stack["tap"].expect("plan.drafted", count=PLANS_FOR_FIGURES, timeout=60)
    relayed_s = time.monotonic() - started
    spent = mongo_commands(metrics) - before
    per_plan = {
        k: round((v - idle_rate.get(k, 0) * relayed_s) / PLANS_FOR_FIGURES, 2)
        for k, v in sorted(spent.items())
    }
    figures = {
        "plans": PLANS_FOR_FIGURES,
        "plans_drafted_per_s": round(PLANS_FOR_FIGURES / drafted_s, 1),
        "seconds_until_all_drafted": round(drafted_s, 2),
        "seconds_until_all_plan_drafted_events_published": round(relayed_s, 2),
        "mongo_commands_per_plan": per_plan,
        "mongo_commands_per_plan_total": round(sum(per_plan.values()), 2),
        "idle_commands_per_s": {k: round(v, 2) for k, v in idle_rate.items() if v},
    }
    record_property("planning_drafting_figures", json.dumps(figures))
    print("planning drafting figures:", json.dumps(figures))
    assert figures["mongo_commands_per_plan"].get("insert", 0) <= 1.05  # one write per new plan
    assert figures["mongo_commands_per_plan_total"] <= 8
