"""What one accepted referral costs in MongoDB commands on the consumer path (counted, not timed):
the patient, the referral (with its events and dedup folded in) and the audit record."""

from __future__ import annotations

from dataclasses import replace

from services.intake.bootstrap import bootstrap
from services.intake.consumers import PartnerInbox
from shared.events import parse_event
from shared.mongo import Mongo
from testkit.mongo_commands import CommandCapture
from testkit.partner import cloud_event
from testkit.referrals import distinct_referral

WRITE_COMMANDS = {"insert", "update", "delete", "findAndModify"}


def delivered(tenant_id: str, data: dict, partner_id: str):
    event = parse_event(cloud_event(tenant_id, data, partner_id=partner_id))
    return replace(
        event, extra={"user_id": partner_id, "routing_key": f"{partner_id}.referral.requested"}
    )


def test_an_accepted_referral_for_a_new_patient_costs_three_writes_and_three_reads(settings, world):
    world.partner("acme-ehr", ["clinic-a"])
    recorder = CommandCapture()
    mongo = Mongo(settings, listeners=[recorder])
    inbox = PartnerInbox(bootstrap(settings, mongo))
    inbox.on_requested(
        delivered("clinic-a", distinct_referral(0), "acme-ehr")
    )  # warms the partner cache
    recorder.clear()

    assert inbox.on_requested(delivered("clinic-a", distinct_referral(1), "acme-ehr")) is True

    writes = [c for c in recorder.commands if c[0] in WRITE_COMMANDS]
    reads = [c for c in recorder.commands if c[0] not in WRITE_COMMANDS]
    assert writes == [("insert", "patients"), ("insert", "referrals"), ("insert", "audit")]
    assert sorted(reads) == [("find", "patients"), ("find", "referrals"), ("find", "tenants")]
    mongo.close()


def test_a_repeated_message_writes_only_its_audit_record(settings, world):
    world.partner("acme-ehr", ["clinic-a"])
    recorder = CommandCapture()
    mongo = Mongo(settings, listeners=[recorder])
    inbox = PartnerInbox(bootstrap(settings, mongo))
    event = delivered("clinic-a", distinct_referral(0), "acme-ehr")
    inbox.on_requested(event)
    recorder.clear()

    assert inbox.on_requested(event) is False
    assert [c for c in recorder.commands if c[0] in WRITE_COMMANDS] == [("insert", "audit")]
    mongo.close()
