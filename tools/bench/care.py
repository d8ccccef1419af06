"""The loop's care stages, after the plan is drafted, through the public APIs: a clinician
approves the plan, staff book a session tomorrow (the patient's confirmation) and one that
started an hour ago, which the clinician then records with an NPRS score (the referrer's
progress report: the benchmark's clinic reports after every session).

Timed per trip from the staff's request to the delivery's `sent_at` (the SMTP server took the
message), read from notifications' database with the settling client (not in the capture):
`booking_confirmation` and `progress_report_after_session`. Each trip's referral names a
referrer of its own, so each report is told apart by its address; a confirmation by its
session (a patient's delivery holds no address: it is looked up as it is sent).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from shared.replicas import location_key
from testkit.staff_forms import session_notes
from testkit.waiting import wait_until
from tools.bench.loop import Trip

STAGES = ("booking_confirmation", "progress_report_after_session")
CONFIRMATION, PROGRESS = "patient_session_confirmed", "referrer_progress_report"
CLINICIANS = 4  # staff working at once


@dataclass
class Care:
    trip: Trip
    booked_at: float | None = None
    booked_session: str | None = None
    completed_at: float | None = None
    error: str | None = None


class CareDriver:
    """Approves, books and records, trip by trip, starting one every 1/rate seconds."""

    def __init__(self, planning_url: str, admin_key: str, db_of: Any, wall_minus_perf: float):
        self.url, self.db_of, self.wall_minus_perf = planning_url, db_of, wall_minus_perf
        self.local = threading.local()
        self.key = admin_key

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.key}"
        return self.local.session

    def _post(self, path: str, body: dict[str, Any], expect: int) -> dict[str, Any]:
        response = self._session().post(f"{self.url}{path}", json=body, timeout=30)
        if response.status_code != expect:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def _drafted(self, trip: Trip) -> dict[str, Any]:
        plans = self.db_of("planning").plans
        return wait_until(
            lambda: plans.find_one({"referral_id": trip.referral_id, "status": "draft"}),
            timeout=120,
            interval=0.05,
            message=f"the plan of {trip.referral_id}",
        )

    def _care(self, care: Care) -> None:
        try:
            plan = self._drafted(care.trip)
            plan_id = plan["_id"]
            self._post(f"/plans/{plan_id}/approve", {"version": plan["version"]}, 200)
            location = self.db_of("planning").locations.find_one(
                {"_id": location_key(plan["tenant_id"], plan["location_id"])}
            )
            now = datetime.now(ZoneInfo(location["timezone"])).replace(tzinfo=None)
            earlier = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
            therapist = f"th-bench-{care.trip.n}"
            path = f"/plans/{plan_id}/sessions"
            care.booked_at = time.perf_counter()
            ahead = {
                "therapist_id": therapist,
                "starts_at_local": _local(earlier + timedelta(days=1)),
            }
            care.booked_session = self._post(path, ahead, 201)["session_id"]
            held = self._post(
                path, {"therapist_id": therapist, "starts_at_local": _local(earlier)}, 201
            )
            care.completed_at = time.perf_counter()
            self._post(
                f"{path}/{held['session_id']}/complete",
                session_notes([{"measure": "NPRS", "score": 3}]),
                200,
            )
        except Exception as error:  # reported with the figures; the run then fails
            care.error = f"{type(error).__name__}: {error}"[:400]

    def run(self, trips: list[Trip], rate_per_s: float) -> list[Care]:
        cares = [Care(t) for t in trips]
        started = time.perf_counter()
        with ThreadPoolExecutor(CLINICIANS) as pool:
            for i, care in enumerate(cares):
                time.sleep(max(0.0, started + i / rate_per_s - time.perf_counter()))  # pacing
                pool.submit(self._care, care)
        failed = [c.error for c in cares if c.error]
        if failed:
            raise AssertionError(f"care stages failed: {failed[:3]}")
        return cares

    def sent(self, template: str, by: str, values: list[str], timeout_s: float) -> dict[str, float]:
        """`by` value -> when its `template` delivery was sent (this process's perf clock)."""
        deliveries = self.db_of("notifications").deliveries

        def found() -> dict[str, float] | None:
            done = {
                d[by]: d["sent_at"].timestamp() - self.wall_minus_perf
                for d in deliveries.find(
                    {"template": template, "status": "sent", by: {"$in": values}},
                    {by: 1, "sent_at": 1},
                )
            }
            return done if len(done) >= len(set(values)) else None

        return wait_until(found, timeout=timeout_s, interval=0.2, message=f"{template} sent")

    def latencies(self, cares: list[Care], timeout_s: float = 300) -> dict[str, list[float]]:
        sessions = [c.booked_session or "" for c in cares]
        referrers = [c.trip.referrer_email for c in cares]
        confirmed = self.sent(CONFIRMATION, "session_id", sessions, timeout_s)
        reported = self.sent(PROGRESS, "address", referrers, timeout_s)
        return {
            "booking_confirmation": [
                confirmed[c.booked_session or ""] - (c.booked_at or 0) for c in cares
            ],
            "progress_report_after_session": [
                reported[c.trip.referrer_email] - (c.completed_at or 0) for c in cares
            ],
        }


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")
