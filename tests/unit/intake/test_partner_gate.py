"""The gate of partner messages (pure), and what the AMQP use case does past it."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from services.intake.bootstrap import Deps
from services.intake.domain.partner_gate import may_refer, refusal
from services.intake.usecases import partner_referrals, referrals
from services.intake.usecases.partner_referrals import PartnerMessage
from shared.cache import TtlCache
from shared.config import load_settings
from shared.errors import ConcurrentChange

ACME = {"_id": "acme-ehr", "tenants": ["clinic-a"]}
DISABLED = {**ACME, "disabled": True}
EXAMPLE = resources.files("services.intake.partner_forms") / "examples" / "referral_native.json"


@pytest.mark.parametrize(
    ("user_id", "routing_key", "tenant_id", "partner", "field"),
    [
        (None, "acme-ehr.referral.requested", "clinic-a", None, "user_id"),
        ("stranger", "stranger.referral.requested", "clinic-a", None, "user_id"),
        ("acme-ehr", "other.referral.requested", "clinic-a", ACME, "routing_key"),
        ("acme-ehr", "acme-ehr.referral.requested", "clinic-b", ACME, "tenantid"),
        ("acme-ehr", "acme-ehr.referral.requested", "clinic-a", DISABLED, "user_id"),
    ],
    ids=["no-user-id", "unknown-partner", "foreign-routing-key", "clinic-not-allowed", "disabled"],
)
def test_the_gate_refuses_with_one_reason_naming_the_field(
    user_id, routing_key, tenant_id, partner, field
):
    reason = refusal(user_id, routing_key, "referral.requested", tenant_id, partner)
    assert reason is not None and reason["field"] == field and reason["message"]


def test_a_known_partner_routed_under_its_id_for_an_allowed_clinic_passes():
    assert (
        refusal("acme-ehr", "acme-ehr.referral.requested", "referral.requested", "clinic-a", ACME)
        is None
    )
    assert (
        may_refer(ACME, "clinic-a") and not may_refer(ACME, "clinic-b") and not may_refer(None, "x")
    )
    assert not may_refer(DISABLED, "clinic-a")


def test_a_referral_that_kept_changing_is_raised_for_a_retry_never_refused(monkeypatch):
    """ConcurrentChange is a Conflict: it must not be answered as the partner's fault."""

    def kept_changing(*_args, **_kwargs):
        raise ConcurrentChange("the referral kept changing")

    monkeypatch.setattr(referrals, "receive", kept_changing)
    deps = Deps(load_settings("intake", environ={}), None, TtlCache({"acme-ehr": ACME}.get, 10))
    native = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    native.pop("tenant_id", None)
    message = PartnerMessage(
        key="amqp-source/1",
        answers={"id": "1", "source": "amqp-source"},
        user_id="acme-ehr",
        routing_key="acme-ehr.referral.requested",
        type="referral.requested",
        tenant_id="clinic-a",
        content_type="application/json",
        data=native,
    )
    with pytest.raises(ConcurrentChange):  # a refusal would first write to deps.db (None here)
        partner_referrals.refer(deps, message)
