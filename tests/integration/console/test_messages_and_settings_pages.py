"""Pages 12 and 13 against the real APIs: the delivery log with its filters (days in the
location's zone, errors next to their fields, what happened said in words, at most 4 API calls,
names shown as text), and the clinic settings: admins only (not offered to anyone else, and
refused if asked), inviting staff and changing their access, locations, the sign-in policy,
notification settings and template overrides with a preview; every form keeps what was typed
and shows the APIs' field errors next to their fields, every change is confirmed in words."""

from __future__ import annotations

import html
import re

import pytest

from services.console.web.security_headers import CONTENT_SECURITY_POLICY
from testkit.waiting import wait_until
from tests.integration.console.conftest import (
    HOSTILE_FAMILY,
    HOSTILE_NAME,
    MOST_API_CALLS,
    Browser,
    calls_at_worst,
)

SETTINGS_PAGES = [
    "/settings/staff",
    "/settings/locations",
    "/settings/sign-in",
    "/settings/notifications",
    "/settings/templates",
    "/settings/templates/en/patient_welcome.sms",
]


def page(answer) -> str:
    return answer.get_data(as_text=True)


def error_next_to(body: str, field: str) -> str:
    """The error shown next to a field (`<p class="field-error" id="f-<field>-error">`)."""
    found = re.search(rf'id="f-{re.escape(field)}-error">([^<]*)<', body)
    assert found, f"no error next to {field}"
    return html.unescape(found[1])


def value_of(body: str, field: str) -> str:
    found = re.search(rf'id="f-{re.escape(field)}" name="[^"]+" type="[^"]+" value="([^"]*)"', body)
    assert found, f"no field {field}"
    return html.unescape(found[1])


@pytest.fixture(scope="module")
def admin(app, world) -> Browser:
    """One admin's browser for the module (each sign-in spends one of ten recovery codes)."""
    person = Browser(app.test_client())
    person.sign_in(world.clinic, "admin")
    person.get("/settings/staff")  # the session's form token, as a person's browser has it
    return person


@pytest.fixture(scope="module")
def logged(world) -> None:
    """The delivery log has the welcome messages of the world's referrals."""
    desk = world.api("front_desk")

    def welcomed(referral: str) -> bool:  # the patient's own welcome (not the staff invitations)
        patient_id = desk.get("intake", f"/referrals/{world.referrals[referral]}").get("patient_id")
        query = f"/deliveries?channel=email&recipient=patient:{patient_id}"
        return bool(patient_id) and desk.get("notifications", query)["total"] >= 1

    wait_until(
        lambda: welcomed("plain") and welcomed("hostile"),
        timeout=60,
        message="the welcome emails in the delivery log",
    )


# --- page 12: messages -----------------------------------------------------------------------


def test_staff_read_the_delivery_log_with_what_happened_in_words(world, signed_in, logged):
    desk = signed_in("front_desk")
    answer = desk.get("/messages")
    body = page(answer)
    assert answer.status_code == 200 and answer.headers["Content-Security-Policy"] == (
        CONTENT_SECURITY_POLICY
    )
    assert 'aria-current="page">Messages' in body
    assert '<td data-label="What">Welcome</td>' in body and "Sent " in body
    assert html.escape(HOSTILE_NAME, quote=False) in body and "<img src=x" not in body
    assert HOSTILE_FAMILY in body  # shown as typed, never evaluated
    texts = page(desk.get("/messages?channel=sms"))
    assert "Email</td>" not in texts
    suppressed = page(desk.get("/messages?status=suppressed"))
    assert "Not sent: nobody is set up to receive it" in suppressed
    assert "Sent " not in suppressed.split("<tbody>")[-1]
    therapist = page(signed_in("therapist").get("/messages"))  # every role reads the log
    assert "Messages" in therapist and "Clinic settings" not in therapist


