"""`make demo`: one referral through the whole loop, on top of a running `make run`.

    make run     # in one terminal
    make demo    # in another

Sets up a clinic group (two locations), its staff and a partner, publishes a FHIR R4 referral as
the partner, and walks the loop through the public interfaces only: the partner's status queue,
the welcome email, the intake and its screening, the plan, sessions and a reminder, progress,
discharge and the reports to the referrer. Each run uses a fresh clinic (tenant), so it can be
run again and again. The emails are in var/mail/new/ (one file per message).

The core is `run_demo(urls, env, mail, printer)`, which tests/e2e/test_demo.py runs against a
stack of its own.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import requests

from shared.config import load_settings
from testkit.errors import StepFailed
from testkit.ops import OpsCli
from testkit.partner import FHIR, Partner
from testkit.processes import ROOT
from testkit.rabbit import RabbitAdmin, management_url, vhost_of, with_user
from testkit.smtp import Inbox, Mail, MaildirSource, MailSource
from testkit.stack import readiness_problems
from testkit.staff import StaffClient as Staff
from testkit.staff_accounts import StaffAccounts
from testkit.waiting import wait_until
from tools.demo import data

URLS = {
    "intake": "http://127.0.0.1:8001",
    "planning": "http://127.0.0.1:8002",
    "notifications": "http://127.0.0.1:8003",
    "console": "http://127.0.0.1:8004",
}
PARTNER_ID = "demo-referral-network"
UPCOMING_SESSION_IN = timedelta(seconds=75)  # the email reminder is due 1 minute before


@dataclass
class DemoResult:
    """What the run did, for the test to check."""

    tenant_id: str
    location_ids: dict[str, str] = field(default_factory=dict)  # display name -> id
    partner_referral_id: str = ""  # the partner's id of the referral
    referral_id: str = ""  # the clinic's
    patient_id: str = ""
    plan_id: str = ""
    intake_link: str = ""
    screening: str = ""
    plan_status: str = ""
    progress: list[dict[str, Any]] = field(default_factory=list)
    emails: list[tuple[str, str]] = field(default_factory=list)  # (to, subject)
    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (template, status)
    steps: list[str] = field(default_factory=list)  # the titles of the steps shown
    sign_in: dict[str, Any] = field(default_factory=dict)  # the console sign-in it leaves

    @property
    def treating_location(self) -> str:
        return self.location_ids[data.TREATING_LOCATION]


class Narrator:
    """Numbered steps, one headline each, details indented under it."""

    def __init__(self, printer: Callable[[str], None]) -> None:
        self.printer = printer
        self.titles: list[str] = []

    def step(self, title: str, headline: str, *details: str) -> None:
        self.titles.append(title)
        self.printer(f"{len(self.titles):>2}. {title:<14} {headline}")
        for line in details:
            self.printer(f"    {'':<14} {line}")


def run_demo(
    urls: Mapping[str, str],
    env: Mapping[str, str],
    mail: MailSource,
    printer: Callable[[str], None] = print,
    partner_id: str = PARTNER_ID,
) -> DemoResult:
    """The whole loop; `env` is the intake service's environment (MongoDB, AMQP_URL)."""
    problems = readiness_problems(urls)  # the console too, when it is among them
    if problems:
        raise StackDown(problems)
    say, inbox, ops = Narrator(printer), Inbox(mail), OpsCli(env)
    run = secrets.token_hex(2)
    result = DemoResult(tenant_id=f"harbor-{datetime.now(UTC):%m%d-%H%M}-{run}")
    result.steps = say.titles
    staff = set_up_clinic(say, ops, urls, result, run)
    partner = set_up_partner(say, ops, env, partner_id, result.tenant_id)
    try:
        configure_notifications(say, staff["admin"], result)
        refer(say, partner, result)
        accepted(say, partner, staff["front_desk"], inbox, result)
        intake(say, staff["front_desk"], result)
        plan = drafted_and_approved(say, staff["therapist"], inbox, result)
        upcoming = schedule(say, staff["front_desk"], plan)
        treat(say, staff["therapist"], plan, inbox, result)
        reminded(say, inbox, upcoming)
        discharge(say, staff["therapist"], inbox, result)
        delivery_log(say, staff["admin"], inbox, result)
        console_sign_in(say, ops, urls, result)
    finally:
        partner.close()
    return result


class DemoError(StepFailed):
    """A step did not happen as it should; the message says what and where to look."""


