"""`make bench-scale`: how far the loop goes on this machine, and what a bigger clinic costs.

    .venv/bin/python -m tools.bench.scale [--short] [--rates 2,4,6,...] [--sizes 1000,10000]

On its own stack (six service processes, testkit/stack.py), a fresh RabbitMQ vhost and the
MongoDB stand-in **in memory** (`--sqlite`: on SQLite, as `make run`):

1. **Saturation**: referrals at each rate of `--rates` for `--step-s` seconds (each intake
   completed over HTTP as it is accepted, as `make bench`), the system left to settle between
   steps; per step the p50/p95/p99 of each stage of tools/bench/loop.py (status to the partner,
   welcome email, plan drafted after the intake) and the CPU per referral. The saturation rate is
   the largest rate whose every stage kept p99 at or under 1 s, before the first rate that did
   not; the steps go on until a p99 passes 5 s, to show how latency grows.
2. **Clinic size**: the clinic filled to each size of `--sizes` referrals by cloning one
   referral's stored documents (patient, referral, intake, plan, deliveries;
   tools/bench/console_seed.py: new ids, names and MRNs, so every unique index holds), then the
   loop timed again at the low rate. Per size: the services' CPU and the stand-in's CPU per
   referral apart (the stand-in's growth is the stand-in's, not the services'); the services'
   also net of what they spend idle (polling, heartbeats: measured for `idle_s` after the
   warm-up), which a step stretched by the stand-in's backlog pays more of; MongoDB commands
   are not recorded (the command log costs CPU of its own), and the latencies.

Prints the JSON and writes it to var/bench/scale-<time>.json (or --out). docs/benchmark.md,
"Scale", has the figures of a run on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from testkit import rabbit
from testkit.mongo import MongoStandin
from testkit.stack import SERVICES, LocalStack, own_stack
from testkit.waiting import StepFailed
from tools.bench.console_seed import Journey, clone_journey
from tools.bench.cpu import cpu_seconds, resident_memory, sample, spent
from tools.bench.figures import percentile
from tools.bench.loop import Clinic, LoopDriver, Settling, Trip, set_up_clinic, wait_for_welcomes

ROOT = Path(__file__).resolve().parents[2]
SERVICE_SETTINGS = {
    "OUTBOX_POLL_INTERVAL_S": "0.5",
    "SCHEDULER_POLL_INTERVAL_S": "1.0",
    "SIGN_IN_RATE_LIMIT": "1000",
}
API_WORKERS = 2
P99_LIMIT_S = 1.0
STOP_P99_S = 5.0
"""The steps go on past the limit (to show how latency grows) until a step's worst p99 passes
this, or not every welcome arrived."""
LOW_RATE = 2.0
CLONE_BATCH = (
    200  # larger batches keep the stand-in from answering pymongo's heartbeats: pools reset
)


@dataclass(frozen=True)
class Plan:
    rates: tuple[float, ...]
    step_s: float
    sizes: tuple[int, ...]
    size_seconds: float
    idle_s: float = 10.0


FULL = Plan(rates=(1, 2, 3, 4, 6, 8, 10), step_s=30, sizes=(1000, 3000), size_seconds=30)
"""3,000, not 10,000: the stand-in fills a clinic at about 3 referrals a second by then, slowing
(docs/benchmark.md, "Scale"); `--sizes 1000,10000` asks for the rest."""
SHORT = Plan(rates=(2, 4), step_s=3, sizes=(30,), size_seconds=3, idle_s=2)


def stage_figures(stages: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        name: {p: percentile(values, q) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
        for name, values in stages.items()
        if values
    }


def worst_p99(figures: dict[str, dict[str, float]]) -> float:
    return max(f["p99"] for f in figures.values())


def saturation_rate(steps: list[dict[str, Any]]) -> float | None:
    """The largest rate of the steps run in order whose worst p99 kept within the limit, before
    the first that did not."""
    best = None
    for step in steps:
        if step["worst_p99_s"] > P99_LIMIT_S or not step["all_welcomed"]:
            break
        best = step["rate_per_s"]
    return best


class Scale:
    def __init__(self, plan: Plan, args: argparse.Namespace, run_dir: Path) -> None:
        self.plan, self.args, self.run_dir = plan, args, run_dir
        self.prefix = f"scale_{uuid.uuid4().hex[:8]}"
        self.admin = rabbit.RabbitAdmin(rabbit.MANAGEMENT_URL)
        self.report: dict[str, Any] = {}
        self.standin: MongoStandin | None = None
        self.idle_cpu_s_per_s: dict[str, float] = {}

    def run(self) -> dict[str, Any]:
        with ExitStack() as cleanup:
            self.standin = MongoStandin(
                path=self.run_dir / "mongo.sqlite" if self.args.sqlite else None
            )
            cleanup.callback(self.standin.stop)
            stack, inbox = cleanup.enter_context(
                own_stack(
                    self.standin.url,
                    self.admin,
                    self.run_dir / "logs",
                    SERVICE_SETTINGS,
                    api_workers=API_WORKERS,
                    db_prefix=self.prefix,
                )
            )
            vhost = stack.vhost
            settling = Settling(
                self.standin.url, self.prefix, self.admin, vhost, rabbit.amqp_url(vhost)
            )
            cleanup.callback(settling.close)
            clinic = set_up_clinic(stack, self.admin, vhost)
            cleanup.callback(clinic.partner.close)
            try:
                driver = LoopDriver(stack, clinic, inbox)
                warm = driver.run(3, LOW_RATE, timeout_s=120)
                wait_for_welcomes(inbox, warm, timeout_s=120)
                settling.wait(len(driver.trips), timeout_s=120)
                self.idle_cpu_s_per_s = self._idle(stack)
                self.report["idle_cpu_ms_per_s"] = {
                    name: round(1000 * rate, 2) for name, rate in self.idle_cpu_s_per_s.items()
                }
                self.report["saturation"] = self._saturation(stack, driver, settling)
                self.report["clinic_size"] = self._sizes(stack, clinic, driver, settling, warm[0])
                self.report["resident_memory_mb"] = resident_memory(self._roots(stack))
            except BaseException:
                print(stack.logs(), file=sys.stderr)
                raise
        return self.report

    def _roots(self, stack: LocalStack) -> dict[str, int]:
        roots = {f"{s}-api": stack.apis[s].popen.pid for s in SERVICES}
        roots.update({f"{s}-worker": stack.workers[s].popen.pid for s in SERVICES})
        return roots

    def _standin_cpu(self) -> float:
        assert self.standin is not None
        return cpu_seconds(self.standin.process.pid) or 0.0

    def _idle(self, stack: LocalStack) -> dict[str, float]:
        """CPU seconds a second of each service process with nothing to do (polling, heartbeats):
        a step that lasts longer (the stand-in's backlog) pays more of it per referral."""
        before, started = sample(self._roots(stack)), time.monotonic()
        time.sleep(self.plan.idle_s)  # measuring idleness itself: nothing to wait for
        cpu, seconds = spent(before, sample(self._roots(stack))), time.monotonic() - started
        return {name: used / seconds for name, used in cpu.items()}

    def _timed(
        self, stack: LocalStack, driver: LoopDriver, settling: Settling, count: int, rate: float
    ) -> dict[str, Any]:
        """`count` referrals at `rate`: latencies by stage, CPU per referral (services, stand-in)."""
        before, standin_before, started = (
            sample(self._roots(stack)),
            self._standin_cpu(),
            time.monotonic(),
        )
        trips: list[Trip] = driver.run(count, rate, timeout_s=count / rate + 600)
        welcomed = True
        try:
            wait_for_welcomes(driver.inbox, trips, timeout_s=600)
        except StepFailed:
            welcomed = False
        settling.wait_for([t.referral_id for t in trips if t.referral_id], timeout_s=900)
        cpu = spent(before, sample(self._roots(stack)))
        window_s = time.monotonic() - started
        standin_cpu = self._standin_cpu() - standin_before
        idle_s = sum(self.idle_cpu_s_per_s.values()) * window_s
        stages = stage_figures(driver.stage_latencies(trips, settling.db("planning")))
        return {
            "rate_per_s": rate,
            "referrals": count,
            "seconds": round(window_s, 1),
            "all_welcomed": welcomed,
            "latency_s": stages,
            "worst_p99_s": worst_p99(stages),
            "cpu_ms_per_referral": {
                "services": round(1000 * sum(cpu.values()) / count, 1),
                "services_net_of_idle": round(1000 * (sum(cpu.values()) - idle_s) / count, 1),
                "mongo_standin": round(1000 * standin_cpu / count, 1),
                "by_process": {k: round(1000 * v / count, 1) for k, v in cpu.items()},
            },
        }

    def _saturation(self, stack: LocalStack, driver: LoopDriver, settling: Settling) -> dict:
        steps = []
        for rate in self.plan.rates:
            count = max(1, round(rate * self.plan.step_s))
            print(f"scale: {count} referrals at {rate}/s", file=sys.stderr, flush=True)
            step = self._timed(stack, driver, settling, count, rate)
            steps.append(step)
            p99s = {name: f["p99"] for name, f in step["latency_s"].items()}
            print(f"scale: p99 by stage {p99s}", file=sys.stderr, flush=True)
            if step["worst_p99_s"] > STOP_P99_S or not step["all_welcomed"]:
                break
        return {
            "p99_limit_s": P99_LIMIT_S,
            "step_s": self.plan.step_s,
            "rate_per_s": saturation_rate(steps),
            "steps": steps,
        }

    def _sizes(
        self, stack: LocalStack, clinic: Clinic, driver: LoopDriver, settling: Settling, trip: Trip
    ) -> list[dict[str, Any]]:
        journey = journey_of(self.standin.url if self.standin else "", self.prefix, driver, trip)
        out, cloned_so_far = [], 0
        for size in self.plan.sizes:
            have = settling.db("intake").referrals.count_documents({"tenant_id": clinic.tenant_id})
            if size > have:
                print(f"scale: cloning {size - have} referrals", file=sys.stderr, flush=True)
                cloned = clone_journey(
                    self.standin.url if self.standin else "",
                    self.prefix,
                    journey,
                    clones=size - have,
                    weeks=12,
                    seed=size,
                    first=cloned_so_far + 1,
                    batch=CLONE_BATCH,
                )
                cloned_so_far += size - have
            else:
                cloned = {"seconds": 0}
            count = max(1, round(LOW_RATE * self.plan.size_seconds))
            timed = self._timed(stack, driver, settling, count, LOW_RATE)
            out.append({"referrals_in_clinic": size, "cloning_s": cloned["seconds"], **timed})
        return out


def journey_of(mongo_url: str, prefix: str, driver: LoopDriver, trip: Trip) -> Journey:
    """The stored referral of one trip, as console_seed clones a journey."""
    client = MongoClient(mongo_url)
    try:
        intake, planning = client[f"{prefix}_intake"], client[f"{prefix}_planning"]
        referral = intake.referrals.find_one({"_id": trip.referral_id})
        assert referral, f"referral {trip.referral_id} is not stored"
        plan = planning.plans.find_one({"referral_id": trip.referral_id})
        assert plan, "the trip's plan is not stored"
        patient = intake.patients.find_one({"_id": referral["patient_id"]})
        assert patient, "the trip's patient is not stored"
        return Journey(
            tenant_id=driver.clinic.tenant_id,
            location_id=referral.get("location_id") or plan.get("location_id"),
            zone="America/New_York",
            patient_id=referral["patient_id"],
            referral_id=referral["_id"],
            plan_id=plan["_id"],
            patient={  # as stored: what each clone replaces with its own
                "given_name": patient.get("given_name", ""),
                "family_name": patient.get("family_name", ""),
                "identifiers": patient.get("identifiers") or [{"value": ""}],
                "email": patient.get("email", ""),
            },
            partner_referral_id=trip.partner_referral_id,
        )
    finally:
        client.close()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="two rates, one small size")
    parser.add_argument("--rates", help="referrals/s, comma-separated, in order")
    parser.add_argument("--step-s", type=float, help="seconds of referrals per rate")
    parser.add_argument("--sizes", help="referrals in the clinic, comma-separated")
    parser.add_argument("--sqlite", action="store_true", help="stand-in on SQLite, not in memory")
    parser.add_argument("--out", type=Path, help="write the JSON here (default var/bench/...)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    plan = SHORT if args.short else FULL
    plan = Plan(
        rates=tuple(float(r) for r in args.rates.split(",")) if args.rates else plan.rates,
        step_s=args.step_s or plan.step_s,
        sizes=tuple(int(s) for s in args.sizes.split(",")) if args.sizes else plan.sizes,
        size_seconds=plan.size_seconds,
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"scale-{stamp}-", dir=bench_dir) as run_dir:
        started = time.monotonic()
        report: dict[str, Any] = {
            "store": "mongoeco on SQLite" if args.sqlite else "mongoeco in memory",
            "started_at": stamp,
            "plan": {"rates": plan.rates, "step_s": plan.step_s, "sizes": plan.sizes},
            **Scale(plan, args, Path(run_dir)).run(),
        }
        report["seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(report, indent=2)
    out = args.out or bench_dir / f"scale-{stamp}.json"
    out.write_text(text + "\n")
    print(text)
    return 0 if report["saturation"]["rate_per_s"] else 1


if __name__ == "__main__":
    sys.exit(main())