def test_the_log_filters_by_patient_and_days_and_keeps_a_wrong_filter_next_to_its_field(
    world, signed_in, logged
):
    desk = signed_in("front_desk")
    api = world.api("front_desk")
    referral = api.get("intake", f"/referrals/{world.referrals['plain']}")
    patient_id = referral["patient_id"]
    mine = page(desk.get(f"/messages?patient={patient_id}"))
    assert "Maria" in mine and HOSTILE_FAMILY not in mine
    assert "1 message" in mine or "2 messages" in mine
    assert "0 messages" in page(desk.get("/messages?since=2001-01-01&until=2001-01-31"))
    wrong = desk.get("/messages?since=2025-12-09&until=2025-12-01&status=sent")
    assert wrong.status_code == 422
    assert "before the first day" in error_next_to(page(wrong), "until")
    assert value_of(page(wrong), "until") == "2025-12-01"  # what was typed stays
    bad_patient = desk.get("/messages?patient=%3Cnot%20an%20id%3E")  # the API says why
    assert bad_patient.status_code == 422 and error_next_to(page(bad_patient), "patient")


def test_the_messages_page_makes_at_most_four_api_calls(world, app, signed_in, logged):
    calls = calls_at_worst(app, signed_in("front_desk"), "/messages")
    assert len(calls) <= MOST_API_CALLS, calls


# --- page 13: clinic settings, admins only -----------------------------------------------------


@pytest.mark.parametrize("who", ["front_desk", "therapist"])
def test_settings_are_not_offered_to_other_roles_and_refused_if_asked(world, signed_in, who):
    person = signed_in(who)
    assert "Clinic settings" not in page(person.get("/referrals"))
    for path in SETTINGS_PAGES:
        assert person.get(path).status_code == 403, path
    before = world.api("admin").get("intake", "/admin/users")["total"]
    invite = {"name": "Eve Sneak", "email": "eve@x.example", "role": "admin"}
    assert person.post("/settings/staff", invite).status_code == 403
    assert world.api(who).status_of("intake", "/admin/users") == 403  # the API refuses too
    assert world.api("admin").get("intake", "/admin/users")["total"] == before


def test_every_settings_page_is_secured_and_makes_at_most_four_api_calls(world, app, admin):
    calls: list[str] = []
    hook = lambda response, *a, **k: calls.append(response.request.path_url)  # noqa: E731
    app.extensions["deps"].http.hooks["response"].append(hook)
    try:
        for path in SETTINGS_PAGES:
            calls.clear()
            app.extensions["deps"].people.forget()
            answer = admin.get(path)
            assert answer.status_code == 200, (path, page(answer)[-500:])
            assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert "<script>" not in page(answer)
            assert len(calls) <= 4, (path, calls)
    finally:
        app.extensions["deps"].http.hooks["response"].remove(hook)


def test_an_admin_invites_a_therapist_and_changes_their_access(world, admin):
    lakeside = world.clinic.locations[-1]
    refused = admin.post("/settings/staff", {"name": "Lee Park", "email": "not-an-email",
                                             "role": "therapist", "locations": lakeside})  # fmt: skip
    assert refused.status_code == 422
    assert "email" in error_next_to(page(refused), "email").lower()
    assert value_of(page(refused), "name") == "Lee Park"  # kept
    assert f'value="{lakeside}" checked' in page(refused)
    email = f"lee.park@{world.clinic.tenant_id}.example"
    done = admin.post("/settings/staff", {"name": "Lee Park", "email": email,
                                          "role": "therapist", "locations": lakeside})  # fmt: skip
    assert done.status_code == 302
    listed = page(admin.get(done.headers["Location"]))
    assert "Lee Park invited as therapist at Lakeside" in listed
    again = admin.post("/settings/staff", {"name": "Lee Again", "email": email,
                                           "role": "therapist"})  # fmt: skip
    assert again.status_code == 409 and "already" in error_next_to(page(again), "email")
    [user] = [
        u for u in world.api("admin").get("intake", "/admin/users")["items"] if u["email"] == email
    ]
    assert (user["role"], user["locations"], user["status"]) == ("therapist", [lakeside], "invited")
    user_page = f"/settings/staff/{user['user_id']}"
    assert "Send a new invitation" in page(admin.get(user_page))
    changed = admin.post(f"{user_page}/access", {"role": "front_desk", "version": user["version"]})
    assert changed.status_code == 302
    assert "Lee Park is now front desk at every location" in page(admin.get(user_page))
    stale = admin.post(f"{user_page}/access", {"role": "admin", "version": user["version"]})
    assert stale.status_code == 409 and "changed since" in page(stale)
    disabled = admin.post(f"{user_page}/disable")
    assert disabled.status_code == 302
    assert "Lee Park is disabled" in page(admin.get(user_page))
    stored = world.api("admin").get("intake", f"/admin/users/{user['user_id']}")
    assert (stored["role"], stored["locations"], stored["status"]) == (
        "front_desk", None, "disabled",
    )  # fmt: skip


