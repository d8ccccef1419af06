"""Letters to the referring prescriber, through the real SMTP server: planning's events name only
the clinic's ids, yet the plan summary, progress and discharge letters carry the prescriber's
own referral id, the patient's name and date of birth, "Dr. Lee" and the clinic's name, from
what intake's referral.accepted told the contact directory."""

from __future__ import annotations

import re

from tests.integration.notifications.harness import NO_QUIET_HOURS
from tests.support.notifications_events import event, referral_accepted

REFERRER = "dr.lee@practice.example"
INTERNAL_IDS = re.compile(r"\b(ref|plan|pat)-pat-1\b|\bplan-1\b")
PLAN = {
    "plan_id": "plan-1",
    "referral_id": "ref-pat-1",
    "patient_id": "pat-1",
    "location_id": "loc-1",
    "referrer": {"name": "Ada Lee", "email": REFERRER},
}
MEASURES = [
    {
        "measure": "NPRS", "baseline": 7.0, "latest": 4.0, "change": -3.0, "percent_change": -42.9,
        "clinically_improved": True, "target": 4.0, "goal_met": True,
    }
]  # fmt: skip


def accepted_by_intake():
    referral = referral_accepted("pat-1", email="maria@example.org", referrer_email=REFERRER)
    referral.data["referrer"].update(name="Ada Lee", prefix="Dr.", family_name="Lee")
    referral.data["clinic_name"] = "Northside Massage"
    return referral


def test_planning_letters_carry_the_prescribers_referral_the_patient_and_the_clinics_name(
    service, inbox
):
    service.configure(**NO_QUIET_HOURS, progress_report_every_sessions=1)
    service.handle(accepted_by_intake())
    summary = {"techniques": ["myofascial release"], "planned_sessions": 8,
               "frequency_per_week": 2, "goals": [{"measure": "NPRS", "baseline": 7, "target": 4}]}  # fmt: skip
    service.handle(
        event("plan.activated", {**PLAN, "summary": summary}),
        event(
            "progress.updated",
            {**PLAN, "measures": MEASURES, "newly_improved": ["NPRS"], "sessions_completed": 4},
        ),
        event(
            "plan.completed",
            {**PLAN, "measures": MEASURES, "sessions_completed": 8, "reason": "goals met"},
        ),
    )
    service.send_due()

    letters = inbox.to(REFERRER)
    assert sorted(m.subject for m in letters) == [
        "Discharge report for your referral REF-pat-1",
        "Plan of care for your referral REF-pat-1",
        "Progress report for your referral REF-pat-1 after 4 sessions",
        "Referral REF-pat-1 accepted by Northside Massage",
    ]
    for letter in letters:
        assert letter.text.startswith("Dear Dr. Lee,"), letter.text
        assert "Maria Lopez, born February 29, 1980" in letter.text
        assert letter.text.rstrip().endswith("Northside Massage")
        assert not INTERNAL_IDS.search(letter.subject + letter.text), letter.text


def test_a_configured_display_name_wins_over_intakes_name_for_the_clinic(service, inbox):
    service.configure(**NO_QUIET_HOURS, clinic_name="Calm Hands")
    service.handle(accepted_by_intake())
    service.send_due()
    [letter] = inbox.to(REFERRER)
    assert letter.subject == "Referral REF-pat-1 accepted by Calm Hands"
