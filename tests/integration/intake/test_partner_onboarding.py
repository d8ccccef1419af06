"""Partner onboarding in one command, against the real RabbitMQ: `create-partner` makes the
partner's broker user with least privilege and its status queue and prints the password once; the
partner can publish under its own routing keys and read its own queue, and nothing else;
`rotate-partner-secret` and `disable-partner` take the old access away."""

from __future__ import annotations

import json

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection

from services.intake import cli
from services.intake.repository import indexes
from testkit import rabbit
from testkit.partner import Partner, cloud_event
from testkit.referrals import native_referral
from testkit.staff import bearer
from testkit.waiting import wait_until


@pytest.fixture
def ops_settings(make_settings):
    return make_settings("intake", rabbitmq_management_url=rabbit.MANAGEMENT_URL)


@pytest.fixture
def ops(ops_settings, world, capsys, rabbit_admin):
    made: list[str] = []

    def run(*argv: str) -> dict:
        code = cli.main(list(argv), settings=ops_settings)
        out, err = capsys.readouterr()
        assert code == 0, err
        if argv[0] == "create-partner":
            made.append(argv[argv.index("--id") + 1])
        return json.loads(out)

    yield run
    for partner_id in made:
        rabbit_admin.delete_user(partner_id)


@pytest.fixture
def exchanges(ops_settings):
    """The partner exchange exists (the intake worker declares it; the partner may not)."""
    with Connection(ops_settings.amqp_url) as conn:
        conn.default_channel.exchange_declare("partner.referrals", "topic", durable=True)


def as_partner(partner_id: str, password: str, vhost: str) -> Partner:
    return Partner(partner_id, rabbit.with_user(rabbit.amqp_url(vhost), partner_id, password))


def test_a_partner_made_with_one_command_publishes_and_reads_its_own_queue_only(
    ops, world, vhost, rabbit_admin, exchanges
):
    acme = ops("create-partner", "--id", "acme-ehr", "--name", "Acme", "--tenant", "clinic-a")
    other = ops("create-partner", "--id", "other-ehr", "--name", "Other", "--tenant", "clinic-a")

    assert acme["amqp_password"] and acme["status_queue_declared"] is True
    stored = world.db[indexes.PARTNERS].find_one({"_id": "acme-ehr"})
    assert acme["amqp_password"] not in json.dumps(stored, default=str)  # shown once, never kept
    queue = rabbit_admin.queue(vhost, "partner.acme-ehr.status")
    assert queue["arguments"] == {"x-queue-type": "quorum"}
    partner = as_partner("acme-ehr", acme["amqp_password"], vhost)
    try:
        partner.refer("clinic-a", native_referral())  # confirmed: its own routing key
        assert partner.take_status() == []  # it may read its own queue
        with pytest.raises(AccessRefused):
            partner.connection.channel().basic_get("partner.other-ehr.status", no_ack=True)
        with pytest.raises(AccessRefused):
            partner.publish(
                cloud_event("clinic-a", native_referral()),
                routing_key="other-ehr.referral.requested",
            )
        with pytest.raises(AccessRefused):
            partner.connection.channel().queue_declare("partner.acme-ehr.mine", durable=True)
    finally:
        partner.close()
    assert other["amqp_password"] != acme["amqp_password"]


def test_a_rotated_secret_closes_the_old_connections_and_the_old_password_fails(
    ops, world, vhost, rabbit_admin, exchanges
):
    first = ops("create-partner", "--id", "acme-ehr", "--name", "Acme", "--tenant", "clinic-a")
    old = as_partner("acme-ehr", first["amqp_password"], vhost)
    old.connection.connect()
    wait_until(
        lambda: any(c.get("user") == "acme-ehr" for c in rabbit_admin.connections(vhost)),
        timeout=10,
        message="the partner's connection",
    )

    rotated = ops("rotate-partner-secret", "--partner", "acme-ehr")

    assert rotated["connections_closed"] >= 1 and rotated["amqp_password"] != first["amqp_password"]
    with (
        pytest.raises(AccessRefused),
        Connection(
            rabbit.with_user(rabbit.amqp_url(vhost), "acme-ehr", first["amqp_password"])
        ) as conn,
    ):
        conn.connect()
    fresh = as_partner("acme-ehr", rotated["amqp_password"], vhost)
    try:
        fresh.refer("clinic-a", native_referral())
    finally:
        fresh.close()


def test_a_disabled_partner_has_no_broker_user_and_its_referrals_are_refused(
    ops, world, vhost, client, exchanges
):
    made = ops("create-partner", "--id", "acme-ehr", "--name", "Acme", "--tenant", "clinic-a")
    key = world.key("clinic-a", "partner", partner_id="acme-ehr")

    disabled = ops("disable-partner", "--partner", "acme-ehr")

    assert disabled["disabled"] is True
    with (
        pytest.raises(AccessRefused),
        Connection(
            rabbit.with_user(rabbit.amqp_url(vhost), "acme-ehr", made["amqp_password"])
        ) as conn,
    ):
        conn.connect()
    response = client.post(
        "/referrals", data=json.dumps(native_referral()), content_type="application/json",
        headers=bearer(key),
    )  # fmt: skip
    assert response.status_code == 403
    assert world.count(indexes.REFERRALS) == 0


def test_without_a_management_url_create_partner_records_nothing(settings, world, capsys):
    code = cli.main(["create-partner", "--id", "acme-ehr", "--name", "Acme"], settings=settings)
    assert code == 1 and "RABBITMQ_MANAGEMENT_URL" in capsys.readouterr().err
    assert world.count(indexes.PARTNERS) == 0
