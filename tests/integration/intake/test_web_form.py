"""The patient's intake form over HTTP (in-process app, real database): the link opens the form,
a submission runs the staff API's use case as the patient, and wrong, expired, used or cancelled
links and forged posts get a plain page and change nothing."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.intake.domain import intake_link
from services.intake.repository import indexes
from testkit.referrals import native_referral
from testkit.staff import bearer

TODAY = datetime.now(UTC).date()
PATIENT_DATA = (
    "Alvarez",
    "Maria Elena",
    "maria.alvarez@example.com",
    "555-0134",
    "M54.50",
    "Cervicalgia",
)


class Page(HTMLParser):
    """The controls, labels and ids of an HTML page (enough to check how a form is built)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.ids: dict[str, dict[str, str]] = {}
        self.text_of: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        attributes["tag"] = tag
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.controls.append(attributes)
        if tag == "label" and "for" in attributes:
            self.label_for.add(attributes["for"])
        if "id" in attributes:
            self.ids[attributes["id"]] = attributes
            self.text_of[attributes["id"]] = ""
            if tag not in ("input",):
                self._open.append(attributes["id"])

    def handle_endtag(self, tag):
        if self._open and self.ids[self._open[-1]]["tag"] == tag:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            self.text_of[element_id] += data

    def control(self, name: str, value: str | None = None) -> dict[str, str]:
        return next(
            c for c in self.controls if c.get("name") == name and value in (None, c.get("value"))
        )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def answers(**changes):
    """A complete, valid set of answers for a low back + neck referral (NPRS, ODI, NDI)."""
    form = {
        "symptom_1_description": "Low back pain when sitting",
        "symptom_1_body_area": "lower back",
        "symptom_1_severity": "6",
        "body_areas": ["Lower back", "Neck"],
        "nprs_1": "6",
        **{f"odi_{n}": str(v) for n, v in enumerate([2, 3, 1, 2, 2, 3, 1, 2, "", 2], 1)},
        **{f"ndi_{n}": "1" for n in range(1, 11)},
        "conditions": ["cancer_under_treatment"],
        "medications": "Warfarin 5 mg daily\nIbuprofen as needed",
        "temperature_c": "36.8",
        "bp_systolic": "128",
        "bp_diastolic": "82",
        "surgery_1_date": (TODAY - timedelta(days=20)).isoformat(),
        "surgery_1_area": "left knee",
        "history_notes": "Desk job.",
        "contact_email": "yes",
        "consent_agreed": "yes",
        "signed_by": "Maria Elena Alvarez",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def staff(world):
    return world.key("clinic-a", "front_desk")


def refer(client, staff, **changes):
    response = client.post("/referrals", json=native_referral(**changes), headers=bearer(staff))
    assert response.status_code == 201, response.json
    return response.json["referral_id"]


def link_token(world, referral_id):
    [accepted] = [
        e
        for e in world.pending_events(indexes.REFERRALS)
        if e["type"] == "referral.accepted" and e["data"]["referral_id"] == referral_id
    ]
    return accepted["data"]["intake_link"].rsplit("/", 1)[1]


@pytest.fixture
def referral_id(client, staff):
    return refer(client, staff)


@pytest.fixture
def token(world, referral_id):
    return link_token(world, referral_id)


def open_form(client, token):
    response = client.get(f"/intake/{token}")
    assert response.status_code == 200, response.text
    return response


def send(client, token, form, csrf=None, **headers):
    csrf = csrf if csrf is not None else csrf_of(open_form(client, token).text)
    return client.post(
        f"/intake/{token}",
        data={**form, "csrf_token": csrf},
        headers={"Origin": "http://localhost", **headers},
    )


def test_the_link_opens_a_form_that_labels_every_field_and_shows_no_patient_data(client, token):
    response = open_form(client, token)

    assert response.mimetype == "text/html"
    page = Page(response.text)
    assert len(page.controls) > 40
    unlabelled = [c.get("id") for c in page.controls if c.get("id") not in page.label_for]
    assert unlabelled == []
    assert not [word for word in PATIENT_DATA if word in response.text]
    assert "script" not in response.headers["Content-Security-Policy"].replace("'none'", "")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert page.control("contact_email").get("checked") is not None  # the referral's consent
    css = client.get(re.search(r'href="([^"]+\.css)"', response.text).group(1))
    assert css.status_code == 200 and css.mimetype == "text/css"


@pytest.mark.parametrize(
    ("codes", "measures"),
    [
        (["M54.50"], ["NPRS", "ODI"]),
        (["S13.4XXA"], ["NPRS", "NDI"]),
        (["M54.50", "M54.2"], ["NPRS", "ODI", "NDI"]),
        (["M25.511"], ["NPRS", "QuickDASH"]),
        (["M25.561"], ["NPRS", "LEFS"]),
        (["M79.7"], ["NPRS", "PSFS"]),
    ],
)
def test_the_form_asks_the_questionnaires_that_fit_the_referrals_diagnoses(
    client, world, staff, codes, measures
):
    diagnoses = [{"code": code} for code in codes]
    token = link_token(world, refer(client, staff, diagnoses=diagnoses))

    html = open_form(client, token).text

    assert re.findall(r'data-measure="([^"]+)"', html) == measures


def test_a_valid_submission_completes_the_intake_as_the_patient_and_staff_see_it(
    client, world, token, referral_id
):
    response = send(client, token, answers())

    assert response.status_code == 200, response.text
    assert "Thank you" in response.text
    assert not [w for w in ("Warfarin", "clearance", "cancer", "ODI") if w in response.text]
    therapist = world.key("clinic-a", "therapist")
    [intake] = client.get(f"/intakes?referral_id={referral_id}", headers=bearer(therapist)).json[
        "items"
    ]
    assert intake["completed_by"] == "patient"
    assert [(b["measure"], b["score"]) for b in intake["baseline"]] == [
        ("NPRS", 6.0),
        ("ODI", 40.0),
        ("NDI", 20.0),
    ]
    assert intake["screening"]["outcome"] == "needs_clearance"
    assert {r["rule_id"] for r in intake["screening"]["reasons"]} >= {
        "cancer-under-treatment",
        "anticoagulants",
        "recent-surgery-site",
    }
    assert intake["consent"]["signed_by"] == "Maria Elena Alvarez"
    assert intake["medications"] == ["Warfarin 5 mg daily", "Ibuprofen as needed"]
    [event] = [e for e in world.pending_events(indexes.INTAKES) if e["type"] == "intake.completed"]
    assert event["data"]["completed_by"] == "patient"
    patient = world.db.patients.find_one({"_id": intake["patient_id"]})
    assert (patient["consent"]["email"], patient["consent"]["sms"]) == (True, False)


def test_showing_and_sending_the_form_is_audited_without_patient_data(
    client, world, token, referral_id
):
    send(client, token, answers())

    actions = [(a["action"], a["actor"]) for a in world.audit(**{"object.id": referral_id})]
    assert ("intake_form.show", f"intake-link:{referral_id}") in actions
    [completed] = world.audit(action="intake.complete")
    assert completed["actor"] == f"intake-link:{referral_id}"
    assert not [w for w in PATIENT_DATA if w in str(world.audit())]


def test_a_second_submission_with_the_same_link_is_refused_and_changes_nothing(
    client, world, token
):
    csrf = csrf_of(open_form(client, token).text)
    first = send(client, token, answers(), csrf=csrf)

    second = send(client, token, answers(signed_by="Someone Else"), csrf=csrf)
    reopened = client.get(f"/intake/{token}")

    assert (first.status_code, second.status_code, reopened.status_code) == (200, 409, 409)
    assert "already been sent" in second.text and "already been sent" in reopened.text
    assert world.count("intakes") == 1
    assert world.db.intakes.find_one()["consent"]["signed_by"] == "Maria Elena Alvarez"


def tampered(settings, token):
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


def foreign(settings, token):
    claims = intake_link.read_token(settings, token)
    other = URLSafeTimedSerializer("a-secret-that-is-not-ours", salt=intake_link.SALT)
    return other.dumps({"r": claims.referral_id, "n": claims.nonce})


def replaced(settings, token):
    return intake_link.new_token(
        settings, intake_link.read_token(settings, token).referral_id, "an-old-nonce"
    )


def unknown_referral(settings, token):
    return intake_link.new_token(settings, "ref_0000", "nonce")


@pytest.mark.parametrize(
    "make_bad",
    [tampered, foreign, replaced, unknown_referral, lambda s, t: "not-a-token"],
    ids=["tampered", "signed-elsewhere", "replaced-nonce", "unknown-referral", "not-a-token"],
)
def test_a_wrong_link_gets_a_plain_page_saying_to_contact_the_clinic(
    client, settings, world, token, make_bad
):
    bad = make_bad(settings, token)

    for response in (client.get(f"/intake/{bad}"), send(client, bad, answers(), csrf="x")):
        assert response.status_code == 404, response.status_code
        assert response.mimetype == "text/html"
        assert "clinic" in response.text
        assert not [w for w in PATIENT_DATA if w in response.text]
        assert "<form" not in response.text
    assert world.count("intakes") == 0


def test_an_expired_link_gets_a_plain_page_and_cannot_be_sent(
    client, settings, world, token, monkeypatch
):
    csrf = csrf_of(open_form(client, token).text)
    later = int(time.time()) + settings.own.intake_link_ttl_hours * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    opened, sent = client.get(f"/intake/{token}"), send(client, token, answers(), csrf=csrf)

    assert (opened.status_code, sent.status_code) == (410, 410)
    assert "expired" in opened.text and "expired" in sent.text
    assert world.count("intakes") == 0


def test_a_cancelled_referrals_link_gets_a_plain_page(client, world, token, referral_id):
    csrf = csrf_of(open_form(client, token).text)
    admin = world.key("clinic-a", "admin")
    client.post(f"/referrals/{referral_id}/cancel", json={}, headers=bearer(admin))

    opened, sent = client.get(f"/intake/{token}"), send(client, token, answers(), csrf=csrf)

    assert (opened.status_code, sent.status_code) == (410, 410)
    assert "no longer needed" in opened.text
    assert world.count("intakes") == 0


def another_links_form_token(client, world, staff):
    other = link_token(world, refer(client, staff))
    return csrf_of(open_form(client, other).text)


@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        (None, {}),
        ("", {}),
        ("forged", {}),
        ("another link's", {}),
        ("valid", {"Origin": "https://evil.example"}),
        ("valid", {"Origin": "null"}),
        ("valid", {"Origin": None, "Referer": "https://evil.example/page"}),
    ],
    ids=[
        "no-form-token",
        "empty-form-token",
        "forged-form-token",
        "another-links-form-token",
        "foreign-origin",
        "null-origin",
        "foreign-referer",
    ],
)
def test_a_forged_cross_site_post_is_refused_with_403(client, world, staff, token, csrf, headers):
    valid = csrf_of(open_form(client, token).text)
    posted = {
        None: None,
        "": "",
        "forged": URLSafeTimedSerializer("x" * 20, salt="intake-form").dumps("0" * 64),
        "another link's": another_links_form_token(client, world, staff),
        "valid": valid,
    }[csrf]
    data = answers() if posted is None else {**answers(), "csrf_token": posted}
    sent_headers = {"Origin": "http://localhost", **headers}

    response = client.post(
        f"/intake/{token}",
        data=data,
        headers={k: v for k, v in sent_headers.items() if v is not None},
    )

    assert response.status_code == 403
    assert "could not be sent" in response.text
    assert world.count("intakes") == 0


