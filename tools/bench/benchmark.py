"""`make bench`: the whole loop as real processes on the local stack, on fresh databases; JSON out.

    .venv/bin/python -m tools.bench [--short] [--memory] [--mongo-url URL] [--out FILE]

Starts its own MongoDB stand-in (SQLite as `make run`, or `--memory`; or uses `--mongo-url`),
RabbitMQ vhost and SMTP inbox, all six service processes (testkit/stack.py) with their
MongoDB commands recorded (`MONGO_COMMAND_LOG`, shared/command_log.py), then measures:

1. an idle window, so polling can be told apart from work;
2. the loop per referral (a partner's referral accepted, its intake completed over HTTP, the plan
   drafted, the emails sent) at a fixed rate: MongoDB commands by kind, write statements, AMQP
   publishes, events consumed (hops) and state changes, per service; CPU seconds of every
   service process; latency from the partner's publish to the patient's email at SMTP;
3. the bare hop (tools/bench/bare_consumer.py) on the same broker and store: CPU per hop;
4. HTTP: a real endpoint and a bare Flask one (tools/bench/bare_app.py), same gunicorn settings;
5. staff sign-in: CPU per sign-in in the intake API, per access-token verification in planning
   (tools/bench/sign_in.py);
6. the staff console's main pages on a clinic of 1,000 patients (`--short`: 20): server time
   and API calls per page, from their Server-Timing header (tools/bench/console_pages.py);
7. every query shape the services sent (the console's pages' included), matched with the
   declared indexes.

Prints the JSON and writes it to var/bench/bench-<time>.json (or --out). Exits 1 when a query
shape has no index or a figure is missing. docs/benchmark.md explains each figure.
Broker: the local RabbitMQ (RABBITMQ_MANAGEMENT_URL and TEST_AMQP_BASE, as for the tests).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from shared.command_log import ENV_VAR as COMMAND_LOG
from testkit import rabbit
from testkit.metrics import LABEL, metric_samples
from testkit.mongo import MongoStandin
from testkit.processes import free_port, python_env
from testkit.stack import SERVICES, LocalStack, own_stack
from tools.bench import capture, console_pages, figures, http_load
from tools.bench.bare_hop import BURST, Feeding, bare_hop
from tools.bench.care import CareDriver
from tools.bench.cpu import resident_memory, sample, spent
from tools.bench.hops import ack_only_types, split_hops
from tools.bench.indexes import declared_indexes, query_shapes
from tools.bench.loop import LoopDriver, Settling, set_up_clinic, wait_for_welcomes
from tools.bench.profile import Profiler
from tools.bench.sign_in import sign_in_figures
from tools.bench.state import changes, snapshot

ROOT = Path(__file__).resolve().parents[2]
SERVICE_SETTINGS = {
    "OUTBOX_POLL_INTERVAL_S": "0.5",
    "SCHEDULER_POLL_INTERVAL_S": "1.0",
    "SIGN_IN_RATE_LIMIT": "1000",  # the sign-ins measured all come from this one address
}
API_WORKERS = 2
ENDPOINTS = {
    "read": "GET /referrals/{id} (intake: bearer key, audited)",
    "write": "PUT /patients/{id}/consent (intake: bearer key, validated, version-guarded, "
    "an event in the outbox, audited)",
}
BARE_ENDPOINTS = {
    "read": "GET /referrals/{id} (tools/bench/bare_app.py: one find by _id)",
    "write": "PUT /patients/{id}/consent (tools/bench/bare_app.py: one find_one_and_update)",
}
EXAMPLES_FILE = "query_examples.json"


@dataclass(frozen=True)
class Plan:
    rate_per_s: float
    seconds: float
    warmup_referrals: int
    idle_s: float
    bare_warmup: int
    bare_events: int
    bare_paced_s: float
    fast_seconds: float
    care_referrals: int
    http_s: float
    sign_ins: int
    verifications: int
    console: console_pages.Size


FULL = Plan(
    2.0, seconds=30, warmup_referrals=3, idle_s=5, bare_warmup=20, bare_events=600,
    bare_paced_s=15, fast_seconds=5, care_referrals=10, http_s=10, sign_ins=20, verifications=5000,
    console=console_pages.FULL,
)  # fmt: skip
SHORT = Plan(
    2.0, seconds=3, warmup_referrals=1, idle_s=2, bare_warmup=10, bare_events=150,
    bare_paced_s=3, fast_seconds=1, care_referrals=3, http_s=2, sign_ins=5, verifications=1000,
    console=console_pages.SHORT,
)  # fmt: skip
FAST_FACTOR = 5
"""The loop is timed again at this multiple of the plan's rate (latency only)."""


