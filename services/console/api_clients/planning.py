"""Planning's API as the console uses it: the plan made for a referral (visits used)."""

from __future__ import annotations

from typing import Any

from services.console.api_clients.http import ServiceApi


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

    def plans(
        self, *, location_id: str | None = None, status: str | None = None, page_size: int = 100
    ) -> dict[str, Any]:
        """A page of plans (newest first), e.g. the active ones a location books sessions for."""
        return self.http.get("/plans", location_id=location_id, status=status, page_size=page_size)

    def plan(self, plan_id: str) -> dict[str, Any]:
        return self.http.get(f"/plans/{plan_id}")

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
