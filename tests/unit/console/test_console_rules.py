"""The console's pure rules: times in the location's zone, how long a referral waited, what a
role is offered, the inbox's tabs and rows, the referral page's facts, the review form, the
APIs' errors, the sealed cookie and where to go back to after sign-in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import BadSignature

from services.console.api_clients.errors import ApiError, flat
from services.console.domain.inbox import query_for, row
from services.console.domain.offers import may, navigation_for
from services.console.domain.places import Place, zone_for
from services.console.domain.referral_page import amendments, referral_page, visits
from services.console.domain.review_form import (
    CHOOSE_PATIENT,
    asked,
    on_form,
    review_body,
    unanswered,
)
from services.console.domain.times import days_left, on_day, waited, when
from services.console.web.cookie_session import SealedSerializer
from services.console.web.signed_in import safe_next

NOW = datetime(2025, 12, 9, 15, 0, tzinfo=UTC)
PLACES = (
    Place("main", "Main", "America/New_York"),
    Place("lakeside", "Lakeside", "America/Chicago"),
)


def test_a_time_is_shown_in_the_locations_zone_with_the_zone_named():
    assert (
        when("2025-12-09T15:00:00+00:00", ZoneInfo("America/New_York"))
        == "Tue 9 Dec 2025, 10:00 EST"
    )
    assert when("2025-12-09T15:00:00", ZoneInfo("America/Chicago")) == "Tue 9 Dec 2025, 09:00 CST"
    assert when(None, ZoneInfo("UTC")) == "" and on_day("2025-12-09") == "Tue 9 Dec 2025"


def test_a_referral_without_a_location_is_shown_in_the_persons_first_locations_zone():
    assert zone_for(PLACES, "lakeside") == ZoneInfo("America/Chicago")
    assert zone_for(PLACES, None) == ZoneInfo("America/New_York")
    assert zone_for((), None) == ZoneInfo("UTC")
    assert Place("x", "X", "Not/AZone").zone == ZoneInfo("UTC")


@pytest.mark.parametrize(
    "ago, said",
    [(timedelta(days=3, hours=5), "3 days"), (timedelta(hours=1), "1 hour"),
     (timedelta(minutes=12), "12 minutes"), (timedelta(seconds=20), "less than a minute"),
     (-timedelta(minutes=5), "less than a minute")],
)  # fmt: skip
def test_how_long_a_referral_waited_is_said_in_its_largest_whole_unit(ago, said):
    assert waited((NOW - ago).isoformat(), NOW) == said


def test_days_left_count_to_the_last_day_and_go_negative_once_past():
    today = date(2025, 12, 9)
    assert (days_left("2025-12-19", today), days_left("2025-12-09", today)) == (10, 0)
    assert days_left("2025-12-01", today) == -8 and days_left(None, today) is None


def test_a_role_is_offered_only_the_pages_and_actions_its_apis_allow():
    assert [i.key for i in navigation_for("admin")][-1] == "settings"
    assert "settings" not in [i.key for i in navigation_for("front_desk")]
    assert may("front_desk", "referral.cancel") and may("admin", "referral.review")
    assert not may("therapist", "referral.cancel") and not may("therapist", "referral.review")
    assert not may("admin", "no.such.action")


def test_the_new_tab_asks_for_the_last_three_days_and_the_others_for_their_status():
    assert query_for("new", NOW) == {"received_since": (NOW - timedelta(days=3)).isoformat()}
    assert query_for("needs_review", NOW) == {"status": "needs_review"}
    assert query_for("nonsense", NOW) == query_for("new", NOW)


def referral(**changes):
    base = {
        "referral_id": "ref_1", "version": 2, "status": "accepted", "location_id": "lakeside",
        "partner_id": "acme", "partner_referral_id": "REF-9", "received_at": "2025-12-06T15:00:00+00:00",
        "terms": {"patient": {"given_name": "Maria", "family_name": "Alvarez", "birth_date": "1978-04-12"},
                  "authorized_visits": 8, "valid_from": "2025-12-01", "expires_on": "2025-12-19",
                  "diagnoses": [{"code": "M54.50", "display": "Low back pain"}],
                  "requester": {"name": "David Chen"}, "notes": ["note"]},
        "history": [], "pending": [],
    }  # fmt: skip
    return {**base, **changes}


def test_an_inbox_row_names_the_patient_the_sender_the_location_and_the_wait():
    shown = row(referral(), PLACES, {"acme": "Acme EHR"}, NOW)
    assert (shown.patient, shown.sender, shown.location) == (
        "Maria Alvarez",
        "Acme EHR",
        "Lakeside",
    )
    assert (shown.received, shown.waited) == ("Sat 6 Dec 2025, 09:00 CST", "3 days")
    held = row(referral(location_id=None, partner_id=None, status="needs_review",
                        pending=[{"item": "location", "message": "which location?"}]), PLACES, {}, NOW)  # fmt: skip
    assert (held.sender, held.location, held.status, held.pending) == (
        "Entered by staff", "To settle", "Needs review", "which location?")  # fmt: skip


def test_visits_used_come_from_the_plan_and_without_one_none_are_used():
    terms = referral()["terms"]
    assert visits(terms, None) == visits(terms, {}) and visits(terms, None).remaining == 8
    counted = visits(terms, {"visits": {"authorized": 8, "used": 3, "remaining": 5}})
    assert (counted.used, counted.remaining, counted.from_plan) == (3, 5, True)


def test_the_referral_page_shows_validity_in_the_locations_days_and_each_amendment():
    history = [{"version": 1, "terms": {**referral()["terms"], "authorized_visits": 6},
                "location_id": "main", "replaced_at": "2025-12-07T12:00:00+00:00"}]  # fmt: skip
    shown = referral_page(referral(history=history), None, PLACES, None, NOW)
    assert (shown.expires_on, shown.days_left, shown.partner) == ("Fri 19 Dec 2025", 10, "acme")
    assert [(a.version, a.changed) for a in shown.amendments] == [
        (1, "authorized visits, location")
    ]
    assert amendments([], {}, ZoneInfo("UTC")) == []


def test_the_review_form_asks_one_field_per_pending_item_and_passes_what_was_typed():
    pending = [
        {"item": "authorized_visits"},
        {"item": "diagnosis_code"},
        {"item": "patient_identity"},
    ]
    fields = asked(pending)
    assert fields == {"authorized_visits", "diagnoses", "patient"}
    form = {"authorized_visits": "6", "diagnoses-0-code": " M54.50 ", "diagnoses-1-code": "",
            "patient": "new"}  # fmt: skip
    assert review_body(fields, form, 3) == {
        "version": 3, "authorized_visits": 6, "diagnoses": [{"code": "M54.50", "display": None}],
        "patient": {"register_new": True}}  # fmt: skip
    assert (
        review_body({"authorized_visits"}, {"authorized_visits": "six"}, 3)["authorized_visits"]
        == "six"
    )
    assert review_body({"patient"}, {"patient": "pat_1"}, 1)["patient"] == {"link_to": "pat_1"}
    assert "patient" not in review_body({"patient"}, {}, 1)
    assert unanswered({"patient"}, {}) == {"patient": [CHOOSE_PATIENT]} and not unanswered(
        set(), {}
    )


def test_the_apis_field_errors_land_next_to_the_forms_fields():
    assert on_form({"diagnoses.1.code": ["not billable"], "patient._schema": ["choose"],
                    "version": ["stale"]}) == {
        "diagnoses-1-code": ["not billable"], "patient": ["choose"], "_form": ["stale"]}  # fmt: skip
    error = ApiError.from_answer(
        422, {"message": "bad", "errors": {"json": {"patient": {"link_to": ["no"]}}}}
    )
    assert (error.kind, error.fields, error.retry_after_s) == (
        "invalid",
        {"patient.link_to": ["no"]},
        None,
    )
    assert ApiError.from_answer(429, {}, "30").retry_after_s == 30
    assert ApiError.from_answer(502, None).kind == "unavailable"
    assert flat({"a": [{"b": ["x"]}]}) == {"a.b": ["x"]}


def test_the_cookie_is_sealed_a_changed_or_foreign_one_is_not_opened():
    sealer = SealedSerializer("s" * 40)
    sealed = sealer.dumps({"tokens": {"access": "secret-token"}, "_flashes": [("success", "hi")]})
    assert "secret-token" not in sealed
    assert sealer.loads(sealed, max_age=60)["_flashes"] == [("success", "hi")]
    tampered = sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")
    for bad in (tampered, SealedSerializer("t" * 40).dumps({"x": 1}), "not a cookie"):
        with pytest.raises(BadSignature):
            sealer.loads(bad, max_age=60)


@pytest.mark.parametrize(
    "target, kept",
    [("/referrals?tab=new", "/referrals?tab=new"), ("//evil.example/x", None),
     ("https://evil.example/", None), ("/\\evil", None), ("", None), (None, None)],
)  # fmt: skip
def test_after_sign_in_the_person_goes_back_only_to_a_page_of_the_console(target, kept):
    assert safe_next(target) == kept