def wait_for[T](what: str, condition: Callable[[], T], timeout: float = 45.0) -> T:
    """`condition`'s first truthy answer; a failure naming `what` at the deadline."""
    return wait_until(condition, timeout=timeout, interval=0.25, message=what)


class StackDown(DemoError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("the stack is not running or not ready: " + "; ".join(problems))
        self.problems = problems


# --- set-up ----------------------------------------------------------------------------------


def set_up_clinic(
    say: Narrator, ops: OpsCli, urls: Mapping[str, str], result: DemoResult, run: str
) -> dict[str, Staff]:
    # Location ids are derived from names and must be unique per run: planning's and
    # notifications' location replicas are keyed by location id alone (see the report of
    # issue 8). The admin then gives each location its display name and address.
    tenant = ops(
        "create-tenant",
        "--name",
        data.CLINIC_NAME,
        "--id",
        result.tenant_id,
        *[
            arg
            for name, (tz, _) in data.LOCATIONS.items()
            for arg in ("--location", f"{name} {run}:{tz}")
        ],
    )
    result.location_ids = {
        name: location["location_id"]
        for name, location in zip(data.LOCATIONS, tenant["locations"], strict=True)
    }
    staff: dict[str, Staff] = {}
    for role, name, limited in data.STAFF:
        limits = ["--location", result.treating_location] if limited else []
        key = ops(
            "create-key", "--tenant", result.tenant_id, "--role", role, "--name", name, *limits
        )
        staff[role] = Staff(urls, key["key"], name)
    for name, (tz, address) in data.LOCATIONS.items():
        staff["admin"].put(
            "intake",
            f"/admin/locations/{result.location_ids[name]}",
            {"name": name, "timezone": tz, "address": address, "rooms": data.ROOMS},
        )
    say.step(
        "clinic",
        f"{tenant['name']} (tenant {result.tenant_id}), by the intake ops CLI",
        "locations: "
        + ", ".join(
            f"{location_id} ({data.LOCATIONS[name][0]})"
            for name, location_id in result.location_ids.items()
        ),
        "named, given addresses and rooms by the admin (PUT /admin/locations/{id})",
    )
    for member in staff.values():  # the keys reach planning and notifications as events
        wait_for(
            f"planning and notifications to accept {member.who}'s key",
            functools.partial(accepted_everywhere, member),
        )
    say.step(
        "staff keys",
        f"admin, front desk, therapist ({data.TREATING_LOCATION} only), by the intake ops CLI",
        "planning and notifications accept them (access.principal_upserted events)",
    )
    return staff


def accepted_everywhere(member: Staff) -> bool:
    return (
        member.status_of("planning", "/plans") == 200
        and member.status_of("notifications", "/deliveries") == 200
    )


def set_up_partner(
    say: Narrator, ops: OpsCli, env: Mapping[str, str], partner_id: str, tenant_id: str
) -> Partner:
    amqp_url = load_settings("intake", environ=dict(env)).amqp_url
    vhost, password = vhost_of(amqp_url), secrets.token_urlsafe(18)
    rabbit = RabbitAdmin(management_url(env))
    rabbit.add_partner_user(partner_id, password, vhost)
    code, output = ops.run(
        "create-partner",
        "--id",
        partner_id,
        "--name",
        data.PARTNER_NAME,
        "--tenant",
        tenant_id,
        "--no-broker-user",  # made above, with the demo's own password
    )
    if code != 0 and "already exists" in str(output):
        ops("allow-partner", "--partner", partner_id, "--tenant", tenant_id)
    elif code != 0:
        raise DemoError(f"intake ops CLI create-partner failed: {output}")
    queue = f"partner.{partner_id}.status"
    wait_for(f"the intake worker to declare {queue}", lambda: rabbit.has_queue(vhost, queue))
    say.step(
        "partner",
        f"{partner_id}, allowed to refer to the clinic (intake ops CLI); its RabbitMQ",
        f"user on vhost {vhost!r} (management API) may only publish to partner.referrals",
        f"with routing keys {partner_id}.* and read {queue}",
    )
    return Partner(partner_id, with_user(amqp_url, partner_id, password))


def configure_notifications(say: Narrator, admin: Staff, result: DemoResult) -> None:
    admin.put(
        "notifications",
        "/config",
        data.notification_settings(result.tenant_id, result.location_ids),
    )
    say.step(
        "notifications",
        "PUT /config by the admin: staff inboxes per location, no quiet hours,",
        f"email reminders {data.REMINDER_MINUTES_BEFORE:g} minute before each session,",
        "a progress report to the referrer after every session",
    )


# --- the loop --------------------------------------------------------------------------------


def refer(say: Narrator, partner: Partner, result: DemoResult) -> None:
    result.partner_referral_id = f"REF-{date.today():%Y%m%d}-{secrets.token_hex(3).upper()}"
    bundle = data.fhir_referral(result.partner_referral_id, date.today(), result.treating_location)
    partner.refer(result.tenant_id, bundle, datacontenttype=FHIR)
    say.step(
        "referral",
        f"FHIR R4 Bundle {result.partner_referral_id}: Dr. David Chen refers Maria Elena",
        f"Alvarez (low back pain M54.50, neck pain M54.2; 8 visits at {data.TREATING_LOCATION}),",
        "published to partner.referrals as the partner (kombu, user_id set, confirmed)",
    )


def accepted(
    say: Narrator, partner: Partner, desk: Staff, inbox: Inbox, result: DemoResult
) -> None:
    status = wait_for(
        "the referral's status on the partner's queue",
        lambda: partner.status_of(result.partner_referral_id),
    )
    if status["type"] != "referral.accepted":
        raise DemoError(f"the referral was not accepted: {status['data']}")
    clinic_referral = desk.get("intake", f"/referrals/{status['data']['referral_id']}")
    patient = desk.get("intake", f"/patients/{clinic_referral['patient_id']}")
    result.referral_id = clinic_referral["referral_id"]
    result.patient_id = patient["patient_id"]
    say.step(
        "accepted",
        f"{partner.status_queue}: referral.accepted, clinic referral {result.referral_id}",
        f"patient {patient['patient_id']} ({patient['given_name']} {patient['family_name']}) "
        f"registered at {clinic_referral['location_id']}",
    )
    welcome = new_mail(inbox, "the welcome email", data.PATIENT_EMAIL, "welcome")
    link = re.search(r"https?://\S+", welcome.text)
    result.intake_link = link.group(0) if link else ""
    staff_inbox = data.staff_emails(result.tenant_id, result.location_ids)[result.treating_location]
    staff_note = new_mail(inbox, "the staff inbox's new-referral email", staff_inbox, "")
    say.step(
        "welcome email",
        f"to {data.PATIENT_EMAIL}: {welcome.subject!r}",
        f"intake link: {result.intake_link}",
        f"staff inbox {staff_note.to[0]}: {staff_note.subject!r}",
    )


def intake(say: Narrator, desk: Staff, result: DemoResult) -> None:
    recorded = desk.post("intake", "/intakes", data.intake_form(result.referral_id))
    screening = recorded["screening"]
    result.screening = screening["outcome"]
    reasons = "; ".join(
        f"{r['label']} -> {', '.join(screening.get('modifications') or []) or r['tier']}"
        for r in screening.get("reasons", [])
    )
    say.step(
        "intake",
        "recorded by the front desk (POST /intakes): NPRS 7/10, ODI 40 %, consent signed",
        f"screening: {screening['outcome']}" + (f" ({reasons})" if reasons else ""),
    )


def drafted_and_approved(
    say: Narrator, therapist: Staff, inbox: Inbox, result: DemoResult
) -> dict[str, Any]:
    def plan_made() -> dict[str, Any] | None:
        plans = therapist.get("planning", f"/plans?referral_id={result.referral_id}")["items"]
        return next(iter(plans), None)

    plan = wait_for("the plan (planning consumes intake.completed)", plan_made)
    if plan["status"] != "draft":
        raise DemoError(f"the plan is {plan['status']}: {plan.get('reasons')}")
    result.plan_id, content = plan["plan_id"], plan["content"]
    goals = ", ".join(
        f"{g['measure']} {g['baseline']:g} -> {g['target']:g} by {g['due_on']}"
        for g in content["goals"]
    )
    say.step(
        "plan drafted",
        f"{result.plan_id}: {content['planned_sessions']} sessions of "
        f"{content['session_minutes']} min, {content['frequency_per_week']}/week",
        "techniques: " + ", ".join(t["name"] for t in content["techniques"]),
        f"precautions: {', '.join(content['precautions']) or 'none'}; goals: {goals}",
    )
    plan = therapist.post(
        "planning", f"/plans/{result.plan_id}/approve", {"version": plan["version"]}
    )
    summary = new_mail(inbox, "the plan summary to the referrer", data.REFERRER_EMAIL, "plan")
    say.step(
        "approved",
        f"by {therapist.who}: the plan is {plan['status']}",
        f"to {data.REFERRER_EMAIL}: {summary.subject!r}",
    )
    return plan


def schedule(say: Narrator, desk: Staff, plan: dict[str, Any]) -> dict[str, Any]:
    tz = ZoneInfo(data.LOCATIONS[data.TREATING_LOCATION][0])
    now = datetime.now(tz)
    yesterday = datetime.combine(now.date() - timedelta(days=1), clock_time(10, 0))
    soon = (now + UPCOMING_SESSION_IN).replace(tzinfo=None, microsecond=0)
    path = f"/plans/{plan['plan_id']}/sessions"
    booked = [
        desk.post(
            "planning",
            path,
            {"therapist_id": data.THERAPIST_ID, "room_id": "room-2", "starts_at_local": when},
        )
        for when in (yesterday.isoformat(), soon.isoformat())
    ]
    say.step(
        "sessions",
        f"booked by the front desk at {booked[0]['location_name']}: "
        f"{local_time(booked[0])} (entered after the visit)",
        f"and {local_time(booked[1])} (in {UPCOMING_SESSION_IN.seconds} s)",
    )
    return booked[1]


def local_time(session: dict[str, Any]) -> str:
    starts_at = datetime.fromisoformat(session["starts_at"])
    return f"{starts_at.astimezone(ZoneInfo(session['location_tz'])):%a %b %d %H:%M:%S %Z}"


def treat(
    say: Narrator, therapist: Staff, plan: dict[str, Any], inbox: Inbox, result: DemoResult
) -> None:
    plan_id = plan["plan_id"]
    sessions = therapist.get("planning", f"/plans/{plan_id}/sessions")["items"]
    first_visit = min(sessions, key=lambda s: s["starts_at"])
    techniques = [t["code"] for t in plan["content"]["techniques"]]
    therapist.post(
        "planning",
        f"/plans/{plan_id}/sessions/{first_visit['session_id']}/complete",
        data.session_record(techniques),
    )
    progress = therapist.get("planning", f"/plans/{plan_id}/progress")
    result.progress = progress["measures"]
    report = new_mail(
        inbox, "the progress report to the referrer", data.REFERRER_EMAIL, "progress report"
    )
    say.step(
        "session done",
        f"recorded by {therapist.who}: SOAP notes, techniques, NPRS 4/10, ODI 26 %",
        *[describe(measure) for measure in progress["measures"]],
        f"to {data.REFERRER_EMAIL}: {report.subject!r}",
    )


def describe(measure: dict[str, Any]) -> str:
    verdict = "clinically improved" if measure["clinically_improved"] else "not yet improved"
    percent = measure.get("percent_change")
    gain = f"{measure['change']:g} points" + (f", {percent:.0f} %" if percent is not None else "")
    return (
        f"progress {measure['measure']}: {measure['baseline']:g} -> {measure['latest']:g} "
        f"(better by {gain}): {verdict}"
    )


def reminded(say: Narrator, inbox: Inbox, upcoming: dict[str, Any]) -> None:
    due = datetime.fromisoformat(upcoming["starts_at"]) - timedelta(
        minutes=data.REMINDER_MINUTES_BEFORE
    )
    wait_s = max(0.0, (due - datetime.now(UTC)).total_seconds())
    reminder = new_mail(
        inbox, "the appointment reminder", data.PATIENT_EMAIL, "reminder", timeout=wait_s + 30
    )
    say.step(
        "reminder",
        f"to {data.PATIENT_EMAIL}: {reminder.subject!r}",
        f"for {local_time(upcoming)}, sent {data.REMINDER_MINUTES_BEFORE:g} minute before",
    )


def discharge(say: Narrator, therapist: Staff, inbox: Inbox, result: DemoResult) -> None:
    plan = therapist.get("planning", f"/plans/{result.plan_id}")
    plan = therapist.post(
        "planning",
        f"/plans/{result.plan_id}/complete",
        {"version": plan["version"], "reason": "goals met; home programme"},
    )
    result.plan_status = plan["status"]
    report = new_mail(
        inbox, "the discharge report to the referrer", data.REFERRER_EMAIL, "discharge report"
    )
    say.step(
        "discharged",
        f"plan {plan['status']} by {therapist.who} (the session still to come is cancelled)",
        f"to {data.REFERRER_EMAIL}: {report.subject!r}",
    )


def delivery_log(say: Narrator, admin: Staff, inbox: Inbox, result: DemoResult) -> None:
    # the cancellation of the upcoming session goes out last
    new_mail(inbox, "the session cancellation email", data.PATIENT_EMAIL, "cancel")
    deliveries = admin.get("notifications", "/deliveries?page_size=100")["items"]
    result.deliveries = Counter((d["template"], d["status"]) for d in deliveries)
    result.emails = [(", ".join(m.to), m.subject) for m in inbox.new()]
    rows = Counter(
        (d["status"], d["channel"], d["audience"], d["template"], d.get("reason") or "")
        for d in sorted(deliveries, key=lambda d: d["created_at"])
    )
    by_status = Counter(d["status"] for d in deliveries)
    say.step(
        "delivery log",
        "GET /deliveries (notifications): "
        + ", ".join(f"{n} {status}" for status, n in sorted(by_status.items())),
        *[
            f"{status:<10} {channel:<7} {audience:<8} {template}"
            + (f" x{n}" if n > 1 else "")
            + (f" ({reason})" if reason else "")
            for (status, channel, audience, template, reason), n in rows.items()
        ],
    )


def console_sign_in(
    say: Narrator, ops: OpsCli, urls: Mapping[str, str], result: DemoResult
) -> None:
    """An admin of the demo clinic with a password and a second factor, made through the public
    interfaces (the ops CLI, then intake's /auth), for a person to look around in the console."""
    accounts = StaffAccounts(urls["intake"])
    email, password = f"admin@{result.tenant_id}.example", f"demo-{secrets.token_urlsafe(12)}"
    printed = ops(
        "create-admin", "--tenant", result.tenant_id, "--name", "Demo Admin", "--email", email
    )
    accounts.accept_invitation(printed["invitation_link"].rsplit("/", 1)[1], password)
    secret, _ = accounts.enrol_totp(accounts.sign_in(result.tenant_id, email, password))
    result.sign_in = {
        "console": urls.get("console", URLS["console"]),
        "clinic": result.tenant_id,
        "email": email,
        "password": password,
        "totp_secret": secret,
        "recovery_codes": accounts.recovery_codes,
    }
    say.step(
        "console",
        f"an admin to sign in with at {result.sign_in['console']} (ops CLI create-admin, its",
        "invitation accepted and a second factor enrolled through intake's /auth)",
    )


def first[T](items: list[T]) -> T | None:
    return items[0] if items else None


def new_mail(inbox: Inbox, what: str, to: str, subject_has: str, timeout: float = 45.0) -> Mail:
    """The first email of this run to `to` with `subject_has` in its subject, once it came."""
    return wait_for(what, lambda: first(inbox.to(to, subject_has)), timeout)


# --- make demo -------------------------------------------------------------------------------


def main() -> int:
    maildir = ROOT / "var" / "mail"
    print("Clinic backend demo: one referral through the whole loop, public interfaces only.\n")
    try:
        result = run_demo(URLS, dict(os.environ), MaildirSource(maildir))
    except StackDown as down:
        print("The stack is not running (or not ready):", file=sys.stderr)
        for problem in down.problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "Start it with `make run` in another terminal, wait for 'all services ready', "
            "then run `make demo` again.",
            file=sys.stderr,
        )
        return 1
    except (StepFailed, requests.RequestException, OSError) as error:
        print(f"\ndemo failed: {error}", file=sys.stderr)
        print("(the `make run` terminal shows what each process did)", file=sys.stderr)
        return 1
    where = maildir.relative_to(ROOT) / "new"
    print(f"\nDone: tenant {result.tenant_id}. The {len(result.emails)} emails of this run, kept")
    print(f"by the dev SMTP server in {where}/ (one file per message):")
    for to, subject in result.emails:
        print(f"  - {to:<38} {subject}")
    print(f"Read them with: ls -tr {where} | tail -{len(result.emails)}; less {where}/<file>")
    login = result.sign_in
    print(f"\nLook around in the staff console (the demo's data stays): {login['console']}")
    print(f"  clinic    {login['clinic']}")
    print(f"  email     {login['email']}")
    print(f"  password  {login['password']}")
    print(f"  second factor: add the key {login['totp_secret']} to an authenticator app, or use")
    print(f"  a recovery code (each works once): {', '.join(login['recovery_codes'][:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
