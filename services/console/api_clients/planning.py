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

    def plans(self, *, status: str | None = None, page: int = 1, page_size: int = 20) -> Json:
        """A page of the clinic's plans (those at the person's locations), newest first."""
        return self.http.get("/plans", status=status, page=page, page_size=page_size)

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
