"""Fixtures shared by every test: the real local RabbitMQ (a fresh vhost per test) and MongoDB
(the stand-in, or MONGO_URL; a fresh database per test)."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator

import pymongo
import pytest

from shared.config import Settings, load_settings
from shared.token_keys import development_keys
from testkit import rabbit
from testkit.errors import StepFailed
from testkit.mongo import ROOT, MongoStandin
from testkit.rabbit import RabbitAdmin, amqp_url
from tests.support.service_env import process_env

# `make test-docker`: MongoDB 7 and RabbitMQ from docker-compose.yml, through pytest-docker.
DOCKER = os.environ.get("CLINIC_TEST_DOCKER") == "1"

if DOCKER:

    @pytest.fixture(scope="session")
    def docker_compose_file() -> list[str]:
        return [str(ROOT / "docker-compose.yml"), str(ROOT / "tests" / "docker-compose.ports.yml")]

    @pytest.fixture(scope="session")
    def docker_setup() -> list[str]:
        return ["up -d --wait mongo rabbitmq rabbitmq-init"]

    @pytest.fixture(scope="session", autouse=True)
    def _compose_broker(docker_services) -> None:
        password = os.environ.get("RABBITMQ_ADMIN_PASSWORD") or _env_file_value(
            "RABBITMQ_ADMIN_PASSWORD"
        )
        rabbit.MANAGEMENT_URL = f"http://admin:{password}@127.0.0.1:15672"
        rabbit.AMQP_BASE = f"amqp://admin:{password}@127.0.0.1:5672"


def _env_file_value(name: str) -> str:
    for line in (ROOT / ".env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError(f"{name} is not set in .env (make test-docker needs it)")


@pytest.fixture(scope="session")
def mongo_url(request) -> Iterator[str]:
    if DOCKER:
        request.getfixturevalue("docker_services")
        yield "mongodb://127.0.0.1:27117/?directConnection=true"
        return
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    standin = MongoStandin()
    try:
        yield standin.url
    finally:
        standin.stop()


@pytest.fixture
def mongo_db_name(mongo_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture(scope="session")
def rabbit_admin() -> RabbitAdmin:
    return RabbitAdmin(rabbit.MANAGEMENT_URL)


@pytest.fixture(scope="session")
def retired_vhosts(rabbit_admin: RabbitAdmin) -> Iterator[queue.SimpleQueue[str | None]]:
    """Vhosts done with, deleted by a thread of their own while the next tests run (a test's
    teardown does not wait on the broker); one the broker refused then (stopped by a test) is
    deleted again at the end of the session."""
    retired: queue.SimpleQueue[str | None] = queue.SimpleQueue()
    again: list[str] = []

    def delete_each() -> None:
        while (name := retired.get()) is not None:
            try:
                rabbit_admin.delete_vhost(name)
            except Exception:  # the broker away or slow: the thread goes on with the next one
                again.append(name)

    deleter = threading.Thread(target=delete_each, name="vhost-deleter", daemon=True)
    deleter.start()
    yield retired
    retired.put(None)
    deleter.join(timeout=120)
    for name in again:
        with contextlib.suppress(StepFailed):
            rabbit_admin.delete_vhost(name)


@pytest.fixture
def vhost(rabbit_admin: RabbitAdmin, retired_vhosts) -> Iterator[str]:
    name = rabbit_admin.create_vhost()
    yield name
    retired_vhosts.put(name)


@pytest.fixture(scope="session")
def token_keys(tmp_path_factory) -> dict[str, str]:
    """A staff-token key pair for the tests: `AUTH_SIGNING_PEM` and `AUTH_PUBLIC_PEMS`."""
    return dict(development_keys(tmp_path_factory.mktemp("auth-keys")))


@pytest.fixture
def make_settings(mongo_url: str, mongo_db_name: str, vhost: str, token_keys):
    """Settings for a service, pointed at this test's database and vhost (and the test keys)."""

    def make(service: str, **overrides) -> Settings:
        base = {
            "mongo_url": mongo_url,
            "mongo_db": f"{mongo_db_name}_{service}",
            "amqp_url": amqp_url(vhost),
            "auth_public_pems": token_keys["AUTH_PUBLIC_PEMS"],
        }
        if service == "intake":
            base["auth_signing_pem"] = token_keys["AUTH_SIGNING_PEM"]
        base.update(overrides)
        return load_settings(service, environ={}, overrides=base)

    return make


@pytest.fixture
def service_env(mongo_url: str, mongo_db_name: str, vhost: str, token_keys):
    """Environment variables for running a service as a real process against this test's stores."""

    def make(service: str, **extra: str) -> dict[str, str]:
        return process_env(service, mongo_url, mongo_db_name, vhost, token_keys, **extra)

    return make
