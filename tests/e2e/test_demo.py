"""`make demo` proven in CI: the demo's loop, run against the services as real processes (a
fresh vhost and fresh databases), with an in-memory SMTP inbox in place of the Maildir."""

from __future__ import annotations

import mailbox
import uuid
from email.message import EmailMessage

import pytest

from testkit import rabbit
from testkit.processes import free_port
from testkit.smtp import Inbox, MaildirSource, SmtpInbox
from testkit.stack import SERVICES
from testkit.staff_accounts import StaffAccounts
from tools.demo.demo import StackDown, run_demo


@pytest.fixture
def stack(system):
    return system


@pytest.fixture
def partner_id(rabbit_admin):
    name = f"demo-partner-{uuid.uuid4().hex[:8]}"
    yield name
    rabbit_admin.delete_user(name)


def test_the_demo_walks_one_referral_through_the_whole_loop(stack, partner_id):
    local, inbox = stack
    printed: list[str] = []
    env = {**local.env("intake"), "RABBITMQ_MANAGEMENT_URL": rabbit.MANAGEMENT_URL}

    try:
        result = run_demo(
            {**{service: local.url(service) for service in SERVICES}, "console": local.console_url},
            env,
            inbox,
            printed.append,
            partner_id=partner_id,
        )
    except Exception:
        print("\n".join(printed), "\n", local.logs())
        raise

    assert result.intake_link.startswith(local.url("intake"))
    assert result.screening == "modify"
    assert result.plan_status == "completed"
    nprs = next(m for m in result.progress if m["measure"] == "NPRS")
    assert (nprs["baseline"], nprs["latest"], nprs["clinically_improved"]) == (7, 4, True)
    to_referrer = [subject for to, subject in result.emails if to == "d.chen@clinic.example.org"]
    for report in ("accepted by", "Plan of care", "Progress report", "Discharge report"):
        assert sum(report in subject for subject in to_referrer) == 1, to_referrer
    assert result.deliveries[("patient_session_reminder", "sent")] == 1
    assert result.deliveries[("patient_welcome", "sent")] == 1
    assert result.steps == [
        "clinic",
        "staff keys",
        "partner",
        "notifications",
        "referral",
        "accepted",
        "welcome email",
        "intake",
        "plan drafted",
        "approved",
        "sessions",
        "session done",
        "reminder",
        "discharged",
        "delivery log",
        "console",
    ]
    assert len(printed) > len(result.steps)
    login = result.sign_in  # what `make demo` prints works, through the console's own API calls
    assert login["console"] == local.console_url
    accounts = StaffAccounts(local.url("intake"))
    answer = accounts.session.post(
        f"{local.url('intake')}/auth/sign-in",
        json={"clinic": login["clinic"], "email": login["email"], "password": login["password"]},
        timeout=30,
    ).json()
    assert answer["status"] == "second_factor_required"
    signed_in = accounts.session.post(
        f"{local.url('intake')}/auth/sign-in/second-factor",
        json={"challenge": answer["challenge"], "recovery_code": login["recovery_codes"][0]},
        timeout=30,
    ).json()
    assert signed_in["scope"] == "all"


def test_the_demo_says_which_service_does_not_answer_when_the_stack_is_down():
    urls = {service: f"http://127.0.0.1:{free_port()}" for service in SERVICES}

    with pytest.raises(StackDown) as down:
        run_demo(urls, {}, SmtpInbox(), print)

    assert down.value.problems == [f"{s} does not answer at {urls[s]}" for s in SERVICES]


def email_to(address: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["To"], message["Subject"] = address, subject
    message.set_content(text)
    return bytes(message)


def test_the_maildir_source_reads_what_the_dev_smtp_server_kept_since_the_demo_began(tmp_path):
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(email_to("old@example.org", "Before the run", "old"))
    inbox = Inbox(MaildirSource(tmp_path / "mail"))
    box.add(email_to("maria@example.com", "Bienvenida a la clínica", "https://x.example/i/1"))
    box.add(email_to("dr@example.org", "Discharge report", "done"))

    assert [(m.to, m.subject, m.text.strip()) for m in inbox.new()] == [
        (("maria@example.com",), "Bienvenida a la clínica", "https://x.example/i/1"),
        (("dr@example.org",), "Discharge report", "done"),
    ]
    assert [m.subject for m in inbox.to("dr@example.org", "discharge")] == ["Discharge report"]