def test_a_post_without_origin_or_referer_relies_on_the_form_token(client, token):
    csrf = csrf_of(open_form(client, token).text)
    response = client.post(f"/intake/{token}", data={**answers(), "csrf_token": csrf})
    assert response.status_code == 200, response.text


def test_errors_are_shown_next_to_their_fields_and_what_was_typed_is_kept(client, world, token):
    response = send(
        client,
        token,
        answers(
            signed_by="",
            nprs_1="12",
            temperature_c="hot",
            surgery_1_area="",
            odi_1="",
            odi_2="",
            odi_3="",
        ),
    )

    assert response.status_code == 422
    page = Page(response.text)
    expected = {
        "signed_by": "full name",
        "nprs_1": "0 to 10",
        "temperature_c": "number",
        "surgery_1_area": "where on the body",
        "q-odi": "at least 8 of the 10",
    }
    for field, words in expected.items():
        element = page.ids[field]
        assert f"{field}-error" in element.get("aria-describedby", "").split(), field
        assert words in page.text_of[f"{field}-error"], (field, page.text_of[f"{field}-error"])
        if element["tag"] != "fieldset":
            assert element.get("aria-invalid") == "true", field
    summary = re.findall(r'<a href="#([^"]+)"', response.text.split("<form")[0])
    assert summary == ["nprs_1", "q-odi", "temperature_c", "surgery_1_area", "signed_by"]
    assert page.control("nprs_1")["value"] == "12"
    assert page.control("temperature_c")["value"] == "hot"
    assert page.control("conditions", "cancer_under_treatment").get("checked") is not None
    assert "Warfarin 5 mg daily\nIbuprofen as needed" in page.text_of["medications"]
    assert page.control("odi_4")  # the answered questions keep their answers
    assert 'value="2" selected' in response.text.split('id="odi_4"')[1].split("</select>")[0]
    assert response.text.count("Error:") == len(expected) + 1  # the title, and one per field
    assert world.count("intakes") == 0


def test_a_form_too_large_to_read_gets_a_plain_page(client, token, settings):
    csrf = csrf_of(open_form(client, token).text)
    notes = "x" * (settings.max_body_bytes + 10)
    response = client.post(
        f"/intake/{token}",
        data={**answers(history_notes=notes), "csrf_token": csrf},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 413 and "too long" in response.text


def test_the_patient_form_stays_out_of_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert paths and not [p for p in paths if p.startswith("/intake/")]
