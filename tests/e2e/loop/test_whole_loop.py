"""The whole loop as its users meet it, through public interfaces only: a partner over AMQP, clinic
staff and ops over HTTP and the ops CLI, patients, referrers and staff through the SMTP inbox.
All the service processes run for real; planning's worker is killed INSIDE its handler of the
intake (after the plan is saved, before the ack: a pause point), and nothing is lost or doubled:
every mailbox gets exactly the messages it should, each once by content (a doubled email with
a new Message-ID fails)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from testkit.clinics import STAFF_EMAIL, open_clinic
from testkit.partner import PartnerSystem
from testkit.pause import PausePoint
from testkit.rabbit import ready_messages
from testkit.referrals import fhir_referral, resource
from testkit.staff_forms import clear_intake_form, session_notes
from testkit.waiting import wait_until

FHIR = "application/fhir+json"
PATIENT_EMAIL = "maria.alvarez@example.com"
REFERRER_EMAIL = "d.chen@clinic.example.org"


@pytest.fixture
def loop(system):
    return system


# What each mailbox gets in the loop, each message exactly once: the patient the welcome (with
# the intake link); the referrer the acceptance, the plan summary and the discharge report; the
# clinic's staff the notice of the new referral.
EXPECTED_MAILS = {PATIENT_EMAIL: 1, REFERRER_EMAIL: 3, STAFF_EMAIL: 1}


def emails_to(inbox, address: str) -> list:
    return [mail for mail in inbox.mails if address in mail.to]


def mailbox_inventory(inbox) -> list[tuple[tuple[str, ...], str, str]]:
    """Every message received: recipients, subject, Message-ID (for a failure's message)."""
    return [(mail.to, mail.subject, mail.message_id) for mail in inbox.mails]


def test_a_referral_travels_the_whole_loop_once_even_when_a_worker_dies(loop, rabbit_admin, vhost):
    stack, inbox = loop
    partner = PartnerSystem(rabbit_admin, vhost)
    try:
        opened = open_clinic(stack, partner.partner_id)  # the admin key reached every service
        tenant_id, tenant, staff = opened.tenant_id, opened.tenant, opened.staff

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

        # Planning's worker dies inside its handler of the intake: the plan is saved, the
        # message not acked. The broker redelivers it to the next worker, which skips it.
        pause = PausePoint("consumer.before_ack:intake.completed", stack.log_dir)
        stack.restart_worker("planning", **pause.env())
        intake = staff.post("intake", "/intakes", clear_intake_form(referral_id), expect=201)
        assert intake["screening"]["outcome"] in ("clear", "modify", "local")
        pause.wait()
        stack.workers["planning"].kill()
        wait_until(
            lambda: ready_messages(stack.amqp_url, "planning.intake-events") >= 1,
            timeout=30,
            message="the unacked intake.completed back in planning's queue",
        )
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

        # Nothing doubled: one plan, and every mailbox gets exactly what it should, once.
        assert staff.get("planning", f"/plans?referral_id={referral_id}")["total"] == 1
        wait_until(
            lambda: (
                not [
                    d
                    for d in staff.get("notifications", "/deliveries?page_size=100")["items"]
                    if d["status"] in ("queued", "deferred")
                ]
            ),
            timeout=30,
            message="every delivery sent",
        )
        counts = {address: len(emails_to(inbox, address)) for address in EXPECTED_MAILS}
        assert counts == EXPECTED_MAILS, mailbox_inventory(inbox)
        by_content = Counter((mail.to, mail.subject, mail.text, mail.html) for mail in inbox.mails)
        assert all(n == 1 for n in by_content.values()), mailbox_inventory(inbox)
        assert len({mail.message_id for mail in inbox.mails}) == len(inbox.mails)
        log = staff.get("notifications", "/deliveries?page_size=100")["items"]
        assert not [d for d in log if d["status"] == "failed"], log
    except AssertionError:
        print(stack.logs())
        raise
    finally:
        partner.close()