def test_an_admin_is_not_offered_to_change_or_disable_themselves(world, admin):
    me = next(
        u
        for u in world.api("admin").get("intake", "/admin/users")["items"]
        if u["email"] == world.clinic.admin.email
    )
    body = page(admin.get(f"/settings/staff/{me['user_id']}"))
    assert "Disable" not in body and "Save role and locations" not in body
    assert "<dt>Second factor</dt><dd>Yes</dd>" in body
    listed = page(admin.get("/settings/staff"))
    mine = listed.split(f"/settings/staff/{me['user_id']}")[1].split("</tr>")[0]
    assert 'data-label="Second factor">Yes</td>' in mine  # the list says so too
    users = world.api("admin").get("intake", "/admin/users")["items"]
    assert all("totp" not in u and "secret" not in str(u) for u in users)  # only whether
    refused = admin.post(f"/settings/staff/{me['user_id']}/disable")
    assert refused.status_code == 409 and "your own account" in page(refused)


def test_an_admin_adds_and_renames_a_location_with_errors_next_to_the_fields(world, admin):
    refused = admin.post("/settings/locations", {"name": "Harbor", "timezone": "Mars/Base"})
    assert refused.status_code == 422
    assert error_next_to(page(refused), "new-timezone")
    assert value_of(page(refused), "new-name") == "Harbor"
    added = admin.post("/settings/locations", {"name": "Harbor", "timezone": "America/Denver",
                                               "rooms": "Room 1\r\nQuiet room\r\n"})  # fmt: skip
    assert added.status_code == 302
    assert "Harbor added, its times in America/Denver; rooms: Room 1, Quiet room" in page(
        admin.get("/settings/locations")
    )
    harbor = next(
        m for m in world.api("admin").get("intake", "/admin/tenant")["locations"]
        if m["name"] == "Harbor"
    )  # fmt: skip
    url = f"/settings/locations/{harbor['location_id']}"
    twice = admin.post(url, {"name": "Harbor", "timezone": "America/Denver",
                             "rooms": "Room 1\nroom 1"})  # fmt: skip
    assert twice.status_code == 422
    assert "same name" in error_next_to(page(twice), f"{harbor['location_id']}-rooms")
    long = admin.post(url, {"name": "Harbor", "timezone": "America/Denver",
                            "rooms": "Room 1\n" + "x" * 61})  # fmt: skip
    assert long.status_code == 422
    assert "at most 60 characters" in error_next_to(page(long), f"{harbor['location_id']}-rooms")
    renamed = admin.post(url, {"name": "Harbor Point", "timezone": "America/Denver",
                               "rooms": "Quiet room\nRoom 2"})  # fmt: skip
    assert renamed.status_code == 302
    assert "Harbor Point saved" in page(admin.get("/settings/locations"))
    stored = next(
        m for m in world.api("admin").get("intake", "/admin/tenant")["locations"]
        if m["location_id"] == harbor["location_id"]
    )  # fmt: skip
    assert stored["rooms"] == [
        {"room_id": "quiet-room", "name": "Quiet room"}, {"room_id": "room-2", "name": "Room 2"},
    ]  # the quiet room kept its id  # fmt: skip


