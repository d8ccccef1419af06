"""A clinic set up on a `LocalStack` as ops and its admin would, and referrals sent to it by a
partner over AMQP: for the end-to-end tests that need a referral to work on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from testkit.partner import Partner, answered_reference, referral_id_of
from testkit.referrals import native_referral
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.waiting import wait_until

STAFF_EMAIL = "front-desk@northside.example"


@dataclass
class Clinic:
    tenant_id: str
    tenant: dict[str, Any]
    staff: StaffClient  # the clinic's admin key on the three APIs


def open_clinic(stack: LocalStack, partner_id: str, staff_email: str = STAFF_EMAIL) -> Clinic:
    """Ops set up a clinic with two locations, an admin key and a partner allowed to refer; the
    key reaches planning and notifications (their replicas); failure notices go to
    `staff_email`, at any hour."""
    tenant = stack.ops(
        "create-tenant",
        "--name",
        "Northside Massage",
        "--id",
        f"northside-{uuid.uuid4().hex[:6]}",
        "--location",
        "Main:America/New_York",
        "--location",
        "Uptown:America/Chicago",
    )
    tenant_id = tenant["tenant_id"]
    admin_key = stack.ops(
        "create-key", "--tenant", tenant_id, "--role", "admin", "--name", "Ada Admin"
    )["key"]
    stack.ops(
        "create-partner",
        "--id",
        partner_id,
        "--name",
        "Referral Network",
        "--tenant",
        tenant_id,
        "--no-broker-user",  # the partner's broker user is made by testkit.partner.PartnerSystem
    )
    staff = StaffClient(stack.urls, admin_key)
    for service, path in (("notifications", "/config"), ("planning", "/plans")):
        wait_until(
            lambda s=service, p=path: staff.status_of(s, p) == 200,
            timeout=60,
            message=f"the admin key to reach {service}",
        )
    staff.put("notifications", "/config", {"quiet_hours": None, "staff_emails": {"*": staff_email}})
    return Clinic(tenant_id, tenant, staff)


def new_patient(tag: str) -> dict[str, Any]:
    """A patient of the native example's shape, made unique by `tag` (names, MRN, email)."""
    patient = native_referral()["patient"]
    return {
        **patient,
        "identifiers": [{"system": "urn:test:mrn", "value": f"MRN-{tag}"}],
        "given_name": f"Quentin{tag}",
        "family_name": f"Zabriskie{tag}",
        "email": f"patient-{tag.lower()}@example.org",
        "phone": None,
    }


def accepted_referral(
    partner: Partner, clinic: Clinic, patient: dict[str, Any], timeout: float = 60, **changes: Any
) -> str:
    """The partner refers `patient` (native form, with `changes`); the clinic's referral id
    once accepted."""
    referral = native_referral(patient=patient, **changes)
    partner.refer(clinic.tenant_id, referral)
    reference = referral["partner_referral_id"]
    answers = ("referral.accepted", "referral.rejected")
    status = wait_until(
        lambda: next(
            (
                s
                for s in partner.statuses()
                if answered_reference(s) == reference and s["type"] in answers
            ),
            None,
        ),
        timeout=timeout,
        message=f"the answer to referral {reference}",
    )
    assert status["type"] == "referral.accepted", status
    referral_id = referral_id_of(status)
    assert referral_id, status
    return referral_id
