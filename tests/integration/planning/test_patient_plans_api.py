"""A patient's plans in one call (`GET /patients/<id>/plans`, the console's chart): newest first,
each with its sessions; notes, measurements and progress only for the roles that may read them;
never another location's or clinic's plan."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tests.support import planning_data as data
from tests.support.planning_api import InProcess, PlanningApi


def test_a_patients_plans_come_with_their_sessions_as_the_role_may_see_them(
    client, db, deliver, keys
):
    api = PlanningApi(InProcess(client))
    first = data.intake_completed()
    patient_id = first["patient_id"]
    second = data.intake_completed(patient_id=patient_id)
    for intake in (first, second):
        deliver(data.intake_event("intake.completed", intake))
    plan = db.plans.find_one({"referral_id": first["referral_id"]})
    assert api.approve(keys.therapist, plan["_id"]).status == 200
    when = datetime.combine(date.today() + timedelta(days=2), time(10, 0))
    assert api.schedule(keys.front_desk, plan["_id"], when).status == 201

    def plans(key):
        reply = InProcess(client).call("GET", f"/patients/{patient_id}/plans", key)
        assert reply.status == 200, reply.body
        return reply.body["items"]

    clinician = {p["referral_id"]: p for p in plans(keys.therapist)}
    assert set(clinician) == {first["referral_id"], second["referral_id"]}
    [session] = clinician[first["referral_id"]]["sessions"]
    assert session["status"] == "scheduled" and "measurements" in session
    assert {m["measure"] for m in clinician[first["referral_id"]]["measures"]} >= {"NPRS"}
    assert clinician[second["referral_id"]]["sessions"] == []
    desk = {p["referral_id"]: p for p in plans(keys.front_desk)}[first["referral_id"]]
    [booked] = desk["sessions"]
    assert "record" not in booked and "measurements" not in booked and desk["measures"] == []
    assert plans(keys.uptown_therapist) == [] and plans(keys.other_admin) == []