class BenchStack(LocalStack):
    """LocalStack with a metrics port per worker and the command log on."""

    def __init__(self, capture_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics_ports = {s: free_port() for s in SERVICES}
        self.common[COMMAND_LOG] = str(capture_dir)

    def env(self, service: str) -> dict[str, str]:
        env = super().env(service)
        if service in self.metrics_ports:  # the console has no worker to measure
            env["WORKER_METRICS_PORT"] = str(self.metrics_ports[service])
        return env

    def process_roots(self) -> dict[str, int]:
        roots = {f"{s}-api": self.apis[s].popen.pid for s in SERVICES}
        roots.update({f"{s}-worker": self.workers[s].popen.pid for s in SERVICES})
        return roots

    def event_counters(self) -> figures.Counters:
        """Per service: events published (confirmed) and consumed (hops), from worker metrics."""
        counters = {}
        for service in SERVICES:
            url = f"http://127.0.0.1:{self.metrics_ports[service]}/"
            counters[service] = {
                kind: sum(metric_samples(url, f"events_{kind}_total").values())
                for kind in ("published", "consumed")
            }
        return counters

    def handled_counts(self) -> dict[tuple[str, str], float]:
        """(queue, type) -> events handled or skipped as duplicates, over the three workers."""
        counts: dict[tuple[str, str], float] = {}
        for service in SERVICES:
            url = f"http://127.0.0.1:{self.metrics_ports[service]}/"
            for name in ("events_handled_total", "events_duplicates_skipped_total"):
                for labels, value in metric_samples(url, name).items():
                    found = dict(LABEL.findall(labels))
                    key = (found.get("queue", ""), found.get("type", ""))
                    counts[key] = counts.get(key, 0.0) + value
        return counts


class Bench:
    def __init__(self, plan: Plan, args: argparse.Namespace, run_dir: Path) -> None:
        self.plan, self.args, self.run_dir = plan, args, run_dir
        self.capture_dir = run_dir / "commands"
        self.prefix = f"bench_{uuid.uuid4().hex[:8]}"
        self.admin = rabbit.RabbitAdmin(rabbit.MANAGEMENT_URL)
        self.report: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        with ExitStack() as cleanup:
            mongo_url = self.args.mongo_url
            if not mongo_url:
                store = None if self.args.memory else self.run_dir / "mongo.sqlite"
                standin = MongoStandin(path=store)
                cleanup.callback(standin.stop)
                mongo_url = standin.url
            stack, inbox = cleanup.enter_context(
                own_stack(
                    mongo_url,
                    self.admin,
                    self.run_dir / "logs",
                    SERVICE_SETTINGS,
                    api_workers=API_WORKERS,
                    db_prefix=self.prefix,
                    stack_type=partial(BenchStack, self.capture_dir),
                    keep_databases=self.args.keep_databases,
                )
            )
            vhost = stack.vhost
            settling = Settling(mongo_url, self.prefix, self.admin, vhost, rabbit.amqp_url(vhost))
            cleanup.callback(settling.close)
            clinic = set_up_clinic(stack, self.admin, vhost)
            cleanup.callback(clinic.partner.close)
            try:
                self._measure(stack, clinic, inbox, settling, mongo_url, vhost)
            except BaseException:
                print(stack.logs(), file=sys.stderr)
                raise
        return self.report

    def _measure(self, stack, clinic, inbox, settling, mongo_url: str, vhost: str) -> None:
        plan, driver = self.plan, LoopDriver(stack, clinic, inbox)
        warm = driver.run(plan.warmup_referrals, plan.rate_per_s, timeout_s=120)
        wait_for_welcomes(inbox, warm, timeout_s=120)
        settling.wait(len(driver.trips), timeout_s=120)
        idle = self._idle(stack)

        count = max(1, round(plan.rate_per_s * plan.seconds))
        profiler = Profiler(self.run_dir / "profiles") if self.args.profile else None
        if profiler:
            profiler.start(stack.process_roots())
        try:
            trips, cpu, hops, counters, window_s = self._loops(
                stack, clinic, settling, driver, idle, count
            )
        finally:
            if profiler:
                self.report["profile"] = profiler.stop()
        self._bare_and_apis(stack, clinic, mongo_url, vhost, trips, cpu, hops, counters, window_s)

    def _loops(self, stack, clinic, settling, driver: LoopDriver, idle, count: int) -> tuple:
        """The measured loop, the loop at 5 times the rate, the care stages at both rates."""
        plan = self.plan
        state_before, counters_before = snapshot(settling.db), stack.event_counters()
        handled_before = stack.handled_counts()
        cpu_before, started = sample(stack.process_roots()), time.time()
        trips = driver.run(count, plan.rate_per_s, timeout_s=plan.seconds + 300)
        wait_for_welcomes(driver.inbox, trips, timeout_s=300)
        settling.wait(len(driver.trips), timeout_s=300)
        cpu, ended = spent(cpu_before, sample(stack.process_roots())), time.time()
        counters = figures.counter_difference(counters_before, stack.event_counters())
        handled_after = stack.handled_counts()
        handled = {k: n - handled_before.get(k, 0.0) for k, n in handled_after.items()}
        hops = split_hops(handled)
        self.report["loop"] = figures.loop_figures(
            referrals=count,
            rate_per_s=plan.rate_per_s,
            window_s=ended - started,
            commands=capture.within(capture.read(self.capture_dir), started, ended),
            counters=counters,
            state=changes(state_before, snapshot(settling.db)),
            idle=idle,
        )
        self.report["loop"]["ack_only_hops"] = ack_only_types(handled)
        low = driver.stage_latencies(trips, settling.db("planning"))

        fast_rate = plan.rate_per_s * FAST_FACTOR
        fast = driver.run(max(1, round(fast_rate * plan.fast_seconds)), fast_rate, timeout_s=900)
        wait_for_welcomes(driver.inbox, fast, timeout_s=900)
        settling.wait(len(driver.trips), timeout_s=600)
        stages = {
            plan.rate_per_s: low,
            fast_rate: driver.stage_latencies(fast, settling.db("planning")),
        }
        care = CareDriver(
            stack.url("planning"), clinic.admin_key, settling.db, driver.wall_minus_perf
        )
        driver.own_referrers = True  # the progress reports told apart by their address
        for rate in stages:  # after the last settling: the plans then leave "draft"
            care_trips = driver.run(plan.care_referrals, rate, timeout_s=300)
            stages[rate].update(care.latencies(care.run(care_trips, rate)))
        self.report["latency_s"] = {
            "low_rate": figures.stage_latency_figures(stages[plan.rate_per_s], plan.rate_per_s),
            "five_times": figures.stage_latency_figures(stages[fast_rate], fast_rate),
            "care_referrals_per_rate": plan.care_referrals,
        }
        return trips, cpu, hops, counters, ended - started

    def _bare_and_apis(
        self, stack, clinic, mongo_url, vhost, trips, cpu, hops, counters, window_s: float
    ) -> None:
        """The bare hop (paced, in bursts), HTTP, sign-in, the console, shapes, memory."""
        plan, count, idle = self.plan, self.report["loop"]["referrals"], self.report["loop"]["idle"]
        bare_args = (rabbit.amqp_url(vhost), mongo_url, f"{self.prefix}_bare", plan.bare_warmup)
        working_rate = hops["working"] / count * plan.rate_per_s  # the loop's own pace
        bare = bare_hop(
            *bare_args,
            max(30, round(working_rate * plan.bare_paced_s)),
            feeding=Feeding.paced(working_rate),
        )
        bare_burst = bare_hop(*bare_args, plan.bare_events, feeding=BURST)
        self.report["cpu"] = figures.cpu_figures(
            referrals=count,
            window_s=window_s,
            cpu=cpu,
            idle=idle,
            counters=counters,
            hops=hops,
            bare=bare,
            bare_burst=bare_burst,
        )
        self.report["http"] = self._http(
            stack, clinic.admin_key, [t.referral_id for t in trips if t.referral_id], mongo_url
        )
        self.report["sign_in"] = sign_in_figures(
            stack, clinic.tenant_id, clinic.staff, plan.sign_ins, plan.verifications
        )
        self.report["console"] = (
            console_pages.console_figures(stack, mongo_url, self.prefix, plan.console)
            if not self.args.no_console
            else {"skipped": "--no-console", "pages": {}}
        )
        self.report["query_shapes"] = self._shapes(mongo_url)
        self.report["rss_mb"] = resident_memory(stack.process_roots())

    def _idle(self, stack: BenchStack) -> dict[str, Any]:
        """What the processes do with nothing to do (polling), per second."""
        before, started = sample(stack.process_roots()), time.time()
        time.sleep(self.plan.idle_s)  # measuring idleness itself: nothing to wait for
        cpu, ended = spent(before, sample(stack.process_roots())), time.time()
        commands = capture.within(capture.read(self.capture_dir), started, ended)
        return figures.idle_figures(ended - started, commands, cpu)

    def _http(self, stack: BenchStack, key: str, referral_ids: list[str], mongo_url: str) -> dict:
        """A read (a referral) and a write (a patient's consent, each client thread on a patient
        of its own, email consent switched on and off) on intake and on the bare app."""
        patient_ids = self._copy_for_the_bare_app(mongo_url, referral_ids)
        endpoints = {
            "read": ("GET", ["/referrals/" + referral_ids[0]], [None]),
            "write": (
                "PUT",
                [f"/patients/{patient_id}/consent" for patient_id in patient_ids],
                [{"email": on, "sms": False} for on in (False, True)],
            ),
        }
        headers = {"Authorization": f"Bearer {key}"}

        def measure_all(name: str, pid: int, base_url: str) -> dict[str, dict[str, Any]]:
            return {
                kind: http_load.measure(
                    name,
                    pid,
                    [base_url + path for path in paths],
                    headers,
                    self.plan.http_s,
                    method=method,
                    bodies=bodies,
                )
                for kind, (method, paths, bodies) in endpoints.items()
            }

        real = measure_all("intake-api", stack.apis["intake"].popen.pid, stack.url("intake"))
        env = {
            **python_env(),
            "MONGO_URL": mongo_url,
            "BENCH_BARE_DB": f"{self.prefix}_bare",
            COMMAND_LOG: str(self.run_dir / "bare-commands"),  # the same capture, kept apart
        }
        bare_app = http_load.bare_app(env, self.run_dir / "logs", API_WORKERS)
        try:
            bare = measure_all("bare-api", bare_app.popen.pid, bare_app.url)
        finally:
            bare_app.stop()
        return {
            "gunicorn": f"shared/gunicorn_conf.py, {API_WORKERS} sync workers",
            "client_threads": http_load.THREADS,
            **{
                kind: {
                    "endpoint": ENDPOINTS[kind],
                    "bare_endpoint": BARE_ENDPOINTS[kind],
                    "real": real[kind],
                    "bare": bare[kind],
                    "ratio_cpu_per_request": figures.ratio(
                        real[kind]["cpu_ms_per_request"], bare[kind]["cpu_ms_per_request"]
                    ),
                    "ratio_requests_per_s": figures.ratio(
                        real[kind]["requests_per_s"], bare[kind]["requests_per_s"]
                    ),
                }
                for kind in endpoints
            },
        }

    def _copy_for_the_bare_app(self, mongo_url: str, referral_ids: list[str]) -> list[str]:
        """The read's referral (the first), and the patients of the first `http_load.THREADS` referrals (the
        write's), copied into the bare app's database; returns those patients' ids."""
        client = MongoClient(mongo_url)
        try:
            intake, bare = client[f"{self.prefix}_intake"], client[f"{self.prefix}_bare"]

            def plain(document: dict[str, Any] | None) -> dict[str, Any]:
                kept = {k: v for k, v in (document or {}).items() if not k.startswith("outbox")}
                return json.loads(json.dumps(kept, default=str))

            read = intake.referrals.find_one({"_id": referral_ids[0]})
            bare.referrals.insert_one(plain(read))
            referrals = intake.referrals.find(
                {"_id": {"$in": referral_ids[: http_load.THREADS]}}, {"patient_id": 1}
            )
            patient_ids = [r["patient_id"] for r in referrals]
            patients = intake.patients.find({"_id": {"$in": patient_ids}})
            bare.patients.insert_many([plain(p) for p in patients])
            return patient_ids
        finally:
            client.close()

    def _shapes(self, mongo_url: str) -> dict[str, Any]:
        client = MongoClient(mongo_url)
        try:
            indexes = declared_indexes(client, [f"{self.prefix}_{s}" for s in SERVICES])
        finally:
            client.close()
        uses = query_shapes(capture.read(self.capture_dir), indexes)
        examples = [  # with values (test data), for `explain` on real MongoDB; not in the report
            {
                "db": u.db,
                "collection": u.collection,
                "command": u.command,
                "filter": u.example,
                "sort": list(u.sort),
                "whole_collection_read": u.whole_collection_read,
            }
            for u in uses
        ]
        (self.run_dir / EXAMPLES_FILE).write_text(json.dumps(examples, indent=1))
        return {
            "count": len(uses),
            "unindexed": [u.to_json() for u in uses if u.unindexed],
            "shapes": [u.to_json() for u in uses],
        }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a few referrals, a few seconds each")
    parser.add_argument("--memory", action="store_true", help="in-memory stand-in, not SQLite")
    parser.add_argument("--mongo-url", help="use this MongoDB instead of a fresh stand-in")
    parser.add_argument("--out", type=Path, help="write the JSON here (default var/bench/...)")
    parser.add_argument(
        "--run-dir",
        type=Path,
        help="logs and captures here (kept); default: a "
        "temporary directory under var/bench, removed at the end",
    )
    parser.add_argument("--keep-databases", action="store_true", help="do not drop them after")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy on every service process during the loops (tools/bench/profile.py)",
    )
    parser.add_argument(
        "--no-console",
        action="store_true",
        help="skip the console's pages (their clinic's seeding)",
    )
    return parser.parse_args()


def main() -> int:
    args = arguments()
    plan = SHORT if args.short else FULL
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=bench_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    bench = Bench(plan, args, run_dir)
    store = "mongoeco in memory" if args.memory else "mongoeco on SQLite"
    report: dict[str, Any] = {
        "mode": "short" if args.short else "full",
        "store": "the MongoDB at --mongo-url" if args.mongo_url else store,
        "started_at": stamp,
        "plan": asdict(plan),
        "service_settings": {**SERVICE_SETTINGS, "API_WORKERS": API_WORKERS},
        "databases": f"{bench.prefix}_*",
    }
    try:
        report.update(bench.run())
    finally:
        if not args.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["summary"] = figures.summary(report)
    report["problems"] = figures.problems(report)
    out = args.out or bench_dir / f"bench-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    print(f"written to {out}", file=sys.stderr)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
