"""`make soak`: the whole system for N minutes under steady traffic and chaos; then, once it has
settled, every effect counted; JSON out, exit 1 on anything lost or doubled.

    .venv/bin/python -m tools.soak [--minutes 30] [--rate 0.2] [--seed N] [--out FILE]

Starts its own MongoDB stand-in (on SQLite, so that it can be killed and come back with its
data), RabbitMQ vhost and SMTP inbox, and the six service processes (testkit/stack.py) with each
worker under `make run`'s supervisor. While a partner streams referrals over AMQP (native and
FHIR; one in 10 deliberately broken) and staff take each accepted one through intake, plan
approval, a session and discharge over HTTP, the chaos loop (tools/soak/chaos.py) kills workers
and API processes, stops the broker application for 20 s and kills the store. Afterwards it
waits (a condition with a deadline) until every message has its answer, every case is done,
nothing is due or queued and every outbox is empty, and counts (tools/soak/tally.py).

The broker application is stopped and started again: use a broker nobody else needs meanwhile
(TEST_AMQP_BASE, RABBITMQ_MANAGEMENT_URL; RABBITMQ_NODENAME for rabbitmqctl). The soak refuses to
start when rabbitmqctl's node is not the one on TEST_AMQP_BASE.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from testkit import rabbit
from testkit.partner import PartnerSystem
from testkit.smtp import SmtpInbox, smtp_server
from testkit.stack import SERVICES
from testkit.staff import StaffClient
from testkit.waiting import wait_until
from tools.bench.loop import Settling
from tools.soak.answers import Answers
from tools.soak.chaos import Chaos
from tools.soak.desk import STEPS, Desk
from tools.soak.partner_stream import PartnerStream
from tools.soak.stack import SoakStack, Store
from tools.soak.tally import REFERRER_LETTERS_BY_STEP, Count, email_count, exactly_once

ROOT = Path(__file__).resolve().parents[2]
STAFF_EMAIL = "front-desk@soak.example"
SERVICE_SETTINGS = {
    "OUTBOX_POLL_INTERVAL_S": "0.5",
    "SCHEDULER_POLL_INTERVAL_S": "1.0",
    "MONGO_TIMEOUT_MS": "2000",  # an API answers 503 soon when the store is away
}
API_WORKERS = 2  # one process of an API killed, the other still answers
PARTNER_REFERRALS_DLQ = "intake.partner-referrals.dlq"
PROGRESS_EVERY_S = 60.0


def broker_problem() -> str | None:
    """Why this run may not stop the broker (None: it may): rabbitmqctl's node (RABBITMQ_NODENAME,
    else the local default) must be the broker the services use (TEST_AMQP_BASE's port)."""
    port = urllib.parse.urlsplit(rabbit.AMQP_BASE).port or 5672
    try:
        status = subprocess.run(
            ["rabbitmqctl", "-q", "status", "--formatter", "json"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        listeners = json.loads(status.stdout).get("listeners") or []
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return f"rabbitmqctl cannot reach the node to stop ({error})"
    amqp = {int(item["port"]) for item in listeners if item.get("protocol") == "amqp"}
    if port not in amqp:
        return (
            f"rabbitmqctl's node listens on {sorted(amqp)}, not on TEST_AMQP_BASE's port {port}: "
            "set RABBITMQ_NODENAME to the node the soak uses (it stops that node's application)"
        )
    return None


class Soak:
    def __init__(self, args: argparse.Namespace, run_dir: Path) -> None:
        self.args, self.run_dir = args, run_dir
        self.prefix = f"soak_{uuid.uuid4().hex[:8]}"
        self.admin = rabbit.RabbitAdmin(rabbit.MANAGEMENT_URL)
        self.report: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        with ExitStack() as cleanup:
            vhost = self.admin.create_vhost(f"soak-{uuid.uuid4().hex[:8]}")
            cleanup.callback(self.admin.delete_vhost, vhost)
            store = Store(self.run_dir / "mongo.sqlite")
            cleanup.callback(store.stop)
            inbox, smtp_port = cleanup.enter_context(smtp_server())
            (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
            stack = SoakStack(
                mongo_url=store.url,
                db_prefix=self.prefix,
                amqp_url=rabbit.amqp_url(vhost),
                log_dir=self.run_dir / "logs",
                smtp_port=smtp_port,
                extra_env=SERVICE_SETTINGS,
                api_workers=API_WORKERS,
                start_timeout_s=300,  # seven processes starting at once on a loaded machine
            )
            cleanup.callback(stack.stop)
            stack.start()
            tenant_id, location_id, staff, partner = self._clinic(stack, vhost)
            cleanup.callback(partner.close)
            chaos = Chaos(stack, store, self.args.chaos_every, self.args.seed)
            answers = Answers(chaos.away)
            desk = Desk(staff, location_id, answers)
            stream = PartnerStream(
                partner.partner_id, partner.url, tenant_id, self.args.rate, desk.take
            )
            settling = Settling(store.url, self.prefix, self.admin, vhost, rabbit.amqp_url(vhost))
            cleanup.callback(settling.close)
            self._soak(chaos, desk, stream)
            settled_in = self._settle(desk, stream, settling, inbox)
            self._count(tenant_id, settling, stream, desk, inbox, vhost)
            self.report.update(
                chaos=chaos.report(),
                chaos_log=chaos.log,
                http=answers.report(),
                desk=desk.report(),
                settled_in_s=settled_in,
            )
        return self.report

    def _clinic(self, stack: SoakStack, vhost: str) -> tuple[str, str, StaffClient, PartnerSystem]:
        """Ops: a clinic, an admin key, a partner; the staff inbox, no quiet hours, a progress
        report to the referrer after every session."""
        partner = PartnerSystem(
            self.admin, vhost, partner_id=f"partner-soak-{uuid.uuid4().hex[:6]}"
        )
        tenant = stack.ops(
            "create-tenant", "--name", "Soak Massage", "--id", f"soak-{uuid.uuid4().hex[:6]}",
            "--location", "Main:America/New_York",
        )  # fmt: skip
        tenant_id = tenant["tenant_id"]
        key = stack.ops("create-key", "--tenant", tenant_id, "--role", "admin", "--name", "Sam")
        stack.ops(
            "create-partner", "--id", partner.partner_id, "--name", "Soak Network",
            "--tenant", tenant_id, "--no-broker-user",  # PartnerSystem made its broker user
        )  # fmt: skip
        staff = StaffClient(stack.urls, key["key"], "soak staff")
        for service, path in (("notifications", "/config"), ("planning", "/plans")):
            wait_until(
                functools.partial(answers_200, staff, service, path),
                timeout=60,
                message=f"the admin key to reach {service}",
            )
        staff.put(
            "notifications",
            "/config",
            {
                "quiet_hours": None,
                "staff_emails": {"*": STAFF_EMAIL},
                "progress_report_every_sessions": 1,
            },
        )
        wait_until(partner.has_status_queue, timeout=60, message="the partner's status queue")
        return tenant_id, tenant["locations"][0]["location_id"], staff, partner

    def _soak(self, chaos: Chaos, desk: Desk, stream: PartnerStream) -> None:
        desk.start()
        stream.start()
        chaos.start()
        ends = time.monotonic() + self.args.minutes * 60
        try:
            while (left := ends - time.monotonic()) > 0:  # the soak's length: nothing to wait for
                time.sleep(min(PROGRESS_EVERY_S, left))
                progress(chaos, desk, stream)
        finally:
            stream.stop_publishing()
            chaos.stop()  # ends a fault under way: the broker and the store are back

    def _settle(
        self, desk: Desk, stream: PartnerStream, settling: Settling, inbox: SmtpInbox
    ) -> float | None:
        started = time.monotonic()
        shown = [started]

        def settled() -> bool:
            if time.monotonic() - shown[0] >= PROGRESS_EVERY_S:
                shown[0] = time.monotonic()
                print(
                    f"soak: settling for {shown[0] - started:.0f} s: open cases "
                    f"{desk.report()['by_step']}, {len(inbox.mails)} emails",
                    file=sys.stderr,
                    flush=True,
                )
            return (
                stream.answered()
                and not desk.open_cases()
                and settling.db("notifications").deliveries.count_documents(
                    {"status": {"$in": ["queued", "deferred"]}}
                )
                == 0
                and not any(settling.outbox_pending(settling.db(s)) for s in SERVICES)
                and settling.queues_empty()
                and len(inbox.mails) >= self._emails_due(stream, desk)
            )

        try:
            wait_until(
                settled,
                timeout=self.args.settle_minutes * 60,
                interval=1.0,
                message="the system to settle",
            )
        except AssertionError:
            return None
        finally:
            desk.stop()
            stream.stop()
        return round(time.monotonic() - started, 1)

    def _emails_due(self, stream: PartnerStream, desk: Desk) -> int:
        return sum(self._expected_mail(stream, desk).values())

    def _expected_mail(self, stream: PartnerStream, desk: Desk) -> dict[str, int]:
        steps = {case.reference: case.step for case in desk.cases.values()}
        expected: dict[str, int] = {}
        accepted = [s for s in stream.referrals() if stream.heard[s.reference]["referral.accepted"]]
        for sent in accepted:
            expected[sent.patient_email] = 1
            step = steps.get(sent.reference, "intake")
            expected[sent.referrer_email] = REFERRER_LETTERS_BY_STEP[step]
        expected[STAFF_EMAIL] = len(accepted)
        return expected

    def _count(
        self,
        tenant_id: str,
        settling: Settling,
        stream: PartnerStream,
        desk: Desk,
        inbox: SmtpInbox,
        vhost: str,
    ) -> None:
        intake, planning = settling.db("intake"), settling.db("planning")
        referrals = stream.referrals()
        references = [s.reference for s in referrals]
        stored = [
            r["partner_referral_id"]
            for r in intake.referrals.find({"tenant_id": tenant_id}, {"partner_referral_id": 1})
        ]
        referral_ids = {
            r["partner_referral_id"]: r["_id"]
            for r in intake.referrals.find({"tenant_id": tenant_id}, {"partner_referral_id": 1})
        }
        passed = {case.reference: STEPS.index(case.step) for case in desk.cases.values()}

        def past(step: str) -> list[str]:
            return [
                referral_ids.get(ref, ref) for ref, at in passed.items() if at > STEPS.index(step)
            ]

        plans = list(planning.plans.find({"tenant_id": tenant_id}, {"referral_id": 1, "sessions": 1, "status": 1}))  # fmt: skip
        counts: dict[str, Count] = {
            "referrals stored": exactly_once(references, stored),
            "referrals accepted": exactly_once(
                references,
                [ref for ref in references for _ in stream.heard[ref]["referral.accepted"]],
            ),
            "poison refused": exactly_once(
                [p.reference for p in stream.poison()],
                [p.reference for p in stream.poison() for _ in stream.heard[p.reference]["referral.rejected"]],
            ),
            "intakes": exactly_once(
                past("intake"),
                [i["referral_id"] for i in intake.intakes.find({"tenant_id": tenant_id}, {"referral_id": 1})],
            ),
            "plans": exactly_once(past("intake"), [p["referral_id"] for p in plans]),
            "plans approved": exactly_once(
                past("plan"), [p["referral_id"] for p in plans if p["status"] != "draft"]
            ),
            "sessions": exactly_once(
                past("book"),
                [p["referral_id"] for p in plans for s in p.get("sessions") or [] if s],
            ),
            "sessions completed": exactly_once(
                past("treat"),
                [p["referral_id"] for p in plans for s in p.get("sessions") or [] if s.get("status") == "completed"],
            ),
            "discharges": exactly_once(
                past("discharge"), [p["referral_id"] for p in plans if p["status"] == "completed"]
            ),
        }  # fmt: skip
        emails, email_detail = email_count(inbox.messages(), self._expected_mail(stream, desk))
        counts["emails"] = emails
        dead = {
            q["name"]: int(q.get("messages", 0))
            for q in self.admin.queues(vhost)
            if q["name"].endswith(".dlq")
        }
        poison = len(stream.poison())
        unexpected_dead = sum(dead.values()) - min(dead.get(PARTNER_REFERRALS_DLQ, 0), poison)
        outboxes = [s for s in SERVICES if settling.outbox_pending(settling.db(s))]
        deliveries = settling.db("notifications").deliveries
        statuses = {
            d["_id"]: n
            for d in deliveries.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
            for n in [d["n"]]
        }
        self.report.update(
            referrals={
                "published": len(referrals),
                "native": sum(s.kind == "native" for s in referrals),
                "fhir": sum(s.kind == "fhir" for s in referrals),
                "accepted": sum(bool(stream.heard[r]["referral.accepted"]) for r in references),
                "publish_retries": stream.publish_failures,
                "status_messages_taken": stream.status_deliveries,
            },
            poison={
                "published": poison,
                "rejected": sum(bool(stream.heard[p.reference]["referral.rejected"]) for p in stream.poison()),
                "dead_lettered": dead.get(PARTNER_REFERRALS_DLQ, 0),
            },
            intakes=counts["intakes"].found,
            plans=counts["plans"].found,
            sessions=counts["sessions"].found,
            discharges=counts["discharges"].found,
            emails={**counts["emails"].to_json(), **email_detail},
            deliveries_by_status=statuses,
            dead_letters=dead,
            dead_letters_unexpected=unexpected_dead,
            outboxes_not_empty=outboxes,
            counts={name: count.to_json() for name, count in counts.items()},
            lost=sum(c.lost for c in counts.values()),
            doubled=sum(c.doubled for c in counts.values()),
        )  # fmt: skip


def progress(chaos: Chaos, desk: Desk, stream: PartnerStream) -> None:
    """One line on stderr: how far the soak has come (a long run can be followed)."""
    steps = desk.report()["by_step"]
    faults = chaos.report()
    print(
        f"soak {time.monotonic() - chaos.started:6.0f} s: {len(stream.sent)} published "
        f"({stream.publish_failures} publish retries), cases {steps}, kills {faults['kills']}, "
        f"broker stops {faults['broker_stops']}, store restarts {faults['store_restarts']}",
        file=sys.stderr,
        flush=True,
    )


def answers_200(staff: StaffClient, service: str, path: str) -> bool:
    return staff.status_of(service, path) == 200


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run on one screen (the rest of the JSON says how they came about)."""
    chaos, http = report.get("chaos") or {}, report.get("http") or {}
    return {
        "referrals": (report.get("referrals") or {}).get("published"),
        "poison": (report.get("poison") or {}).get("published"),
        "intakes": report.get("intakes"),
        "plans": report.get("plans"),
        "sessions": report.get("sessions"),
        "discharges": report.get("discharges"),
        "emails": (report.get("emails") or {}).get("found"),
        "worker_kills": chaos.get("worker_kills"),
        "api_process_kills": chaos.get("api_process_kills"),
        "broker_stops": chaos.get("broker_stops"),
        "store_restarts": chaos.get("store_restarts"),
        "lost": report.get("lost"),
        "doubled": report.get("doubled"),
        "5xx_by_code": http.get("5xx_by_code"),
        "settled_in_s": report.get("settled_in_s"),
        "problems": report.get("problems"),
    }


def problems(report: dict[str, Any]) -> list[str]:
    found = []
    if report.get("lost"):
        found.append(f"{report['lost']} effects lost")
    if report.get("doubled"):
        found.append(f"{report['doubled']} effects doubled")
    if report.get("settled_in_s") is None:
        found.append("the system did not settle in time")
    if report.get("dead_letters_unexpected"):
        found.append(f"{report['dead_letters_unexpected']} dead letters beside the poison")
    if (report.get("emails") or {}).get("to_unexpected_addresses"):
        found.append(
            f"emails to unexpected addresses: {report['emails']['to_unexpected_addresses']}"
        )
    if report.get("outboxes_not_empty"):
        found.append(f"outboxes not empty: {report['outboxes_not_empty']}")
    if (report.get("http") or {}).get("not_503"):
        found.append(f"{report['http']['not_503']} 5xx answers other than 503")
    if (report.get("desk") or {}).get("stopped"):
        found.append(f"{len(report['desk']['stopped'])} cases refused by an API")
    return found


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the chaos lasts")
    parser.add_argument("--rate", type=float, default=0.2, help="partner messages per second")
    parser.add_argument("--chaos-every", type=float, default=25.0, help="seconds between faults")
    parser.add_argument("--settle-minutes", type=float, default=10.0, help="the settling deadline")
    parser.add_argument("--seed", type=int, default=None, help="the chaos loop's random seed")
    parser.add_argument("--out", type=Path, help="write the JSON here (default var/soak/...)")
    parser.add_argument("--run-dir", type=Path, help="keep logs and the store here")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    refused = broker_problem()
    if refused:
        print(f"soak: {refused}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    soak_dir = ROOT / "var" / "soak"
    soak_dir.mkdir(parents=True, exist_ok=True)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=soak_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report: dict[str, Any] = {
        "minutes": args.minutes,
        "rate_per_s": args.rate,
        "chaos_every_s": args.chaos_every,
        "seed": args.seed,
        "started_at": stamp,
    }
    try:
        report.update(Soak(args, run_dir).run())
    finally:
        if not args.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["problems"] = problems(report)
    report = {"summary": summary(report), **report}
    out = args.out or soak_dir / f"soak-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    print(f"written to {out}", file=sys.stderr)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
