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
from functools import partial
from pathlib import Path
from typing import Any

from testkit import rabbit
from testkit.partner import PartnerSystem
from testkit.smtp import SmtpInbox
from testkit.stack import SERVICES, own_stack
from testkit.staff import StaffClient
from testkit.waiting import wait_until
from tools.bench.loop import Settling
from tools.soak.answers import Answers
from tools.soak.census import (
    STAFF_EMAIL,
    census,
    emails_due,
    milestones_due,
    milestones_heard,
    problems,
    summary,
)
from tools.soak.chaos import Chaos
from tools.soak.desk import Desk
from tools.soak.partner_stream import PartnerStream
from tools.soak.stack import SoakStack, Store

ROOT = Path(__file__).resolve().parents[2]
SERVICE_SETTINGS = {
    "OUTBOX_POLL_INTERVAL_S": "0.5",
    "SCHEDULER_POLL_INTERVAL_S": "1.0",
    "MONGO_TIMEOUT_MS": "2000",  # an API answers 503 soon when the store is away
}
API_WORKERS = 2  # one process of an API killed, the other still answers
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
            store = Store(self.run_dir / "mongo.sqlite")
            cleanup.callback(store.stop)
            stack, inbox = cleanup.enter_context(
                own_stack(
                    store.url,
                    self.admin,
                    self.run_dir / "logs",
                    SERVICE_SETTINGS,
                    api_workers=API_WORKERS,
                    db_prefix=self.prefix,
                    # seven processes starting at once on a loaded machine
                    stack_type=partial(SoakStack, start_timeout_s=300),
                    keep_databases=True,  # its store's file goes with the run directory
                )
            )
            assert isinstance(stack, SoakStack)
            vhost = stack.vhost
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
            dead = {  # counted exactly (a passive declare), not from the management API's stats
                q["name"]: rabbit.ready_messages(rabbit.amqp_url(vhost), q["name"])
                for q in self.admin.queues(vhost)
                if q["name"].endswith(".dlq")
            }
            self.report.update(census(tenant_id, settling, stream, desk, inbox.messages(), dead))
            answers.trace({service: api.log() for service, api in stack.apis.items()})
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
                and not set(milestones_due(desk)) - set(milestones_heard(stream))
                and settling.db("notifications").deliveries.count_documents(
                    {"status": {"$in": ["queued", "deferred"]}}
                )
                == 0
                and not any(settling.outbox_pending(settling.db(s)) for s in SERVICES)
                and settling.queues_empty()
                and settling.retries_empty()
                and len(inbox.mails) >= emails_due(stream, desk)
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
