"""The broker's queue length limits: one definition (`shared.events.policies`), the same in the
compose broker's definitions file, never an overflow that drops messages."""

import json
import re
from pathlib import Path

from shared.events import policies, topology

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_broker_definitions_carry_exactly_these_policies():
    definitions = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text())
    vhost = definitions["vhosts"][0]["name"]
    expected = [p.definitions_entry(vhost) for p in policies.policies()]
    assert definitions["policies"] == expected


def test_every_policy_limits_length_and_bytes_and_makes_publishers_wait():
    for policy in policies.policies():
        assert policy.definition["overflow"] == "reject-publish", policy.name
        assert policy.definition["max-length"] > 0 and policy.definition["max-length-bytes"] > 0


def _policy_of(queue: str) -> list[str]:
    return [p.name for p in policies.policies() if re.search(p.pattern, queue)]


def test_each_kind_of_queue_gets_exactly_one_policy_and_taps_none():
    queue = "planning.intake-events"
    assert _policy_of(queue) == ["service-queues"]
    assert _policy_of(topology.retry_queue_name(queue, 30000)) == ["retry-queues"]
    assert _policy_of(topology.dlq_name(queue)) == ["dead-letter-queues"]
    assert _policy_of("partner.acme-ehr.status") == ["partner-status-queues"]
    assert _policy_of("test.tap.intake.events") == []


def test_partner_statuses_expire_after_14_days():
    by_name = {p.name: p.definition for p in policies.policies()}
    assert by_name["partner-status-queues"]["message-ttl"] == 14 * 24 * 3600 * 1000
