"""The clinic's staff during the soak, over the public HTTP APIs: for each referral the partner
heard accepted, record the intake, approve the drafted plan, book a session (entered after the
visit), record it, and discharge.

Each case moves one step at a time and looks before it acts again, so a call whose answer was
lost (an API process killed under it, a 503) is never simply repeated: a step that may have
happened is checked first (the plan already approved, the session already booked). A 5xx or
no answer leaves the step to try again a little later; any other refusal stops the case and is
reported with the API's answer.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import requests

from testkit.staff import StaffClient
from testkit.staff_forms import clear_intake_form, session_notes
from tools.soak.answers import Answers

RETRY_S = 1.0
CLERKS = 4  # staff working at once, each on its share of the cases (an API call takes seconds
# on a loaded machine: one clerk alone falls behind)
WAIT_FOR_PLAN_S = 1.0
CONFLICTS_BEFORE_GIVING_UP = 20  # a 409 again and again is not a race any more: report it
STEPS = ("intake", "plan", "book", "treat", "discharge", "done")


@dataclass
class Case:
    reference: str  # the partner's referral id
    referral_id: str
    clerk: int = 0  # which of the staff works on it
    step: str = "intake"
    plan_id: str | None = None
    session_id: str | None = None
    next_at: float = 0.0
    problem: str | None = None
    conflicts: int = 0

    @property
    def open(self) -> bool:
        return self.step != "done" and self.problem is None


class Unanswered(Exception):
    """No answer, or a 5xx: try the step again later."""


class Desk:
    def __init__(self, staff: StaffClient, location_id: str, answers: Answers) -> None:
        self.staff, self.location_id, self.answers = staff, location_id, answers
        self.cases: dict[str, Case] = {}
        self.incoming: queue.Queue[Case] = queue.Queue()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(
                target=self._work, args=(clerk,), name=f"soak-clerk-{clerk}", daemon=True
            )
            for clerk in range(CLERKS)
        ]
        self._sessions = threading.local()

    def take(self, reference: str, referral_id: str) -> None:
        """A referral the partner heard accepted: its care starts."""
        self.incoming.put(Case(reference, referral_id))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def open_cases(self) -> list[Case]:
        self._take_incoming()
        return [case for case in list(self.cases.values()) if case.open]

    def report(self) -> dict[str, Any]:
        cases = list(self.cases.values())
        return {
            "cases": len(cases),
            "by_step": {s: sum(c.step == s for c in cases) for s in STEPS},
            "stopped": [f"{c.reference} at {c.step}: {c.problem}" for c in cases if c.problem],
        }

    # --- the work ------------------------------------------------------------------------------

    def _take_incoming(self) -> None:
        with self._lock:
            while True:
                try:
                    case = self.incoming.get_nowait()
                except queue.Empty:
                    return
                case.clerk = len(self.cases) % CLERKS
                self.cases.setdefault(case.referral_id, case)

    def _work(self, clerk: int) -> None:
        while not self.stopping.is_set():
            self._take_incoming()
            now = time.monotonic()
            mine = [c for c in list(self.cases.values()) if c.clerk == clerk]
            for case in [c for c in mine if c.open and c.next_at <= now]:
                if self.stopping.is_set():
                    return
                try:
                    self._advance(case)
                except Unanswered:
                    case.next_at = time.monotonic() + RETRY_S
            self.stopping.wait(0.2)

    def _advance(self, case: Case) -> None:
        step = getattr(self, f"_{case.step}")
        step(case)

    def _intake(self, case: Case) -> None:
        form = clear_intake_form(case.referral_id, signed_by=f"Patient {case.reference}", pain=7)
        status, body = self._call("POST", "intake", "/intakes", json=form)
        if status in (201, 409):  # 409: recorded already (an answer lost before)
            case.step = "plan"
        else:
            case.problem = f"POST /intakes {status}: {body}"

    def _plan(self, case: Case) -> None:
        status, body = self._call("GET", "planning", f"/plans?referral_id={case.referral_id}")
        plans = body.get("items") if status == 200 and isinstance(body, dict) else None
        if not plans:
            case.next_at = time.monotonic() + WAIT_FOR_PLAN_S  # planning has not drafted it yet
            return
        plan = plans[0]
        case.plan_id = plan["plan_id"]
        if plan["status"] != "draft":  # approved already (an answer lost before)
            case.step = "book"
            return
        path = f"/plans/{case.plan_id}/approve"
        status, body = self._call("POST", "planning", path, json={"version": plan["version"]})
        if status == 200:
            case.step = "book"
        else:  # 409: changed meanwhile; look again
            self._refused(case, f"POST {path}", status, body)

    def _book(self, case: Case) -> None:
        path = f"/plans/{case.plan_id}/sessions"
        status, body = self._call("GET", "planning", path)
        if status != 200:
            raise Unanswered
        if body["items"]:  # booked already (an answer lost before)
            case.session_id = body["items"][0]["session_id"]
            case.step = "treat"
            return
        visit = datetime.combine(date.today() - timedelta(days=1), datetime.min.time())
        booking = {  # a therapist of its own: one visit each, never double-booked
            "therapist_id": f"th-{case.reference.lower()}",
            "location_id": self.location_id,
            "starts_at_local": (visit + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M"),
        }
        status, body = self._call("POST", "planning", path, json=booking)
        if status == 201:
            case.session_id, case.step = body["session_id"], "treat"
        else:
            self._refused(case, f"POST {path}", status, body)

    def _treat(self, case: Case) -> None:
        path = f"/plans/{case.plan_id}/sessions/{case.session_id}"
        status, body = self._call("GET", "planning", path)
        if status != 200:
            raise Unanswered
        if body["status"] == "completed":
            case.step = "discharge"
            return
        notes = session_notes([{"measure": "NPRS", "score": 4}])
        status, body = self._call("POST", "planning", f"{path}/complete", json=notes)
        if status == 200:
            case.step = "discharge"
        else:
            self._refused(case, f"POST {path}/complete", status, body)

    def _discharge(self, case: Case) -> None:
        path = f"/plans/{case.plan_id}"
        status, plan = self._call("GET", "planning", path)
        if status != 200:
            raise Unanswered
        if plan["status"] == "completed":
            case.step = "done"
            return
        body = {"version": plan["version"], "reason": "goals met"}
        status, answer = self._call("POST", "planning", f"{path}/complete", json=body)
        if status == 200:
            case.step = "done"
        else:
            self._refused(case, f"POST {path}/complete", status, answer)

    def _refused(self, case: Case, call: str, status: int, body: Any) -> None:
        """A 409 is looked at again (a race with the system's own change, or our lost answer),
        until it has come back too often; any other refusal stops the case."""
        case.conflicts += status == 409
        if status != 409 or case.conflicts > CONFLICTS_BEFORE_GIVING_UP:
            case.problem = f"{call} {status}: {body}"
        else:
            case.next_at = time.monotonic() + RETRY_S

    def _session(self) -> requests.Session:
        """This clerk's own HTTP session (a session is not shared between threads)."""
        if not hasattr(self._sessions, "session"):
            self._sessions.session = requests.Session()
            self._sessions.session.headers.update(self.staff.session.headers)
        return self._sessions.session

    def _call(self, method: str, service: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, JSON body); `Unanswered` for no answer or a 5xx (counted either way)."""
        url = f"{self.staff.urls[service]}{path}"
        try:
            response = self._session().request(method, url, timeout=30, **kwargs)
        except requests.RequestException:
            self.answers.note_unanswered()
            raise Unanswered from None
        self.answers.note(service, method, path, response)
        if response.status_code >= 500:
            raise Unanswered
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text[:300]
