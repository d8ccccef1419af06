"""Static checks of the compose deployment (no Docker engine needed).

Validates docker-compose.yml against the Compose Specification JSON Schema and
checks the deployment invariants: healthchecks, start-up ordering, one non-root
application image, the MongoDB replica set, named volumes, no committed
secrets, the RabbitMQ definitions and the documented .env.example.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
RABBITMQ_DIR = REPO_ROOT / "deploy" / "rabbitmq"
DEFINITIONS_FILE = RABBITMQ_DIR / "definitions.json"
RABBITMQ_CONF = RABBITMQ_DIR / "rabbitmq.conf"
# The official Compose Specification schema lives next to the repository.
SCHEMA_FILE = REPO_ROOT.parent / "shared" / "schemas" / "compose-spec.json"
SCHEMA_ENV_VAR = "COMPOSE_SPEC_SCHEMA"

SERVICES = ("intake", "planning", "notifications")
APP_CONTAINERS = tuple(f"{svc}-{role}" for svc in SERVICES for role in ("api", "worker"))
API_PORTS = {"intake-api": 8001, "planning-api": 8002, "notifications-api": 8003}
APP_IMAGE = "clinic-backend:local"
VHOST = "clinic"
SERVICE_USERS = SERVICES
PARTNER_USER = "partner-example"
PARTNER_STATUS_QUEUE = "partner.partner-example.status"

SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY", re.IGNORECASE)
# A whole value that is one interpolation, e.g. ${X}, ${X:?msg}, ${X:-} (an
# empty default is fine; a non-empty default would be a committed secret).
SECRET_INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}$")
# ${VAR...} or $VAR, not preceded by a "$" escape.
INTERPOLATED_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:]+:(?P<password>[^@]*)@", re.IGNORECASE)


# --- loading -----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        document = yaml.safe_load(fh)
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    with DEFINITIONS_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def _compose_schema() -> dict[str, Any]:
    candidates = [SCHEMA_FILE]
    if os.environ.get(SCHEMA_ENV_VAR):
        candidates.append(Path(os.environ[SCHEMA_ENV_VAR]))
    for candidate in candidates:
        if candidate.is_file():
            with candidate.open(encoding="utf-8") as fh:
                return json.load(fh)
    pytest.fail(
        "Compose Specification JSON Schema not found: expected "
        f"{SCHEMA_FILE} (../shared/schemas/compose-spec.json from the repository root) "
        f"or a path in the {SCHEMA_ENV_VAR} environment variable",
        pytrace=False,
    )


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def _depends_on(service: dict[str, Any]) -> dict[str, Any]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short syntax: no condition
        return {name: {} for name in deps}
    return deps


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _interpolated_variables(document: Any) -> set[str]:
    found: set[str] = set()
    for text in _strings(document):
        text = text.replace("$$", "")  # "$$" is a literal dollar, not interpolation
        for braced, bare in INTERPOLATED_VAR.findall(text):
            found.add(braced or bare)
    return found


def _env_example() -> list[tuple[str, str, str | None]]:
    """(name, value, comment line just above) for every assignment."""
    entries = []
    previous = None
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if match:
            entries.append((match.group(1), match.group(2), previous))
        previous = line if line.startswith("#") else None
    return entries


def _permissions(definitions: dict[str, Any], user: str) -> dict[str, str]:
    matching = [
        p for p in definitions.get("permissions", []) if p["user"] == user and p["vhost"] == VHOST
    ]
    assert len(matching) == 1, f"expected one permission entry for {user!r} in vhost {VHOST!r}"
    return matching[0]


def _allows(regex: str, name: str) -> bool:
    # RabbitMQ treats an empty permission as "^$" and otherwise does an
    # unanchored search with the regex as written.
    return re.search(regex or "^$", name) is not None


def _init_user_passwords(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """user -> env var, from the rabbitmq-init command (USER=ENV_VAR pairs)."""
    command = services["rabbitmq-init"].get("command") or []
    assert isinstance(command, list), "rabbitmq-init command should be a list of USER=ENV_VAR"
    return dict(arg.split("=", 1) for arg in command)


# --- compose specification -----------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = _compose_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    messages = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
    assert not messages, "docker-compose.yml violates the Compose Specification:\n" + "\n".join(
        messages
    )


# --- health and start-up ordering -------------------------------------------------------


def test_every_service_has_a_healthcheck_or_is_an_awaited_one_shot(
    services: dict[str, dict[str, Any]],
) -> None:
    awaited_one_shots = {
        name
        for service in services.values()
        for name, dep in _depends_on(service).items()
        if dep.get("condition") == "service_completed_successfully"
    }
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        if healthcheck and not healthcheck.get("disable"):
            test = healthcheck.get("test")
            assert test and test not in (["NONE"], "NONE"), f"{name}: empty healthcheck test"
            continue
        assert name in awaited_one_shots, (
            f"{name} has no healthcheck and no service waits for it with service_completed_successfully"
        )
        assert service.get("restart", "no") == "no", f"one-shot {name} must not be restarted"


def test_every_depends_on_uses_a_condition(services: dict[str, dict[str, Any]]) -> None:
    allowed = {"service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dependency, spec in _depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert spec.get("condition") in allowed, (
                f"{name} -> {dependency}: depends_on needs condition service_healthy "
                "or service_completed_successfully"
            )
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (
                    f"{name} waits for {dependency} to be healthy but it has no healthcheck"
                )


def test_app_containers_wait_for_mongo_rabbitmq_and_the_rabbitmq_users(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in APP_CONTAINERS:
        deps = _depends_on(services[name])
        assert deps.get("mongo", {}).get("condition") == "service_healthy", name
        assert deps.get("rabbitmq", {}).get("condition") == "service_healthy", name
        assert deps.get("rabbitmq-init", {}).get("condition") == "service_completed_successfully", (
            name
        )


def test_api_containers_check_readiness_and_workers_check_their_heartbeat(
    services: dict[str, dict[str, Any]],
) -> None:
    for svc in SERVICES:
        api_test = " ".join(services[f"{svc}-api"]["healthcheck"]["test"])
        assert "127.0.0.1:8000/readyz" in api_test, f"{svc}-api healthcheck should probe /readyz"
        worker = services[f"{svc}-worker"]
        worker_test = " ".join(worker["healthcheck"]["test"])
        assert "WORKER_HEARTBEAT_FILE" in worker_test or "shared.healthcheck" in worker_test, (
            f"{svc}-worker healthcheck should test the heartbeat file"
        )
        assert _environment(worker).get("WORKER_HEARTBEAT_FILE"), (
            f"{svc}-worker: set WORKER_HEARTBEAT_FILE"
        )


def test_rabbitmq_healthcheck_pings_the_node(services: dict[str, dict[str, Any]]) -> None:
    rabbitmq = services["rabbitmq"]
    assert rabbitmq["image"].startswith("rabbitmq:3.13-management")
    assert "rabbitmq-diagnostics" in " ".join(rabbitmq["healthcheck"]["test"])


# --- application image ---------------------------------------------------------------


def test_the_six_app_containers_use_one_image_built_once(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(APP_CONTAINERS) <= set(services), "missing API/worker containers"
    images = {services[name].get("image") for name in APP_CONTAINERS}
    assert images == {APP_IMAGE}, f"app containers should all use {APP_IMAGE}, got {images}"
    builders = [name for name, service in services.items() if "build" in service]
    assert len(builders) == 1, f"exactly one service should build the image, got {builders}"
    assert services[builders[0]]["image"] == APP_IMAGE


def test_the_app_containers_run_the_expected_processes(services: dict[str, dict[str, Any]]) -> None:
    for svc in SERVICES:
        api_cmd = services[f"{svc}-api"]["command"]
        assert api_cmd == [
            "gunicorn",
            "-c",
            "python:shared.gunicorn_conf",
            f"services.{svc}.app:create_app()",
        ]
        assert services[f"{svc}-worker"]["command"] == ["python", "-m", f"services.{svc}.worker"]


def test_the_app_containers_run_as_non_root(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_CONTAINERS:
        user = str(services[name].get("user", ""))
        assert user, f"{name}: set user: to the unprivileged app user"
        assert user.split(":")[0] not in {"0", "root"}, f"{name} runs as root"
    dockerfile_users = re.findall(
        r"^\s*USER\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE
    )
    assert dockerfile_users, "Dockerfile should switch to an unprivileged USER"
    assert dockerfile_users[-1].split(":")[0] not in {"0", "root"}, (
        "Dockerfile's final USER is root"
    )


def test_api_ports_are_published_as_8001_8002_8003(services: dict[str, dict[str, Any]]) -> None:
    for name, host_port in API_PORTS.items():
        ports = [str(p) for p in services[name].get("ports", [])]
        assert any(p.endswith(f"{host_port}:8000") for p in ports), (
            f"{name} should publish {host_port}:8000"
        )
    for name in APP_CONTAINERS:
        if name.endswith("-worker"):
            assert not services[name].get("ports"), f"{name} should not publish ports"


# --- MongoDB ------------------------------------------------------------------------


def test_mongo_is_a_replica_set_initialised_in_its_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    mongo = services["mongo"]
    assert mongo["image"].startswith("mongo:7")
    command = mongo["command"]
    command = command if isinstance(command, list) else command.split()
    assert "--replSet" in command and command[command.index("--replSet") + 1] == "rs0"
    assert "--bind_ip_all" in command
    test = " ".join(mongo["healthcheck"]["test"])
    assert "mongosh" in test and "rs.status()" in test and "rs.initiate(" in test
    assert "_id:'rs0'" in test.replace(" ", "") and "mongo:27017" in test
    for name in APP_CONTAINERS:
        mongo_url = _environment(services[name])["MONGO_URL"]
        assert "replicaSet=rs0" in mongo_url and "mongo:27017" in mongo_url, name


# --- volumes ---------------------------------------------------------------------------


def test_volumes_are_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                kind, source = volume.get("type", "volume"), volume.get("source", "")
            else:
                kind, source = "volume", volume.split(":", 1)[0]
            assert kind == "volume", f"{name}: {volume!r} is not a named volume"
            assert source in declared, (
                f"{name}: {volume!r} should use a named volume declared under volumes:"
            )
    data_dirs = {"mongo": "/data/db", "rabbitmq": "/var/lib/rabbitmq"}
    for name, path in data_dirs.items():
        targets = [str(v).split(":")[1] for v in services[name].get("volumes", [])]
        assert path in targets, f"{name} should keep {path} on a named volume"


# --- secrets ---------------------------------------------------------------------------


def test_no_literal_secrets_in_the_compose_file(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in _environment(service).items():
            if value is None:
                continue
            value = str(value)
            if SECRET_NAME.search(key):
                assert SECRET_INTERPOLATION.match(value), (
                    f"{name}: {key} must be a ${{...}} interpolation without a default value, got {value!r}"
                )
            credentials = URL_CREDENTIALS.match(value)
            if credentials:
                assert SECRET_INTERPOLATION.match(credentials.group("password")), (
                    f"{name}: the password in {key} must be a ${{...}} interpolation"
                )


def test_rabbitmq_users_carry_no_usable_committed_password(definitions: dict[str, Any]) -> None:
    for user in definitions["users"]:
        assert "password" not in user, f"{user['name']}: no clear-text password in definitions"
        assert user.get("password_hash", "") == "", (
            f"{user['name']}: password_hash must be empty; rabbitmq-init sets the password from .env"
        )


def test_rabbitmq_init_sets_a_password_for_every_definitions_user(
    services: dict[str, dict[str, Any]], definitions: dict[str, Any]
) -> None:
    init = services["rabbitmq-init"]
    assert init["image"] == services["rabbitmq"]["image"]
    assert _depends_on(init)["rabbitmq"]["condition"] == "service_healthy"
    passwords = _init_user_passwords(services)
    users = {user["name"] for user in definitions["users"]}
    assert users == set(passwords), (
        f"rabbitmq-init users {sorted(passwords)} != definitions users {sorted(users)}"
    )
    env = _environment(init)
    for user, var in passwords.items():
        assert SECRET_INTERPOLATION.match(str(env.get(var, ""))), (
            f"rabbitmq-init: {var} (for {user}) must come from .env"
        )


# --- RabbitMQ definitions --------------------------------------------------------------


def test_rabbitmq_conf_loads_the_mounted_definitions(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    conf = RABBITMQ_CONF.read_text(encoding="utf-8")
    settings = dict(
        (key.strip(), value.strip())
        for key, value in (
            line.split("=", 1)
            for line in conf.splitlines()
            if "=" in line and not line.lstrip().startswith("#")
        )
    )
    path = settings.get("load_definitions") or settings.get("definitions.local.path")
    assert path, "rabbitmq.conf should load the definitions file"
    mounts = {}
    for entry in services["rabbitmq"].get("configs", []):
        mounts[entry["target"]] = compose["configs"][entry["source"]]["file"]
    assert path in mounts, f"rabbitmq.conf loads {path} but compose does not mount a file there"
    assert Path(mounts[path]).name == DEFINITIONS_FILE.name
    conf_mount = [
        target for target, file in mounts.items() if Path(file).name == RABBITMQ_CONF.name
    ]
    assert conf_mount == ["/etc/rabbitmq/rabbitmq.conf"]


def test_definitions_declare_the_clinic_vhost_and_the_four_users(
    definitions: dict[str, Any],
) -> None:
    vhosts = {vhost["name"]: vhost for vhost in definitions["vhosts"]}
    assert VHOST in vhosts
    users = {user["name"] for user in definitions["users"]}
    assert {*SERVICE_USERS, PARTNER_USER} <= users
    for user in (*SERVICE_USERS, PARTNER_USER):
        _permissions(definitions, user)


def test_partner_user_cannot_configure_and_writes_only_to_partner_referrals(
    definitions: dict[str, Any],
) -> None:
    perms = _permissions(definitions, PARTNER_USER)
    assert perms["configure"] in ("", "^$"), "the partner user must not configure anything"
    other_names = [
        "partner.status",
        "partner.referrals.x",
        "xpartner.referrals",
        PARTNER_STATUS_QUEUE,
        "partner.other-partner.status",
        "intake.events",
        "intake.partner-referrals",
        "planning.events",
        "notifications.events",
        "dlx",
        "amq.default",
    ]
    assert _allows(perms["write"], "partner.referrals")
    for name in other_names:
        assert not _allows(perms["write"], name), f"the partner user may write to {name}"
    assert _allows(perms["read"], PARTNER_STATUS_QUEUE)
    for name in [n for n in other_names if n != PARTNER_STATUS_QUEUE] + ["partner.referrals"]:
        assert not _allows(perms["read"], name), f"the partner user may read {name}"


def test_service_users_are_confined_to_their_own_names(definitions: dict[str, Any]) -> None:
    for svc in SERVICE_USERS:
        perms = _permissions(definitions, svc)
        own_queue, own_exchange = f"{svc}.some-purpose", f"{svc}.events"
        for name in (own_queue, f"{own_queue}.dlq", f"{own_queue}.retry", own_exchange, "dlx"):
            assert _allows(perms["configure"], name), f"{svc} cannot declare {name}"
        assert _allows(perms["write"], own_exchange) and _allows(perms["write"], "dlx")
        assert _allows(perms["write"], own_queue), f"{svc} cannot bind its queue {own_queue}"
        assert _allows(perms["read"], own_queue)
        for other in (s for s in SERVICE_USERS if s != svc):
            for name in (f"{other}.events", f"{other}.some-purpose"):
                assert not _allows(perms["configure"], name), f"{svc} may configure {name}"
                assert not _allows(perms["write"], name), f"{svc} may write to {name}"
            assert not _allows(perms["read"], f"{other}.some-purpose"), (
                f"{svc} may consume {other}'s queues"
            )
        assert not _allows(perms["write"], "amq.default"), (
            f"{svc} may publish to any queue via the default exchange"
        )
        assert not _allows(perms["write"], "partner.referrals"), (
            f"{svc} may forge partner referrals"
        )
        assert not _allows(perms["read"], PARTNER_STATUS_QUEUE), (
            f"{svc} may consume a partner's status queue"
        )
    intake = _permissions(definitions, "intake")
    assert _allows(intake["configure"], "partner.status") and _allows(
        intake["write"], "partner.status"
    )
    assert _allows(intake["read"], "partner.referrals")


def test_partner_status_queue_and_binding_are_declared(definitions: dict[str, Any]) -> None:
    exchanges = {(x["vhost"], x["name"]): x for x in definitions["exchanges"]}
    for name in ("partner.referrals", "partner.status"):
        exchange = exchanges[(VHOST, name)]
        assert exchange["type"] == "topic" and exchange["durable"] is True, name
    queues = {(q["vhost"], q["name"]): q for q in definitions["queues"]}
    queue = queues[(VHOST, PARTNER_STATUS_QUEUE)]
    assert queue["durable"] is True
    assert queue["arguments"].get("x-queue-type") == "quorum"
    assert any(
        b["vhost"] == VHOST
        and b["source"] == "partner.status"
        and b["destination"] == PARTNER_STATUS_QUEUE
        and b["destination_type"] == "queue"
        and b["routing_key"].startswith(f"{PARTNER_USER}.")
        for b in definitions["bindings"]
    ), "bind the partner status queue to partner.status with <partner_id>.#"


# --- .env.example ----------------------------------------------------------------------


def test_env_example_lists_every_interpolated_variable(compose: dict[str, Any]) -> None:
    listed = {name for name, _, _ in _env_example()}
    missing = _interpolated_variables(compose) - listed
    assert not missing, f".env.example does not list: {sorted(missing)}"


def test_env_example_documents_every_variable_with_placeholder_secrets() -> None:
    entries = _env_example()
    assert entries, ".env.example is empty"
    names = [name for name, _, _ in entries]
    assert len(names) == len(set(names)), ".env.example lists a variable twice"
    for name, value, comment in entries:
        assert comment, f".env.example: document {name} with a comment on the line above"
        if SECRET_NAME.search(name):
            assert value == "" or value.startswith("change-me"), (
                f".env.example: {name} must be a change-me... placeholder, not a real value"
            )
