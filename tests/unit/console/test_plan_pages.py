"""The plan pages' pure rules: the edit form to planning's edit and its errors back on the
form's fields, who made a version in words, a stale edit's notice, the list's rows, and the
discharge report previewed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.console.domain.discharge_preview import discharge_preview
from services.console.domain.offers import may, navigation_for
from services.console.domain.places import Place
from services.console.domain.plan_form import edit_body, form_values, on_form
from services.console.domain.plan_page import changed_by, conflict_notice, plan_row

PLACES = (Place("main", "Main", "America/New_York"), Place("lake", "Lakeside", "America/Chicago"))
PLAN = {
    "plan_id": "pln_1",
    "patient_id": "pat_1",
    "location_id": "lake",
    "status": "draft",
    "version": 2,
    "baseline": {"NPRS": 7.0, "ODI": 40.0},
    "sessions_completed": 1,
    "visits": {"used": 2, "authorized": 8, "remaining": 6},
    "created_at": "2026-12-01T15:00:00+00:00",
    "referral": {"referrer": {"name": "Dr. Ada Reyes", "email": "ada@example.org"}},
    "content": {
        "techniques": [{"code": "myofascial_release", "notes": ["gentle"]}],
        "precautions": ["avoid deep pressure"],
        "treatment_areas": ["lower back"],
        "frequency_per_week": 2,
        "session_minutes": 60,
        "planned_sessions": 8,
        "start_on": "2026-12-01",
        "end_on": "2027-01-31",
        "goals": [{"measure": "NPRS", "target": 5.0, "due_on": "2027-01-31"}],
        "notes": "",
    },
}


def test_the_form_shows_the_plan_and_sends_what_was_typed_keeping_technique_notes():
    values = form_values(PLAN)
    assert values["techniques"] == "myofascial_release" and values["frequency_per_week"] == "2"
    assert values["goal-NPRS-target"] == "5" and "goal-ODI-target" not in values
    form = {
        **values,
        "techniques": "myofascial_release\n\n swedish_massage ",
        "frequency_per_week": " often ",
        "goal-ODI-target": "28",
        "goal-ODI-due_on": "2027-01-15",
    }
    body, order, missing = edit_body(PLAN, form)
    assert missing == {}
    assert body["techniques"] == [
        {"code": "myofascial_release", "notes": ["gentle"]},
        {"code": "swedish_massage", "notes": []},
    ]
    assert body["frequency_per_week"] == "often"  # planning says what is wrong with it
    assert order == ["NPRS", "ODI"] and body["goals"][1] == {
        "measure": "ODI",
        "target": "28",
        "due_on": "2027-01-15",
    }


def test_an_active_plan_sends_only_techniques_goals_and_notes():
    active = {**PLAN, "status": "active"}
    body, _, _ = edit_body(active, form_values(active))
    assert set(body) == {"version", "techniques", "goals", "notes"}


def test_what_the_form_lacks_is_said_before_planning_is_asked():
    form = {**form_values(PLAN), "techniques": " ", "goal-ODI-due_on": "2027-01-15"}
    _, _, missing = edit_body(PLAN, form)
    assert set(missing) == {"techniques", "goal-ODI-target"}


def test_plannings_errors_land_on_the_forms_fields():
    errors = {
        "frequency_per_week": ["Not a valid integer."],
        "techniques.0.code": ["Shorter than minimum length 1."],
        "goals.1.due_on": ["Not a valid date."],
        "goals": ["NPRS: target 6.5 is less than the MCID", "give exactly one goal per measure"],
    }
    placed = on_form(errors, ["NPRS", "ODI"])
    assert placed == {
        "frequency_per_week": ["Not a valid integer."],
        "techniques": ["Shorter than minimum length 1."],
        "goal-ODI-due_on": ["Not a valid date."],
        "goal-NPRS-target": ["NPRS: target 6.5 is less than the MCID"],
        "goals": ["give exactly one goal per measure"],
    }


def test_who_made_a_version_is_said_in_words():
    assert changed_by({"by": "user:usr_me", "name": "Me"}, "usr_me") == "you"
    assert changed_by({"by": "user:usr_2", "name": "Sam Ortiz"}, "usr_me") == "Sam Ortiz"
    assert changed_by({"changed_by": "user:usr_2", "changed_by_name": None}, "x") == (
        "another member of staff"
    )
    assert changed_by({"by": "system:planning"}, "x") == "the clinic's system (planning)"


def test_a_stale_edit_names_who_changed_the_plan_and_when_in_the_locations_zone():
    current = {"version": 3, "changed_by": "user:usr_2", "changed_by_name": "Sam Ortiz",
               "changed_at": "2026-12-09T15:02:00+00:00"}  # fmt: skip
    notice = conflict_notice(current, "usr_me", ZoneInfo("America/Chicago"))
    assert notice == (
        "Not saved: the plan was changed by Sam Ortiz at Wed 9 Dec 2026, 09:02 CST "
        "(now version 3). Here is the current version."
    )


def test_a_row_of_the_plans_list():
    row = plan_row(PLAN, {"pat_1": "Maria Alvarez"}, PLACES)
    assert (row.patient, row.location, row.sessions, row.visits) == (
        "Maria Alvarez", "Lakeside", "1 of 8 done", "6 of 8 left",
    )  # fmt: skip
    assert row.created == "Tue 1 Dec 2026, 09:00 CST"
    assert plan_row(PLAN, {}, PLACES).patient == "Patient not found"


def test_the_discharge_preview_is_the_report_the_referrer_reads():
    progress = {
        "sessions_completed": 1,
        "measures": [
            {"measure": "NPRS", "baseline": 7.0, "latest": 4.0, "change": 3.0,
             "clinically_improved": True},
            {"measure": "ODI", "baseline": 40.0, "latest": 40.0, "change": 0.0,
             "clinically_improved": False},
        ],
    }  # fmt: skip
    preview = discharge_preview(
        PLAN, progress, patient="Maria Alvarez", partner_referral_id="REF-9", clinic="Northside"
    )
    assert preview.to == "ada@example.org" and preview.greeting == "Dear Dr. Ada Reyes,"
    assert preview.subject == "Discharge report for your referral REF-9"
    assert preview.opening == "Treatment for your referral is complete after 1 session."
    assert preview.reason == "treatment completed"
    assert [(o.measure, o.baseline, o.latest, o.change, o.improved) for o in preview.outcomes] == [
        ("NPRS", "7", "4", "+3", "yes"),
        ("ODI", "40", "40", "0", "no"),
    ]


def test_clinicians_approve_and_discharge_and_every_role_has_the_plans_list():
    assert all(may(role, "plan.approve") for role in ("admin", "therapist"))
    assert not any(may("front_desk", a) for a in ("plan.edit", "plan.approve", "plan.discharge"))
    plans = next(i for i in navigation_for("front_desk") if i.key == "plans")
    assert plans.endpoint == "plans.plans"
