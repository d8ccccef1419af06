"""The intake service as real processes (gunicorn API and worker) with a partner on its own RabbitMQ
user: referrals over AMQP and HTTP reach the clinic and the partner's status queue; and the
throughput and MongoDB cost per accepted referral, measured."""

from __future__ import annotations

import json

import pymongo
import pytest
import requests

from tests.support.intake_bench import measure
from tests.support.intake_events import EventSink
from tests.support.intake_partner import FHIR, PartnerSystem
from tests.support.intake_world import World, bearer, fhir_referral, native_referral
from tests.support.processes import Api, Worker, free_port
from tests.support.rabbit import amqp_url
from tests.support.waiting import wait_until


@pytest.fixture
def world(mongo_url, mongo_db_name):
    client = pymongo.MongoClient(mongo_url, tz_aware=True)
    world = World(client[f"{mongo_db_name}_intake"])
    world.tenant("clinic-a")
    yield world
    client.close()


@pytest.fixture
def partner(world, rabbit_admin, vhost):
    system = PartnerSystem(rabbit_admin, vhost)
    world.partner(system.partner_id, ["clinic-a"])
    yield system
    system.close()


@pytest.fixture
def stack(world, partner, service_env, vhost, tmp_path):
    """The intake worker and API (partner seeded first), and a stand-in for intake's consumers."""
    sink = EventSink(amqp_url(vhost))
    metrics_port = free_port()
    env = service_env("intake", WORKER_METRICS_PORT=str(metrics_port), OUTBOX_POLL_INTERVAL_S="0.2")
    worker = Worker("intake", env, tmp_path)
    api = Api("intake", env, tmp_path, workers=2)
    try:
        wait_until(worker.heartbeat.exists, timeout=30, message="the intake worker")
        wait_until(
            lambda: partner.status_queue in {q["name"] for q in partner.admin.queues(vhost)},
            timeout=30,
            message="the status queue",
        )
        api.wait_live()
        yield {
            "api": api,
            "worker": worker,
            "sink": sink,
            "metrics": f"http://127.0.0.1:{metrics_port}/metrics",
        }
    finally:
        api.stop()
        assert worker.stop() == 0, worker.log()
        sink.close()


def accepted(partner, partner_referral_id):
    return wait_until(
        lambda: next(
            (
                s
                for s in partner.statuses()
                if s["data"]["partner_referral_id"] == partner_referral_id
            ),
            None,
        ),
        timeout=30,
        message=f"the status of {partner_referral_id}",
    )


def test_a_fhir_referral_published_as_the_partner_reaches_the_clinic_api_and_the_partners_queue(
    world, partner, stack
):
    partner.refer("clinic-a", fhir_referral("REF-E2E-1"), datacontenttype=FHIR)

    status = accepted(partner, "REF-E2E-1")
    assert status["type"] == "referral.accepted"
    key = world.key("clinic-a", "front_desk")
    base = stack["api"].url
    referral = requests.get(
        f"{base}/referrals/{status['data']['referral_id']}", headers=bearer(key), timeout=10
    ).json()
    assert referral["partner_referral_id"] == "REF-E2E-1"
    patient = requests.get(
        f"{base}/patients/{referral['patient_id']}", headers=bearer(key), timeout=10
    ).json()
    assert patient["family_name"] == "Alvarez"
    internal = wait_until(
        lambda: stack["sink"].events("referral.accepted"), timeout=15, message="referral.accepted"
    )
    assert internal[0]["data"]["patient_id"] == patient["patient_id"]


def test_a_partner_posting_over_http_hears_back_on_its_queue_too(world, partner, stack):
    key = world.key("clinic-a", "partner", partner_id=partner.partner_id)
    body = native_referral(partner_referral_id="REF-E2E-HTTP")
    response = requests.post(
        f"{stack['api'].url}/referrals",
        data=json.dumps(body),
        headers={**bearer(key), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert (
        accepted(partner, "REF-E2E-HTTP")["data"]["referral_id"] == response.json()["referral_id"]
    )


def test_throughput_and_mongodb_commands_per_accepted_referral(partner, stack):
    figures = measure(partner, "clinic-a", stack["metrics"], count=100)
    print("\nintake figures:", json.dumps(figures, indent=2))
    assert figures["referrals"] == 100
    assert (
        figures["mongo_writes_per_referral"] <= 6
    )  # patient + referral + audit, and the relay's two marks
