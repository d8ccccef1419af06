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

    def patient_plans(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's latest 20 plans, newest first, with their sessions (and, as the role
        may read them, notes, measurements and progress)."""
        return self.http.get(f"/patients/{patient_id}/plans", page_size=20)["items"]
