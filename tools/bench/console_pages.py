"""The console's main pages on a clinic of many patients: server time (p50, p95, max) and API calls
per page, read from the `Server-Timing` header every page sends
(services/console/web/server_timing.py); part of `make bench` ("console") and on its own:

    .venv/bin/python -m tools.bench.console_pages [--patients N] [--requests N] [--sqlite] [--out FILE]

The clinic (tools/bench/console_seed.py): one journey through the public APIs, cloned to
`patients` patients of five sessions each, spread over `weeks` weeks at the therapist's
location. The pages, as the front desk (signed in through the console's own form):
inbox (`/referrals`, the default tab, and `?tab=accepted`), patient search (`/patients?name=`,
a family-name prefix), patient chart (`/patients/<id>`), calendar week
(`/calendar?location=...&view=week&date=...`); each asked `requests` times, cycling through
different patients, prefixes and weeks, after one unmeasured request each.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from pymongo import MongoClient

from testkit import rabbit
from testkit.errors import StepFailed
from testkit.mongo import MongoStandin
from testkit.smtp import smtp_server
from testkit.stack import LocalStack
from testkit.staff_accounts import Member, staffed_clinic
from tools.bench.console_seed import (
    FAMILY,
    SESSIONS_PER_PATIENT,
    Journey,
    clone_journey,
    one_journey,
)
from tools.bench.figures import MOST_API_CALLS, console_problems, percentile

ROOT = Path(__file__).resolve().parents[2]
TIMING = re.compile(r'app;dur=([\d.]+), api;dur=([\d.]+);desc="(\d+) calls"')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Size:
    patients: int
    weeks: int
    requests: int  # per page


FULL = Size(patients=1000, weeks=50, requests=40)
SHORT = Size(patients=20, weeks=2, requests=5)


def console_figures(stack: LocalStack, mongo_url: str, db_prefix: str, size: Size) -> dict:
    """Seed a clinic of `size` on a running stack, then time its main pages."""
    started = time.monotonic()
    clinic = staffed_clinic(stack.ops, stack.url("intake"), f"console-{uuid.uuid4().hex[:6]}")
    journey = one_journey(clinic, stack.urls)
    journey_s = time.monotonic() - started
    seeded = clone_journey(mongo_url, db_prefix, journey, size.patients - 1, size.weeks)
    patient_ids = _patient_ids(mongo_url, db_prefix, journey.tenant_id)
    browser = ConsoleBrowser(stack.console_url)
    browser.sign_in(clinic.tenant_id, clinic.front_desk)
    pages = {
        name: browser.measure(paths, size.requests)
        for name, paths in page_paths(journey, patient_ids, size).items()
    }
    return {
        "seed": {
            "patients": len(patient_ids),
            "sessions": len(patient_ids) * SESSIONS_PER_PATIENT,
            "weeks": size.weeks,
            "journey_through_the_apis_s": round(journey_s, 1),
            "cloning_s": seeded["seconds"],
            "documents_per_patient": seeded["documents_per_journey"],
        },
        "signed_in_as": "front_desk",
        "requests_per_page": size.requests,
        "pages": pages,
        "most_api_calls": max(p["api_calls_max"] for p in pages.values()),
        "api_calls_limit": MOST_API_CALLS,
    }


def page_paths(journey: Journey, patient_ids: list[str], size: Size) -> dict[str, list[str]]:
    """Per page, the paths to cycle through (the journey's week and patients first)."""
    rng = random.Random(14)
    zone = ZoneInfo(journey.zone)
    today = datetime.now(zone).date()
    week_days = [today + timedelta(weeks=w) for w in range(-(size.weeks // 4), size.weeks // 4 + 1)]
    prefixes = list(dict.fromkeys(name[:3] for name in FAMILY))
    chosen = rng.sample(patient_ids, min(len(patient_ids), size.requests))

    def calendar(day: Any) -> str:
        args = {"location": journey.location_id, "view": "week", "date": day.isoformat()}
        return f"/calendar?{urlencode(args)}"

    return {
        "inbox": ["/referrals"],
        "inbox_accepted": ["/referrals?tab=accepted"],
        "patient_search": [f"/patients?{urlencode({'name': p})}" for p in prefixes],
        "patient_chart": [f"/patients/{p}" for p in chosen],
        "calendar_week": [calendar(d) for d in week_days],
    }


def _patient_ids(mongo_url: str, db_prefix: str, tenant_id: str) -> list[str]:
    client = MongoClient(mongo_url)
    try:
        found = client[f"{db_prefix}_intake"].patients.find({"tenant_id": tenant_id}, {"_id": 1})
        return sorted(d["_id"] for d in found)
    finally:
        client.close()


class ConsoleBrowser:
    """A person's session on the console over plain HTTP: its cookie, the form token."""

    def __init__(self, console_url: str) -> None:
        self.url = console_url
        self.http = requests.Session()
        self.http.headers["Origin"] = console_url

    def sign_in(self, clinic: str, member: Member) -> None:
        page = self.http.get(f"{self.url}/sign-in", timeout=30)
        token = TOKEN.search(page.text)
        if token is None:
            raise StepFailed("no form token on the console's sign-in page")
        form = {"clinic": clinic, "email": member.email, "password": member.password,
                "csrf_token": token[1]}  # fmt: skip
        answer = self.http.post(f"{self.url}/sign-in", data=form, allow_redirects=False, timeout=30)
        if answer.status_code != 302 or "sign-in" in answer.headers.get("Location", ""):
            raise StepFailed(f"console sign-in of {member.email}: {answer.status_code}")

    def timing(self, path: str) -> tuple[float, float, int, int, int]:
        """(server ms, API ms, API calls, body bytes, status) of one page, from its Server-Timing
        (a page that failed, e.g. 503 when an API did not answer in time, has its figures too)."""
        answer = self.http.get(f"{self.url}{path}", allow_redirects=False, timeout=120)
        if answer.status_code in (302, 401, 403):
            raise StepFailed(f"GET {path} -> {answer.status_code}: signed out or refused")
        found = TIMING.search(answer.headers.get("Server-Timing", ""))
        if found is None:
            raise StepFailed(f"GET {path}: no Server-Timing ({answer.headers})")
        timing = float(found[1]), float(found[2]), int(found[3])
        return *timing, len(answer.content), answer.status_code

    def measure(self, paths: list[str], requests_n: int) -> dict[str, Any]:
        self.timing(paths[0])  # warm: the person's details, the connection pool
        samples = [self.timing(paths[n % len(paths)]) for n in range(requests_n)]
        server = [s[0] for s in samples]
        api = [s[1] for s in samples]
        calls = [s[2] for s in samples]
        return {
            "path": paths[0],
            "requests": len(samples),
            "server_ms_p50": percentile(server, 50),
            "server_ms_p95": percentile(server, 95),
            "server_ms_max": round(max(server), 1),
            "api_ms_p50": percentile(api, 50),
            "api_calls": max(set(calls), key=calls.count),
            "api_calls_max": max(calls),
            "body_kb_max": round(max(s[3] for s in samples) / 1024, 1),
            "failed": sum(s[4] != 200 for s in samples),
        }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=FULL.patients)
    parser.add_argument("--weeks", type=int, default=FULL.weeks)
    parser.add_argument("--requests", type=int, default=FULL.requests, help="per page")
    parser.add_argument("--short", action="store_true", help="a tiny clinic (20 patients)")
    parser.add_argument("--sqlite", action="store_true", help="stand-in on SQLite, not in memory")
    parser.add_argument("--out", type=Path, help="write the JSON here (default var/bench/...)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    size = SHORT if args.short else Size(args.patients, args.weeks, args.requests)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"console-{stamp}-", dir=bench_dir))
    admin, prefix = rabbit.RabbitAdmin(rabbit.MANAGEMENT_URL), f"bench_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    try:
        with ExitStack() as cleanup:
            vhost = admin.create_vhost(f"bench-{uuid.uuid4().hex[:8]}")
            cleanup.callback(admin.delete_vhost, vhost)
            standin = MongoStandin(path=run_dir / "mongo.sqlite" if args.sqlite else None)
            cleanup.callback(standin.stop)
            _inbox, smtp_port = cleanup.enter_context(smtp_server())
            (run_dir / "logs").mkdir()
            stack = LocalStack(
                mongo_url=standin.url,
                db_prefix=prefix,
                amqp_url=rabbit.amqp_url(vhost),
                log_dir=run_dir / "logs",
                smtp_port=smtp_port,
                extra_env={"SIGN_IN_RATE_LIMIT": "1000"},
                api_workers=2,
            )
            cleanup.callback(stack.stop)
            stack.start()
            try:
                console = console_figures(stack, standin.url, prefix, size)
            except BaseException:
                print(stack.logs(), file=sys.stderr)
                raise
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    report = {
        "store": "mongoeco on SQLite" if args.sqlite else "mongoeco in memory",
        "started_at": stamp,
        "console": console,
        "seconds": round(time.monotonic() - started, 1),
        "problems": console_problems(console),
    }
    out = args.out or bench_dir / f"console-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"written to {out}", file=sys.stderr)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
