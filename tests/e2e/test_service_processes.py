"""The services as real processes: gunicorn APIs and workers against the real RabbitMQ and MongoDB."""

import signal
import uuid

import pymongo
import pytest
import requests
from openapi_spec_validator import validate

from testkit.processes import Api, Worker
from testkit.rabbit import rabbitmqctl
from testkit.waiting import wait_until
from tests.support.service_env import process_env

SERVICES = ("intake", "planning", "notifications")


@pytest.fixture(scope="module")
def apis(mongo_url, rabbit_admin, retired_vhosts, token_keys, tmp_path_factory):
    """The three APIs (two gunicorn workers each) on a vhost and databases of the module's own,
    shared by the tests that only ask them (one stops and starts the broker under them)."""
    vhost = rabbit_admin.create_vhost()
    prefix = f"t_{uuid.uuid4().hex[:16]}"
    log_dir = tmp_path_factory.mktemp("service-processes")
    started = {
        s: Api(s, process_env(s, mongo_url, prefix, vhost, token_keys), log_dir, workers=2)
        for s in SERVICES
    }
    try:
        for api in started.values():
            api.wait_live()
        yield started
    finally:
        for api in started.values():
            api.terminate()
        for api in started.values():
            api.stop()
        retired_vhosts.put(vhost)
        client = pymongo.MongoClient(mongo_url)
        for service in SERVICES:
            client.drop_database(f"{prefix}_{service}")
        client.close()


def readiness(api):
    response = requests.get(f"{api.url}/readyz", timeout=10)
    return response.status_code, response.json()


def test_each_api_is_ready_and_serves_a_valid_openapi_document(apis):
    for api in apis.values():
        wait_until(
            lambda api=api: readiness(api)[0] == 200, timeout=30, message=f"{api.name} ready"
        )
        document = requests.get(f"{api.url}/openapi.json", timeout=5).json()
        validate(document)


def test_readiness_follows_rabbitmq_down_and_back_without_a_restart(apis):
    for api in apis.values():
        wait_until(
            lambda api=api: readiness(api)[0] == 200, timeout=30, message=f"{api.name} ready"
        )
    rabbitmqctl("stop_app")
    try:
        for api in apis.values():
            status, body = wait_until(
                lambda api=api: (r := readiness(api))[0] == 503 and r,
                timeout=20,
                message=f"{api.name} not ready",
            )
            assert body["checks"]["rabbitmq"].startswith("unreachable")
            assert body["checks"]["mongodb"] == "ok"
            assert requests.get(f"{api.url}/healthz", timeout=5).status_code == 200
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    for api in apis.values():
        wait_until(
            lambda api=api: readiness(api)[0] == 200, timeout=30, message=f"{api.name} ready again"
        )


def test_metrics_aggregate_across_gunicorn_workers(service_env, tmp_path):
    api = Api("planning", service_env("planning"), tmp_path, workers=2)  # its counts its own
    try:
        api.wait_live()
        for _ in range(6):
            requests.get(f"{api.url}/healthz", timeout=5)
        text = requests.get(f"{api.url}/metrics", timeout=5).text
    finally:
        api.stop()
    line = next(
        row
        for row in text.splitlines()
        if row.startswith("http_requests_total") and 'endpoint="/healthz"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) >= 6


def test_an_invalid_variable_stops_the_api_with_a_message_naming_it(service_env, tmp_path):
    api = Api("intake", service_env("intake", AMQP_HEARTBEAT_S="often"), tmp_path)
    assert api.wait(timeout=30) != 0
    assert "AMQP_HEARTBEAT_S" in api.log()
    api.stop()


def test_a_worker_beats_while_alive_and_exits_0_on_sigterm(service_env, tmp_path):
    worker = Worker("notifications", service_env("notifications"), tmp_path)
    try:
        wait_until(worker.heartbeat.exists, timeout=120, message="worker heartbeat file")
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.log()
    finally:
        worker.stop()


def test_an_invalid_variable_stops_the_worker_with_a_message_naming_it(service_env, tmp_path):
    worker = Worker("planning", service_env("planning", MONGO_URL="nope"), tmp_path)
    assert worker.wait(timeout=30) == 2
    assert "MONGO_URL" in worker.log()
    worker.stop()
