"""The console's pure rules of pages 12 and 13: the delivery log's filters as the API's query
(days in the location's zone), each delivery said in words (why it was not sent, why it waits,
why it failed), and the clinic settings' forms."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.console.domain.clinic_settings import (
    config_body,
    config_on_form,
    invited,
    location_body,
    location_on_form,
    places_words,
)
from services.console.domain.messages import (
    explanation,
    filters_from,
    on_form,
    patient_ids,
    recipient_words,
    row,
    template_words,
)
from services.console.domain.places import Place

NEW_YORK = ZoneInfo("America/New_York")
PLACES = (
    Place("main", "Main", "America/New_York"),
    Place("lakeside", "Lakeside", "America/Chicago"),
)


def test_the_days_asked_are_whole_days_in_the_zone_and_the_last_day_is_included():
    found = filters_from(
        {"since": "2025-12-01", "until": "2025-12-09", "channel": "sms", "patient": " pat_1 "},
        NEW_YORK,
    )
    assert found.errors == {}
    assert found.query == {
        "channel": "sms",
        "created_since": "2025-12-01T00:00:00-05:00",
        "created_before": "2025-12-10T00:00:00-05:00",
        "patient_id": "pat_1",
    }
    assert filters_from({}, NEW_YORK).query == {}


def test_a_filter_the_api_would_not_know_is_an_error_next_to_its_field_and_kept():
    found = filters_from(
        {"since": "2025-12-09", "until": "2025-12-01", "status": "lost", "kind": "x"}, NEW_YORK
    )
    assert set(found.errors) == {"until", "status", "kind"}
    assert found.query == {}  # nothing is asked of the API with a wrong filter
    assert found.values["status"] == "lost"  # what was typed is shown again
    assert "date" in filters_from({"since": "9 Dec"}, NEW_YORK).errors["since"][0]
    assert on_form({"created_before": ["x"], "patient_id": ["y"]}) == {
        "until": ["x"],
        "patient": ["y"],
    }


def test_why_a_delivery_was_not_sent_or_waits_or_failed_is_said_in_words():
    zone = NEW_YORK
    assert explanation({"status": "suppressed", "reason": "consent", "channel": "sms"}, zone) == (
        "Not sent: the patient has not consented to text message, or has opted out of it."
    )
    assert "nobody is set up" in explanation({"status": "suppressed", "reason": "no_address"}, zone)
    deferred = {"status": "deferred", "send_at": "2025-12-10T14:00:00+00:00"}
    assert explanation(deferred, zone) == (
        "Held back by the clinic's quiet hours: it goes out Wed 10 Dec 2025, 09:00 EST."
    )
    retry = {"status": "queued", "send_at": "2025-12-10T14:00:00Z", "attempts": 2,
             "last_error": "HTTP 503"}  # fmt: skip
    assert explanation(retry, zone).startswith("Trying again Wed 10 Dec 2025, 09:00 EST after 2")
    failed = {"status": "failed", "attempts": 1, "last_error": "HTTP 400: cannot receive"}
    assert explanation(failed, zone) == (
        "Failed after 1 attempt: HTTP 400: cannot receive. Staff are told."
    )
    moved = {"status": "cancelled", "reason": "session.rescheduled"}
    assert "the session moved" in explanation(moved, zone)
    assert "after the session had begun" in explanation(
        {"status": "cancelled", "reason": "too_late"}, zone
    )
    assert explanation({"status": "sent", "sent_at": "2025-12-09T15:00:00Z"}, zone) == (
        "Sent Tue 9 Dec 2025, 10:00 EST."
    )


def test_a_row_names_the_patient_and_shows_its_time_in_its_locations_zone():
    delivery = {
        "delivery_id": "d1",
        "recipient": "patient:pat_1",
        "template": "patient_session_reminder",
        "channel": "sms",
        "status": "sent",
        "location_id": "lakeside",
        "created_at": "2025-12-09T15:00:00+00:00",
        "sent_at": "2025-12-09T15:00:01+00:00",
    }
    shown = row(delivery, PLACES, {"pat_1": "Maria Alvarez"})
    assert shown.planned == "Tue 9 Dec 2025, 09:00 CST"
    assert (shown.recipient, shown.what, shown.channel) == (
        "Patient: Maria Alvarez", "Session reminder", "Text message",
    )  # fmt: skip
    assert patient_ids([delivery, {"recipient": "staff:main"}, delivery]) == ["pat_1"]
    assert recipient_words("staff:main", PLACES, {}) == "Staff inbox: Main"
    assert recipient_words("referrer:lee@p.example", PLACES, {}) == "Referrer: lee@p.example"
    assert recipient_words("patient:pat_2", PLACES, {}) == "Patient: pat_2"  # not visible
    assert template_words({"kind": "failure_report"}) == "Failure report"


def test_an_invitation_is_confirmed_in_words_naming_where_they_work():
    user = {"name": "Sam Ortiz", "role": "therapist", "locations": ["main"]}
    assert invited(user, PLACES).startswith("Sam Ortiz invited as therapist at Main;")
    assert places_words(None, PLACES) == "every location"
    assert places_words(["main", "lakeside"], PLACES) == "Main and Lakeside"


def test_a_room_named_as_before_keeps_its_id():
    stored = {"address": {"city": "X"}, "rooms": [{"room_id": "r1", "name": "Blue"}]}
    body = location_body(
        {"name": " Main ", "timezone": "UTC", "rooms": "Blue\n\n Green \n"}, stored
    )
    assert body == {
        "name": "Main", "timezone": "UTC", "address": {"city": "X"},
        "rooms": [{"room_id": "r1", "name": "Blue"}, {"name": "Green"}],
    }  # fmt: skip


def test_the_notification_form_changes_only_what_it_shows_and_says_what_is_missing():
    stored = {
        "clinic_name": "Old", "retry": {"max_attempts": 5}, "updated_at": "2025-01-01",
        "partner_webhooks": {"p1": {"url": "https://p.example/h", "secret_set": True}},
        "staff_emails": {"elsewhere": "x@y.example", "main": "old@y.example"},
    }  # fmt: skip
    form = {"clinic_name": "New", "quiet_start": "20:00", "quiet_end": "08:00",
            "inbox-all": "desk@y.example", "reminder-0-channel": "sms", "reminder-0-hours": "1.5"}  # fmt: skip
    body, errors = config_body(form, stored, PLACES)
    assert errors == {}
    assert body["retry"] == {"max_attempts": 5} and "updated_at" not in body
    assert body["partner_webhooks"] == {"p1": {"url": "https://p.example/h"}}  # secret kept
    assert body["staff_emails"] == {"elsewhere": "x@y.example", "*": "desk@y.example"}
    assert body["reminders"] == [{"key": "sms-1-5h", "channel": "sms", "minutes_before": 90.0}]
    _, missing = config_body({**form, "quiet_end": "", "reminder-0-hours": "soon"}, stored, PLACES)
    assert set(missing) == {"quiet_end", "reminder-0-hours"}
    assert config_on_form({"quiet_hours.start": ["x"], "staff_emails.main.value": ["y"],
                           "reminders.0.minutes_before": ["z"]}) == {
        "quiet_start": ["x"], "inbox-main": ["y"], "reminder-0-hours": ["z"],
    }  # fmt: skip


def test_an_error_about_one_room_is_shown_next_to_the_rooms_field():
    api = {"rooms[1].name": ["at most 60 characters"], "rooms": ["two rooms..."], "name": ["x"]}
    assert location_on_form(api) == {
        "rooms": ["at most 60 characters", "two rooms..."], "name": ["x"],
    }  # fmt: skip
