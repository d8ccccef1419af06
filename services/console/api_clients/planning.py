"""Planning's API as the console uses it: the plan made for a referral (visits used); plans,
their edits, approval, progress and closing (pages 7, 10 and 11)."""

from __future__ import annotations

from typing import Any

from services.console.api_clients.http import ServiceApi

Json = dict[str, Any]


class PlanningApi:
    def __init__(self, http: ServiceApi) -> None:
        self.http = http

    def plan_for_referral(self, referral_id: str) -> dict[str, Any] | None:
        """The referral's plan (one per referral), or None while planning has made none."""
        items = self.http.get("/plans", referral_id=referral_id, page_size=1)["items"]
        return items[0] if items else None

    # --- the calendar and its sessions (pages 8 and 9) -----------------------------------------

    def sessions(
        self,
        start: str,
        end: str,
        *,
        location_id: str | None = None,
        therapist_id: str | None = None,
        room_id: str | None = None,
        page_size: int = 100,
    ) -> dict[str, Any]:
        """The sessions starting in [start, end) (ISO 8601 with an offset), by starting time;
        a room is named within its location."""
        return self.http.get(
            "/sessions",
            **{"from": start, "to": end},
            location_id=location_id,
            therapist_id=therapist_id,
            room_id=room_id,
            page_size=page_size,
        )

    def plan_sessions(self, plan_id: str) -> list[dict[str, Any]]:
        """The plan's sessions without notes (a referral authorizes tens, not hundreds)."""
        return self.http.get(f"/plans/{plan_id}/sessions", page_size=100)["items"]

    def session(self, plan_id: str, session_id: str) -> dict[str, Any]:
        """A session with its notes and measurements (clinicians only)."""
        return self.http.get(f"/plans/{plan_id}/sessions/{session_id}")

    def book_session(self, plan_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.post(f"/plans/{plan_id}/sessions", body)

    def reschedule_session(
        self, plan_id: str, session_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.http.post(f"/plans/{plan_id}/sessions/{session_id}/reschedule", body)

    def cancel_session(self, plan_id: str, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.post(f"/plans/{plan_id}/sessions/{session_id}/cancel", body)

    def mark_no_show(self, plan_id: str, session_id: str) -> dict[str, Any]:
        return self.http.post(f"/plans/{plan_id}/sessions/{session_id}/no-show")

    def complete_session(
        self, plan_id: str, session_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.http.post(f"/plans/{plan_id}/sessions/{session_id}/complete", body)

    def plans(
        self,
        *,
        location_id: str | None = None,
        status: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Json:
        """A page of the clinic's plans (those at the person's locations), newest first."""
        return self.http.get(
            "/plans", location_id=location_id, status=status, page=page, page_size=page_size
        )

    def plan(self, plan_id: str) -> Json:
        return self.http.get(f"/plans/{plan_id}")

    def edit_plan(self, plan_id: str, changes: Json) -> Json:
        """Edit the plan (`changes` with the `version` it was made on; 409 if it moved on)."""
        return self.http.call("PATCH", f"/plans/{plan_id}", body=changes)

    def approve_plan(self, plan_id: str, version: int) -> Json:
        return self.http.post(f"/plans/{plan_id}/approve", {"version": version})

    def progress(self, plan_id: str) -> Json:
        """Per measure: baseline, latest, change, MCID reached, goal, and every point in time."""
        return self.http.get(f"/plans/{plan_id}/progress")

    def close_plan(self, plan_id: str, outcome: str, version: int, reason: str) -> Json:
        """Complete or discontinue the plan (`outcome`: "complete" or "discontinue")."""
        body: Json = {"version": version}
        if reason or outcome == "discontinue":
            body["reason"] = reason
        return self.http.post(f"/plans/{plan_id}/{outcome}", body)

    def patient_plans(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's latest 20 plans, newest first, with their sessions (and, as the role
        may read them, notes, measurements and progress)."""
        return self.http.get(f"/patients/{patient_id}/plans", page_size=20)["items"]
