"""An active treatment plan made through the public APIs, for the console's calendar and session
pages (tests and the benchmark alike): the intake recorded, planning's draft waited for, then
approved by a clinician."""

from __future__ import annotations

from typing import Any

from testkit.staff import StaffClient
from testkit.staff_forms import clear_intake_form
from testkit.waiting import wait_until


def active_plan(
    desk: StaffClient, clinician: StaffClient, referral_id: str, timeout_s: float = 90
) -> dict[str, Any]:
    """The approved plan of an accepted referral (its intake has a clear screening)."""
    desk.post("intake", "/intakes", clear_intake_form(referral_id), expect=201)
    plan = wait_until(
        lambda: (
            (found := desk.get("planning", f"/plans?referral_id={referral_id}")["items"])
            and found[0]["status"] == "draft"
            and found[0]
        ),
        timeout=timeout_s,
        message="the drafted plan",
    )
    return clinician.post(
        "planning", f"/plans/{plan['plan_id']}/approve", {"version": plan["version"]}
    )
