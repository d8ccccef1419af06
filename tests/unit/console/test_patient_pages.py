"""The pure rules of the patient pages: the search's filters and rows, the precautions every
page shows (a "modify", "local" or "needs clearance" result stands out), the chart's facts with
times in the location's zone, the intake form's typed values and errors, the intake review and
a clearance's body; and what each role is offered."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from services.console.domain.intake_page import (
    answers_of,
    clearance_body,
    form_names,
    on_form,
    review,
)
from services.console.domain.offers import may, navigation_for
from services.console.domain.paging import asked_page, page_count
from services.console.domain.patient_chart import chart
from services.console.domain.patient_search import row, typed_filters
from services.console.domain.places import Place
from services.console.domain.precautions import latest_precautions, precautions_of

PLACES = (Place("main", "Main", "America/New_York"), Place("lake", "Lakeside", "America/Chicago"))
MODIFY = {
    "outcome": "modify",
    "reasons": [{"rule_id": "anticoagulants", "tier": "modify", "label": "Anticoagulants",
                 "detail": "warfarin", "body_area": None, "modifications": ["light pressure"]}],
    "excluded_areas": [],
    "modifications": ["light pressure"],
    "requires_clearance_for": [],
    "cleared": [],
}  # fmt: skip
CLEARANCE = {
    "outcome": "needs_clearance",
    "reasons": [{"rule_id": "heart-disease", "tier": "clearance", "label": "Heart disease",
                 "detail": "heart_failure"},
                {"rule_id": "open-wound", "tier": "local", "label": "Open wound",
                 "detail": "open_wound", "body_area": "left calf"}],
    "excluded_areas": ["left calf"],
    "modifications": [],
    "requires_clearance_for": ["heart-disease"],
}  # fmt: skip


def test_the_search_sends_only_what_was_typed_and_rows_name_the_locations():
    assert typed_filters({"name": "  alv ", "phone": "", "birth_date": "1978-04-12"}) == {
        "name": "alv",
        "birth_date": "1978-04-12",
    }
    patient = {"patient_id": "pat_1", "given_name": "Maria", "family_name": "Alvarez",
               "birth_date": "1978-04-12", "identifiers": [{"value": "MRN-1"}, {"value": ""}],
               "phone": "+16175550134", "location_ids": ["main", "elsewhere"]}  # fmt: skip
    found = row(patient, PLACES)
    assert (found.name, found.born, found.identifiers) == (
        "Maria Alvarez",
        "Wed 12 Apr 1978",
        "MRN-1",
    )
    assert found.locations == "Main"


def test_precautions_stand_out_for_modify_local_and_clearance_only():
    modify = precautions_of(MODIFY)
    assert modify.stands_out and modify.label == "Modify treatment"
    assert modify.reasons == ("Anticoagulants: warfarin",) and modify.modifications == (
        "light pressure",
    )
    held = precautions_of(CLEARANCE)
    assert held.stands_out and held.awaiting_clearance == ("Heart disease",)
    assert held.reasons[1] == "Open wound: open_wound (left calf)" and held.excluded_areas == (
        "left calf",
    )
    assert not precautions_of({**MODIFY, "outcome": "clear", "reasons": []}).stands_out
    assert precautions_of(None) is None and precautions_of({}) is None
    newest_first = [{"screening": CLEARANCE}, {"screening": MODIFY}]
    assert latest_precautions(newest_first).outcome == "needs_clearance"
    assert latest_precautions([]) is None


def test_the_chart_shows_times_in_the_locations_zone_and_what_needs_an_intake():
    summary = {
        "patient": {"patient_id": "pat_1", "given_name": "Zoë", "family_name": "Lindqvist",
                    "location_id": "lake", "location_ids": ["lake"],
                    "consent": {"email": True, "sms": False, "source": "intake",
                                "updated_at": "2025-12-09T15:00:00+00:00"}},
        "referrals": [
            {"referral_id": "ref_1", "partner_referral_id": "R-1", "status": "accepted",
             "location_id": "lake", "received_at": "2025-12-09T15:00:00Z", "terms": {}},
            {"referral_id": "ref_2", "partner_referral_id": "R-2", "status": "accepted",
             "location_id": "lake", "terms": {"diagnoses": [{"code": "M54.50"}]}},
        ],
        "intakes": [{"intake_id": "int_1", "referral_id": "ref_1", "location_id": "lake",
                     "completed_at": "2025-12-09T15:00:00Z", "screening": MODIFY,
                     "clearances": []}],
    }  # fmt: skip
    plans = [{"plan_id": "pln_1", "status": "active", "location_id": "lake",
              "visits": {"used": 1, "authorized": 6},
              "sessions": [{"session_id": "s1", "location_id": "lake", "status": "completed",
                            "starts_at": "2025-12-10T16:00:00Z", "duration_minutes": 60,
                            "record": {"soap": {"subjective": "better"}},
                            "measurements": [{"measure": "NPRS", "score": 4.0}]}]}]  # fmt: skip
    deliveries = {"items": [{"channel": "sms", "template": "session_reminder", "status": "suppressed",
                             "reason": "no consent", "created_at": "2025-12-09T15:00:00Z",
                             "location_id": "lake"}], "total": 3}  # fmt: skip
    c = chart(summary, plans, deliveries, PLACES)
    assert c.precautions.outcome == "modify"
    assert [r.referral_id for r in c.to_intake] == ["ref_2"]
    assert c.referrals[0].received == "Tue 9 Dec 2025, 09:00 CST"
    assert ("Recorded", "from the intake form, Tue 9 Dec 2025, 09:00 CST") in [
        (f.label, f.value) for f in c.consent
    ]
    session = c.plans[0].sessions[0]
    assert session.starts == "Wed 10 Dec 2025, 10:00 CST" and session.notes == (("S", "better"),)
    assert session.measurements == "NPRS 4" and c.plans[0].visits == "1 of 6 visits used"
    assert (c.messages[0].channel, c.messages[0].reason, c.messages_total) == (
        "Text",
        "no consent",
        3,
    )


def test_the_intake_form_hands_back_every_value_and_places_errors_by_field():
    typed = MultiDict([("conditions", "dvt"), ("conditions", "fever"), ("nprs_1", "4"),
                       ("csrf_token", "t")])  # fmt: skip
    assert answers_of(typed) == {"conditions": ["dvt", "fever"], "nprs_1": ["4"]}
    definition = {"sections": [{"groups": [{"id": "q-nprs", "rows": [[{"name": "nprs_1"}]]}]}]}
    assert form_names(definition) == {"q-nprs", "nprs_1"}
    assert on_form({"answers.nprs_1": ["Enter it."], "answers.form": ["No."]}) == {
        "nprs_1": ["Enter it."],
        "_form": ["No."],
    }


def test_the_review_says_what_was_submitted_and_a_clearance_names_the_rules():
    intake = {"intake_id": "int_1", "patient_id": "pat_1", "completed_by": "patient",
              "symptoms": [{"description": "Back pain", "body_area": "lower back", "severity": 6}],
              "history": {"conditions": ["heart_failure"]}, "medications": ["Warfarin"],
              "vitals": {"blood_pressure": {"systolic": 120, "diastolic": 80}},
              "consent": {"signed_by": "Zoë", "email": True}, "screening": CLEARANCE,
              "version": 2}  # fmt: skip
    r = review(intake)
    said = {a.label: a.value for a in r.answers}
    assert (
        said["Symptoms"] == "Back pain (lower back), 6/10" and said["Conditions"] == "heart failure"
    )
    assert said["Blood pressure"] == "120/80" and said["Contact"] == "email OK"
    assert r.completed_by == "the patient, on the web form"
    assert r.awaiting == (("heart-disease", "Heart disease"),)
    form = MultiDict([("rule_ids", "heart-disease"), ("note", " ok "), ("cleared_by", "Dr A")])
    assert clearance_body(form) == {
        "rule_ids": ["heart-disease"],
        "note": "ok",
        "cleared_by": "Dr A",
    }


def test_every_role_finds_the_patients_and_only_clinicians_record_a_clearance():
    for role in ("admin", "front_desk", "therapist"):
        assert "patient_search.search" in [i.endpoint for i in navigation_for(role)]
        assert may(role, "intake.record")
    assert may("therapist", "intake.clearance") and not may("front_desk", "intake.clearance")


@pytest.mark.parametrize(
    ("asked", "page"), [(None, 1), ("", 1), ("3", 3), ("0", 1), ("-2", 1), ("x", 1), ("99999", 1)]
)
def test_the_page_asked_for_is_a_page_or_the_first(asked, page):
    assert asked_page(asked) == page


def test_a_list_fills_whole_pages_and_an_empty_one_is_one_page():
    assert [page_count(n, 25) for n in (0, 1, 25, 26, 100)] == [1, 1, 1, 2, 4]