def test_an_admin_sets_the_sign_in_policy(world, admin):
    refused = admin.post("/settings/sign-in", {"require_totp": "no", "session_idle_minutes": "2"})
    assert refused.status_code == 422
    assert error_next_to(page(refused), "session_idle_minutes")
    saved = admin.post("/settings/sign-in", {"require_totp": "no", "session_idle_minutes": "30"})
    assert saved.status_code == 302
    assert "sessions end after 30 idle minutes" in page(admin.get("/settings/sign-in"))
    policy = world.api("admin").get("intake", "/admin/sign-in-policy")
    assert policy == {"require_totp": False, "session_idle_minutes": 30}
    admin.post("/settings/sign-in", {"require_totp": "no", "session_idle_minutes": "15"})


def test_an_admin_sets_quiet_hours_inboxes_and_reminders(world, admin):
    main = world.clinic.locations[0]
    form = {"clinic_name": "Northside", "quiet_start": "21:00", "quiet_end": "",
            "inbox-all": "desk@north.example", f"inbox-{main}": "not-an-email",
            "reminder-0-channel": "sms", "reminder-0-hours": "24"}  # fmt: skip
    one_time = admin.post("/settings/notifications", form)
    assert one_time.status_code == 422
    assert "both" in error_next_to(page(one_time), "quiet_end")
    assert value_of(page(one_time), "quiet_start") == "21:00"
    bad_email = admin.post("/settings/notifications", {**form, "quiet_end": "08:00"})
    assert bad_email.status_code == 422  # the API's field error, next to that inbox
    assert error_next_to(page(bad_email), f"inbox-{main}")
    saved = admin.post("/settings/notifications", {**form, "quiet_end": "08:00",
                                                   f"inbox-{main}": "main@north.example"})  # fmt: skip
    assert saved.status_code == 302
    shown = page(admin.get("/settings/notifications"))
    assert "Notification settings saved" in shown and value_of(shown, "quiet_end") == "08:00"
    config = world.api("admin").get("notifications", "/config")
    assert config["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    assert config["staff_emails"] == {"*": "desk@north.example", main: "main@north.example"}
    assert [(r["channel"], r["minutes_before"]) for r in config["reminders"]] == [("sms", 1440)]


def test_an_admin_previews_saves_and_removes_a_template_override(world, admin):
    url = "/settings/templates/en/patient_welcome.sms"
    listed = page(admin.get("/settings/templates"))
    assert "Patient welcome (text message)" in listed
    opened = page(admin.get(url))
    assert "Reply STOP" in opened or "STOP" in opened  # starts from the built-in text
    draft = "{{ clinic_name }} welcomes you, {{ recipient_name }}! Reply STOP to opt out."
    shown = admin.post(url, {"source": draft, "action": "preview"})
    assert shown.status_code == 200
    assert "Sample Clinic welcomes you, Maria! Reply STOP to opt out." in page(shown)
    assert html.escape(draft, quote=False) in page(shown)  # the draft stays in the box
    leaking = "Your {{ diagnoses[0].display }} care. STOP"
    refused = admin.post(url, {"source": leaking, "action": "save"})
    assert refused.status_code == 422 and "diagnoses" in error_next_to(page(refused), "source")
    assert world.api("admin").get("notifications", "/templates")["total"] == 0
    saved = admin.post(url, {"source": draft, "action": "save"})
    assert saved.status_code == 302
    assert "Patient welcome (text message) saved" in page(admin.get(url))
    [override] = world.api("admin").get("notifications", "/templates")["items"]
    assert override["source"] == draft
    assert admin.post(f"{url}/remove").status_code == 302
    assert "built-in text is used again" in page(admin.get(url))
    assert world.api("admin").get("notifications", "/templates")["total"] == 0


def test_a_hostile_staff_name_is_shown_as_text_in_the_settings_and_the_confirmation(world, admin):
    email = f"odd@{world.clinic.tenant_id}.example"
    done = admin.post("/settings/staff", {"name": f"{HOSTILE_NAME} {HOSTILE_FAMILY}",
                                          "email": email, "role": "front_desk"})  # fmt: skip
    assert done.status_code == 302
    body = page(admin.get("/settings/staff"))
    assert f"{html.escape(HOSTILE_NAME, quote=False)} {HOSTILE_FAMILY} invited as front desk" in (
        body
    )
    assert "<img src=x" not in body  # and {{7*7}} stays as typed (above), never 49
