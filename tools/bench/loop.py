"""The loop the benchmark drives, through public interfaces only: a partner publishes referrals
over AMQP at a fixed rate, staff complete each accepted referral's intake over HTTP, planning
drafts the plan, notifications email the patient, the referrer and the clinic (an in-process
SMTP inbox that notes when each message arrived).

The loop has "settled" when every referral has its intake and a drafted plan, no delivery is
still due, every outbox is empty and the services' queues are empty.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from pymongo import MongoClient

from shared.events.topology import is_unheard_queue
from testkit.partner import PartnerSystem
from testkit.rabbit import RabbitAdmin, ready_messages
from testkit.referrals import distinct_referral
from testkit.smtp import SmtpInbox
from testkit.stack import LocalStack
from testkit.staff import StaffClient
from testkit.staff_forms import clear_intake_form
from testkit.waiting import wait_until

STAFF_EMAIL = "front-desk@bench.example"
EMAILS_PER_REFERRAL = 3  # the patient's welcome, the referrer's acceptance, the clinic's notice
INTAKE_POSTERS = 2
STATUS_LOOK_S = 0.05
STAGES = ("status_to_partner", "welcome_email", "plan_drafted_after_intake")
"""The loop's stages, each timed from its start: the partner's publish to its status, the
publish to the patient's welcome at the SMTP server, staff posting the intake to the plan
drafted (the plan's `created_at`)."""
TICK_S = 0.01


@dataclass
class Clinic:
    tenant_id: str
    admin_key: str
    staff: StaffClient
    partner: PartnerSystem


def set_up_clinic(stack: LocalStack, admin: RabbitAdmin, vhost: str) -> Clinic:
    """Ops: a clinic with two locations, an admin key, a partner; staff emails on, quiet hours off."""
    partner = PartnerSystem(admin, vhost, partner_id=f"partner-bench-{uuid.uuid4().hex[:6]}")
    tenant_id = stack.ops(
        "create-tenant",
        "--name",
        "Bench Massage",
        "--id",
        f"bench-{uuid.uuid4().hex[:6]}",
        "--location",
        "Main:America/New_York",
        "--location",
        "Uptown:America/Chicago",
    )["tenant_id"]
    admin_key = stack.ops(
        "create-key", "--tenant", tenant_id, "--role", "admin", "--name", "Bench Admin"
    )["key"]
    stack.ops(
        "create-partner",
        "--id",
        partner.partner_id,
        "--name",
        "Bench Network",
        "--tenant",
        tenant_id,
        "--no-broker-user",  # PartnerSystem made its broker user
    )
    staff = StaffClient(stack.urls, admin_key)
    for service, path in (("notifications", "/config"), ("planning", "/plans")):
        wait_until(
            lambda s=service, p=path: staff.status_of(s, p) == 200,
            timeout=60,
            message=f"the admin key to reach {service}",
        )
    staff.put(
        "notifications",
        "/config",
        {
            "quiet_hours": None,
            "staff_emails": {"*": STAFF_EMAIL},
            "progress_report_every_sessions": 1,  # the care stages time a report per session
        },
    )
    wait_until(partner.has_status_queue, timeout=60, message="the partner's status queue")
    return Clinic(tenant_id, admin_key, staff, partner)


@dataclass
class Trip:
    """One referral through the loop (perf_counter times)."""

    n: int
    partner_referral_id: str
    patient_email: str
    referrer_email: str
    published_at: float
    referral_id: str | None = None
    status_at: float | None = None
    intake_sent_at: float | None = None
    intake_posted_at: float | None = None
    intake_error: str | None = None


class LoopDriver:
    """Publishes referrals at a fixed rate and completes the intake of each one accepted."""

    def __init__(self, stack: LocalStack, clinic: Clinic, inbox: SmtpInbox) -> None:
        self.stack, self.clinic, self.inbox = stack, clinic, inbox
        self.run_id = uuid.uuid4().hex[:6]
        self.trips: list[Trip] = []
        self._by_reference: dict[str, Trip] = {}
        self._to_post: queue.Queue[Trip | None] = queue.Queue()
        self.wall_minus_perf = time.time() - time.perf_counter()  # stored times -> this clock
        self.own_referrers = False

    def _referral(self, n: int) -> tuple[dict[str, Any], str]:
        email = f"patient-{self.run_id}-{n}@bench.example"
        consent = {"email": True, "sms": False}
        return distinct_referral(n, email=email, language="en", consent=consent), email

    def referrer_email(self, n: int) -> str | None:
        """A referrer of its own for each referral of a care run (None: the example's)."""
        return f"referrer-{self.run_id}-{n}@bench.example" if self.own_referrers else None

    def run(self, count: int, rate_per_s: float, timeout_s: float) -> list[Trip]:
        """Publish `count` referrals, one every 1/rate seconds; returns when all are posted."""
        posters = [
            threading.Thread(target=self._post_intakes, daemon=True) for _ in range(INTAKE_POSTERS)
        ]
        for poster in posters:
            poster.start()
        started, deadline = time.perf_counter(), time.perf_counter() + timeout_s
        trips: list[Trip] = []
        next_look = started
        try:
            while time.perf_counter() < deadline:
                now = time.perf_counter()
                if len(trips) < count and now >= started + len(trips) / rate_per_s:
                    trips.append(self._publish(len(self.trips)))
                if now >= next_look:  # the partner reads its status queue ten times a second
                    self._take_statuses()
                    next_look = now + STATUS_LOOK_S
                if len(trips) == count and all(t.intake_posted_at or t.intake_error for t in trips):
                    failed = [t.intake_error for t in trips if t.intake_error]
                    if failed:
                        raise AssertionError(f"intakes refused: {failed[:3]}")
                    return trips
                time.sleep(TICK_S)
            raise AssertionError(f"the loop did not finish in {timeout_s} s: {self._stuck(trips)}")
        finally:
            for _ in posters:
                self._to_post.put(None)

    def _publish(self, n: int) -> Trip:
        body, email = self._referral(n)
        if referrer := self.referrer_email(n):
            body["requester"] = {**body["requester"], "email": referrer}
        referrer = body["requester"]["email"]
        trip = Trip(n, body["partner_referral_id"], email, referrer, time.perf_counter())
        self.clinic.partner.refer(self.clinic.tenant_id, body)
        self.trips.append(trip)
        self._by_reference[trip.partner_referral_id] = trip
        return trip

    def _take_statuses(self) -> None:
        for status in self.clinic.partner.take_status():
            trip = self._by_reference.get(status["data"].get("partner_referral_id"))
            if trip is None or trip.referral_id:
                continue
            if status["type"] != "referral.accepted":
                raise AssertionError(
                    f"referral {trip.partner_referral_id} was not accepted: {status}"
                )
            trip.referral_id = status["data"]["referral_id"]
            trip.status_at = time.perf_counter()
            self._to_post.put(trip)

    def _post_intakes(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.clinic.admin_key}"
        url = f"{self.stack.url('intake')}/intakes"
        while (trip := self._to_post.get()) is not None:
            form = clear_intake_form(
                trip.referral_id or "", signed_by=f"Patient Bench{trip.n}", pain=6
            )
            trip.intake_sent_at = time.perf_counter()
            response = session.post(url, json=form, timeout=30)
            if response.status_code == 201:
                trip.intake_posted_at = time.perf_counter()
            else:
                trip.intake_error = f"{response.status_code}: {response.text[:300]}"

    def _stuck(self, trips: list[Trip]) -> str:
        waiting = [t.partner_referral_id for t in trips if not t.referral_id]
        failed = [t.intake_error for t in trips if t.intake_error]
        return f"{len(trips)} published, not accepted: {waiting[:5]}, intake errors: {failed[:3]}"

    def latencies(self, trips: list[Trip]) -> list[float]:
        """Seconds from each partner publish to the patient's welcome email at the SMTP server."""
        return [self.inbox.arrivals[t.patient_email] - t.published_at for t in trips]

    def stage_latencies(self, trips: list[Trip], planning_db: Any) -> dict[str, list[float]]:
        """Seconds of each stage (`STAGES`) of each trip; `planning_db` read with the settling
        client (not in the capture)."""
        ids = [t.referral_id for t in trips]
        drafted = {
            p["referral_id"]: p["created_at"].timestamp() - self.wall_minus_perf
            for p in planning_db.plans.find(
                {"referral_id": {"$in": ids}}, {"referral_id": 1, "created_at": 1}
            )
        }
        return {
            "status_to_partner": [(t.status_at or 0) - t.published_at for t in trips],
            "welcome_email": self.latencies(trips),
            "plan_drafted_after_intake": [
                drafted[t.referral_id] - (t.intake_sent_at or 0)
                for t in trips
                if t.referral_id in drafted
            ],
        }


class Settling:
    """Reads the services' databases and queues (with its own client: not in the capture)."""

    def __init__(self, mongo_url: str, db_prefix: str, admin: RabbitAdmin, vhost: str, amqp: str):
        self.client = MongoClient(mongo_url, tz_aware=True)
        self.prefix, self.admin, self.vhost, self.amqp = db_prefix, admin, vhost, amqp

    def db(self, service: str):
        return self.client[f"{self.prefix}_{service}"]

    def settled(self, referrals: int) -> bool:
        intake, planning, notifications = (
            self.db(s) for s in ("intake", "planning", "notifications")
        )
        return (
            intake.intakes.count_documents({}) >= referrals
            and planning.plans.count_documents({"status": "draft"}) >= referrals
            and notifications.deliveries.count_documents(
                {"status": {"$in": ["queued", "deferred"]}}
            )
            == 0
            and not any(
                self.outbox_pending(self.db(s)) for s in ("intake", "planning", "notifications")
            )
            and self.queues_empty()
        )

    def outbox_pending(self, db) -> bool:
        """Whether a document of `db` still holds an event its relay has not published."""
        return any(
            db[name].count_documents({"outbox_due": {"$exists": True}}, limit=1)
            for name in db.list_collection_names()
        )

    def queues_empty(self) -> bool:
        """Whether every service queue (not a partner's, a retry or a dead-letter queue, nor the
        sinks of the events nobody consumes) is empty."""
        names = [
            q["name"]
            for q in self.admin.queues(self.vhost)
            if not q["name"].startswith(("partner.", "bench."))
        ]
        service_queues = [
            n
            for n in names
            if not n.endswith(".dlq") and ".retry." not in n and not is_unheard_queue(n)
        ]
        return all(ready_messages(self.amqp, name) == 0 for name in service_queues)

    def retries_empty(self) -> bool:
        """Whether no message waits in a retry queue (to come back to its work queue)."""
        names = [q["name"] for q in self.admin.queues(self.vhost) if ".retry." in q["name"]]
        return all(ready_messages(self.amqp, name) == 0 for name in names)

    def wait(self, referrals: int, timeout_s: float) -> float:
        """Wait until settled twice in a row (0.3 s apart); returns when it first was."""
        first: float | None = None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.settled(referrals):
                if first is not None:
                    return first
                first = time.time()
            else:
                first = None
            time.sleep(0.3)
        raise AssertionError(f"the loop did not settle within {timeout_s} s")

    def wait_for(self, referral_ids: list[str], timeout_s: float) -> None:
        """Like `wait`, for these referrals, with reads that stay cheap in a clinic of thousands
        (the stand-in's counts copy every document they count; `make bench-scale`): their plans
        drafted, no delivery due, no outbox holding an event, the services' queues empty; twice
        in a row."""

        def now_settled() -> bool:
            plans = self.db("planning").plans.find(
                {"referral_id": {"$in": referral_ids}}, {"_id": 1}
            )
            due = {"status": {"$in": ["queued", "deferred"]}}
            return (
                len(list(plans)) >= len(referral_ids)
                and self.db("notifications").deliveries.find_one(due, {"_id": 1}) is None
                and not any(
                    self.db(s)[name].find_one({"outbox_due": {"$exists": True}}, {"_id": 1})
                    for s in ("intake", "planning", "notifications")
                    for name in self.db(s).list_collection_names()
                )
                and self.queues_empty()
            )

        wait_until(
            lambda: now_settled() and now_settled(),
            timeout=timeout_s,
            interval=0.3,
            message=f"{len(referral_ids)} referrals settled",
        )

    def close(self) -> None:
        self.client.close()


def wait_for_welcomes(inbox: SmtpInbox, trips: list[Trip], timeout_s: float) -> None:
    wait_until(
        lambda: all(t.patient_email in inbox.arrivals for t in trips),
        timeout=timeout_s,
        interval=0.1,
        message=f"{len(trips)} welcome emails",
    )
