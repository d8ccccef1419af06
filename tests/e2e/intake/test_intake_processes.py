"""The intake service as real processes (gunicorn API and worker) with a partner on its own RabbitMQ
user: referrals over AMQP and HTTP reach the clinic and the partner's status queue; and the
throughput and MongoDB cost per accepted referral, measured."""

from __future__ import annotations

import json

import pytest
import requests

from testkit.event_tap import EventTap
from testkit.partner import FHIR
from testkit.processes import Api, Worker, free_port
from testkit.rabbit import amqp_url
from testkit.referrals import fhir_referral, native_referral
from testkit.staff import bearer
from testkit.waiting import wait_until
from tests.e2e.intake.throughput import measure


@pytest.fixture
def stack(world, partner, service_env, vhost, tmp_path):
    """The intake worker and API (partner seeded first), and a stand-in for intake's consumers."""
    sink = EventTap(amqp_url(vhost), "intake.events")
    metrics_port = free_port()
    env = service_env("intake", WORKER_METRICS_PORT=str(metrics_port), OUTBOX_POLL_INTERVAL_S="0.2")
    worker = Worker("intake", env, tmp_path)
    api = Api("intake", env, tmp_path, workers=2)
    try:
        wait_until(worker.heartbeat.exists, timeout=120, message="the intake worker")
        wait_until(partner.has_status_queue, timeout=30, message="the status queue")
        api.wait_live()
        yield {
            "api": api,
            "worker": worker,
            "sink": sink,
            "metrics": f"http://127.0.0.1:{metrics_port}/metrics",
        }
    finally:
        api.terminate()  # both told at once: they end side by side
        worker.terminate()
        api.stop()
        assert worker.stop() == 0, worker.log()
        sink.close()


def accepted(partner, partner_referral_id):
    return wait_until(
        lambda: partner.status_of(partner_referral_id),
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
