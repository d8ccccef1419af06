"""The whole loop as its users meet it, through public interfaces only: a partner over AMQP, clinic
staff and ops over HTTP and the ops CLI, patients and referrers through the SMTP inbox. All six
service processes run for real; one worker is killed mid-flow, and nothing is lost or doubled."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from testkit.partner import PartnerSystem
from testkit.referrals import fhir_referral, resource
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.staff_forms import clear_intake_form, session_notes
from testkit.waiting import wait_until

FHIR = "application/fhir+json"
PATIENT_EMAIL = "maria.alvarez@example.com"
REFERRER_EMAIL = "d.chen@clinic.example.org"
STAFF_EMAIL = "front-desk@northside.example"


@pytest.fixture
def loop(system):
    return system


def clinic(stack: LocalStack, partner_id: str) -> tuple[str, dict, StaffClient]:
    """Ops set up a clinic with two locations, an admin key and a partner allowed to refer."""
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
        "--no-broker-user",  # PartnerSystem made its broker user
    )
    return tenant_id, tenant, StaffClient(stack.urls, admin_key)


def emails_to(inbox, address: str) -> list:
    return [mail for mail in inbox.mails if address in mail.to]


def test_a_referral_travels_the_whole_loop_once_even_when_a_worker_dies(loop, rabbit_admin, vhost):
    stack, inbox = loop
    partner = PartnerSystem(rabbit_admin, vhost)
    try:
        tenant_id, tenant, staff = clinic(stack, partner.partner_id)
        # The admin key reaches planning and notifications as events (their replicas).
        wait_until(
            lambda: staff.status_of("notifications", "/config") == 200,
            timeout=30,
            message="the admin key to reach notifications",
        )
        staff.put(
            "notifications", "/config", {"quiet_hours": None, "staff_emails": {"*": STAFF_EMAIL}}
        )
        wait_until(
            lambda: staff.status_of("planning", "/plans") == 200,
            timeout=30,
            message="the admin key to reach planning",
        )

        # A partner publishes a FHIR R4 referral as its own RabbitMQ user.
        bundle = fhir_referral()
        # Valid since a few days, so that a session held yesterday is covered.
        request = resource(bundle, "ServiceRequest")
        request["occurrencePeriod"]["start"] = (date.today() - timedelta(days=3)).isoformat()
        partner.refer(tenant_id, bundle, datacontenttype=FHIR)
        [status] = wait_until(
            lambda: [s for s in partner.statuses() if s["type"] == "referral.accepted"],
            timeout=30,
            message="the acceptance on the partner's status queue",
        )
        referral_id = status["data"]["referral_id"]
        referral = staff.get("intake", f"/referrals/{referral_id}")
        assert referral["status"] in ("accepted", "active")

        # The patient's welcome (with the intake link) and the referrer's acceptance, by email.
        [welcome] = wait_until(
            lambda: emails_to(inbox, PATIENT_EMAIL), timeout=30, message="the welcome"
        )
        link = re.search(r"https?://\S+/intake/\S+", welcome.text)
        assert link and link.group(0).startswith(stack.url("intake"))
        wait_until(
            lambda: emails_to(inbox, REFERRER_EMAIL),
            timeout=30,
            message="the referrer's acceptance",
        )

        # Kill planning's worker; staff record the intake while it is dead.
        stack.workers["planning"].kill()
        intake = staff.post("intake", "/intakes", clear_intake_form(referral_id), expect=201)
        assert intake["screening"]["outcome"] in ("clear", "modify", "local")
        stack.start_worker("planning")
        plan = wait_until(
            lambda: (
                (p := staff.get("planning", f"/plans?referral_id={referral_id}")["items"])
                and p[0]["status"] == "draft"
                and p[0]
            ),
            timeout=60,
            message="the drafted plan",
        )

        # Therapist's work: approve, schedule, treat with NPRS 7 -> 4, discharge.
        staff.post("planning", f"/plans/{plan['plan_id']}/approve", {"version": plan["version"]})
        location_id = tenant["locations"][0]["location_id"]
        yesterday = (
            datetime.combine(date.today() - timedelta(days=1), datetime.min.time())
            + timedelta(hours=10)
        ).strftime("%Y-%m-%dT%H:%M")
        session = staff.post(
            "planning",
            f"/plans/{plan['plan_id']}/sessions",
            {"therapist_id": "th-ada", "starts_at_local": yesterday, "location_id": location_id},
            expect=201,
        )
        staff.post(
            "planning",
            f"/plans/{plan['plan_id']}/sessions/{session['session_id']}/complete",
            session_notes([{"measure": "NPRS", "score": 4}]),
        )
        progress = staff.get("planning", f"/plans/{plan['plan_id']}/progress")
        nprs = next(m for m in progress["measures"] if m["measure"] == "NPRS")
        assert nprs["clinically_improved"] is True
        current = staff.get("planning", f"/plans/{plan['plan_id']}")
        staff.post(
            "planning", f"/plans/{plan['plan_id']}/complete", {"version": current["version"]}
        )

        # The referrer hears of the plan and of the discharge, with the outcome.
        def referrer_subjects() -> Counter:
            return Counter(mail.subject for mail in emails_to(inbox, REFERRER_EMAIL))

        wait_until(
            lambda: len(referrer_subjects()) >= 3,
            timeout=40,
            message="acceptance, plan summary and discharge report to the referrer",
        )
        discharge = [m for m in emails_to(inbox, REFERRER_EMAIL) if "NPRS" in m.text]
        assert discharge, "the discharge report carries the outcome trend"

        # Nothing doubled: one plan, every message once, the queues drained.
        assert staff.get("planning", f"/plans?referral_id={referral_id}")["total"] == 1
        message_ids = Counter(mail.message_id for mail in inbox.mails)
        assert all(n == 1 for n in message_ids.values()), message_ids
        assert len(emails_to(inbox, PATIENT_EMAIL)) == len(
            {m.subject for m in emails_to(inbox, PATIENT_EMAIL)}
        )
        log = staff.get("notifications", "/deliveries")["items"]
        assert not [d for d in log if d["status"] == "failed"], log
    except AssertionError:
        print(stack.logs())
        raise
    finally:
        partner.close()
