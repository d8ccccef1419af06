"""The notifications HTTP API in-process (Flask test client) on the real database: delivery log,
preferences, unsubscribe links, STOP replies, clinic settings and template overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from services.notifications.app import create_app
from services.notifications.repository.deliveries import DeliveryLog
from services.notifications.repository.indexes import INDEXES, create_indexes
from shared.mongo import Mongo
from shared.paging import PageRequest
from testkit.fakes import Reply, inbound_reply
from testkit.mongo_commands import CommandCapture
from tests.integration.notifications.harness import NO_QUIET_HOURS
from tests.support.notifications_events import TENANT, referral_accepted, staff_key
from tools.bench.indexes import Index, best_index

OTHER = "clinic-south"
PHONE = "+12125550142"
INBOUND_SECRET = "test-inbound-secret"


@pytest.fixture
def app(settings):
    overrides = settings.as_overrides()
    return create_app({**overrides, "max_page_size": 3})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def keys(service):
    """Bearer headers by role, made valid through the access replica (as intake's events do)."""
    made = {}
    for name, role, tenant, locations in (
        ("admin", "admin", TENANT, None),
        ("front_desk", "front_desk", TENANT, None),
        ("therapist", "therapist", TENANT, None),
        ("partner", "partner", TENANT, None),
        ("loc2", "front_desk", TENANT, ["loc-2"]),
        ("other", "admin", OTHER, None),
    ):
        raw, upserted = staff_key(role, tenant=tenant, locations=locations)
        service.handle(upserted)
        made[name] = {"Authorization": f"Bearer {raw}"}
    return made


@pytest.fixture
def referred(service):
    """A patient of each clinic, welcomed; one message of clinic-north already sent."""
    service.configure(**NO_QUIET_HOURS)
    service.configure(OTHER, **NO_QUIET_HOURS)
    service.handle(
        referral_accepted("pat-1", email="maria@example.org", phone=PHONE,
                          consent=("email", "sms"), referrer_email=None),
        referral_accepted("pat-9", email="other@example.org", tenant=OTHER),
    )  # fmt: skip
    service.send_due()
    return service


# --- delivery log ----------------------------------------------------------------------------


def items(answer) -> list:
    """The items of a list endpoint's page (`{items, page, page_size, total}`)."""
    return answer.get_json()["items"]


def test_the_delivery_log_shows_one_clinics_deliveries_with_filters(client, keys, referred):
    capped = client.get("/deliveries?page_size=100", headers=keys["admin"]).get_json()
    assert (len(capped["items"]), capped["page_size"], capped["total"]) == (3, 3, 3)
    first = client.get("/deliveries?page_size=2", headers=keys["admin"]).get_json()
    second = client.get("/deliveries?page=2&page_size=2", headers=keys["admin"]).get_json()
    assert [(len(p["items"]), p["page"], p["total"]) for p in (first, second)] == [
        (2, 1, 3),
        (1, 2, 3),
    ]
    everything = first["items"] + second["items"]
    assert [r["delivery_id"] for r in everything] == [r["delivery_id"] for r in capped["items"]]
    assert {r["recipient"] for r in everything} == {"patient:pat-1", "staff:loc-1"}
    assert all("data" not in r and "address" not in r and "outbox" not in r for r in everything)
    assert all("id" not in r and "_id" not in r for r in everything)
    suppressed = items(client.get("/deliveries?status=suppressed", headers=keys["admin"]))
    assert [(r["recipient"], r["reason"]) for r in suppressed] == [("staff:loc-1", "no_address")]
    sms = client.get("/deliveries?recipient=patient:pat-1&channel=sms", headers=keys["admin"])
    [text] = items(sms)
    assert (text["status"], text["attempts"], text["template"]) == ("sent", 1, "patient_welcome")
    assert text["provider_answer"].startswith("msg_")
    one = client.get(f"/deliveries/{text['delivery_id']}", headers=keys["admin"]).get_json()
    assert one["delivery_id"] == text["delivery_id"]
    by_event = client.get(f"/deliveries?event_id={text['event']['id']}", headers=keys["admin"])
    assert len(items(by_event)) == 3
    lost = client.get("/deliveries?status=lost", headers=keys["admin"])
    assert lost.status_code == 422 and "status" in lost.get_json()["errors"]["query"]


def test_the_log_filters_by_kind_patient_and_when_it_was_planned(client, keys, referred):
    def listed(query: str) -> list:
        answer = client.get(f"/deliveries?page_size=3&{query}", headers=keys["admin"])
        assert answer.status_code == 200, answer.get_json()
        return items(answer)

    to_maria = listed("patient_id=pat-1")
    assert {(r["recipient"], r["channel"]) for r in to_maria} == {
        ("patient:pat-1", "email"), ("patient:pat-1", "sms"),
    }  # fmt: skip
    assert [r["channel"] for r in listed("patient_id=pat-1&channel=sms")] == ["sms"]
    assert len(listed("kind=message")) == 3 and listed("kind=reminder") == []
    planned = to_maria[0]["created_at"]
    assert len(listed(f"created_since={quote(planned)}")) == 3
    assert listed(f"created_before={quote(planned)}") == []  # before: strictly
    hour_later = (datetime.fromisoformat(planned) + timedelta(hours=1)).isoformat()
    assert len(listed(f"created_before={quote(hour_later)}&status=sent")) == 2
    for query, field in (
        ("created_since=2026-12-01", "created_since"),  # no offset: which zone?
        (f"created_since={quote(hour_later)}&created_before={quote(planned)}", "created_before"),
        ("patient_id=pat-1&recipient=patient:pat-2", "patient_id"),
        ("kind=letter", "kind"),
    ):
        answer = client.get(f"/deliveries?{query}", headers=keys["admin"])
        assert answer.status_code == 422 and field in answer.get_json()["errors"]["query"], query


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "failed"},
        {"channel": "sms"},
        {"kind": "reminder"},
        {"recipient": "patient:pat-1"},
        {"created_since": datetime(2026, 1, 1, tzinfo=UTC)},
        {"created_before": datetime(2026, 1, 1, tzinfo=UTC), "status": "sent"},
    ],
)
def test_each_log_filter_is_served_by_an_index_that_leads_with_the_tenant(settings, filters):
    seen: list[dict] = []

    class Shapes(CommandCapture):
        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == "deliveries":
                seen.append(dict(event.command["filter"]))

    mongo = Mongo(settings, listeners=[Shapes()])
    DeliveryLog(mongo.db.deliveries, TENANT).page(filters, PageRequest())
    mongo.close()
    declared = [Index(m.document["name"], tuple(m.document["key"])) for m in INDEXES["deliveries"]]
    [shape] = seen
    name, used = best_index(shape, declared) or ("none", 0)
    index = next(i for i in declared if i.name == name)
    assert index.keys[0] == "tenant_id" and used >= 2, (shape, name)


def test_the_log_pages_come_off_indexes_in_their_order_and_the_older_ones_are_dropped(db):
    db.deliveries.create_index([("tenant_id", 1), ("created_at", -1)], name="tenant_log")
    create_indexes(db)
    indexes = db.deliveries.index_information()
    assert indexes["tenant_log_page"]["key"] == [("tenant_id", 1), ("created_at", -1), ("_id", -1)]
    assert "tenant_recipient_log_page" in indexes and "tenant_log" not in indexes
    for field in ("status", "channel", "kind"):  # each filter: tenant first, in the log's order
        assert indexes[f"tenant_{field}_log_page"]["key"] == [
            ("tenant_id", 1), (field, 1), ("created_at", -1), ("_id", -1),
        ]  # fmt: skip
    create_indexes(db)  # once more, as every process does: nothing left to drop


def test_another_clinics_delivery_is_not_found_and_limited_staff_see_their_locations(
    client, keys, referred
):
    theirs = referred.one(tenant_id=OTHER, audience="patient", channel="email")["_id"]
    ours = referred.one(tenant_id=TENANT, audience="patient", channel="email")["_id"]
    assert client.get(f"/deliveries/{theirs}", headers=keys["admin"]).status_code == 404
    assert client.get(f"/deliveries/{theirs}", headers=keys["other"]).status_code == 200
    one = client.get(f"/deliveries/{ours}", headers=keys["admin"]).get_json()
    assert (one["status"], one["event"]["type"]) == ("sent", "referral.accepted")
    assert client.get(f"/deliveries/{ours}", headers=keys["loc2"]).status_code == 404
    assert items(client.get("/deliveries", headers=keys["loc2"])) == []


def test_the_log_needs_a_staff_key_and_reading_it_is_audited_without_patient_data(
    client, keys, referred
):
    assert client.get("/deliveries").status_code == 401
    assert client.get("/deliveries", headers=keys["partner"]).status_code == 403
    client.get("/deliveries?recipient=patient:pat-1", headers=keys["therapist"])
    [entry] = list(referred.db.audit.find({"object.type": "delivery"}))
    assert (entry["tenant_id"], entry["action"], entry["object"]["id"]) == (
        TENANT, "list", "patient:pat-1",
    )  # fmt: skip
    assert entry["actor"].startswith("therapist:")
    assert "maria" not in str(entry) and PHONE not in str(entry)


def test_a_text_refused_for_good_is_visible_as_failed_in_the_log(client, keys, service, sms):
    service.configure(**NO_QUIET_HOURS, staff_emails={"*": "desk@clinic.example"})
    sms.script(Reply(400, body={"error": "number cannot receive texts"}))
    service.handle(referral_accepted("pat-1", phone=PHONE, consent=("sms",)))
    service.send_due()
    [failed] = items(client.get("/deliveries?status=failed", headers=keys["front_desk"]))
    assert (failed["recipient"], failed["channel"], failed["attempts"]) == (
        "patient:pat-1",
        "sms",
        1,
    )
    assert "HTTP 400" in failed["last_error"] and "cannot receive" in failed["provider_answer"]
    reports = items(client.get("/deliveries?recipient=staff:loc-1", headers=keys["admin"]))
    assert "failure_report" in {r["kind"] for r in reports}


# --- preferences, unsubscribe, STOP ----------------------------------------------------------


def test_staff_opt_a_patient_out_of_and_back_into_a_channel(client, keys, referred):
    url = "/patients/pat-1/preferences"
    shown = client.get(url, headers=keys["therapist"]).get_json()
    assert shown["effective"] == {"email": True, "sms": True}
    changed = client.put(url, json={"sms": False}, headers=keys["front_desk"]).get_json()
    assert changed["receive"] == {"email": True, "sms": False}
    assert changed["effective"] == {"email": True, "sms": False}
    assert changed["consent"] == {"email": True, "sms": True}  # intake's consent is untouched
    back = client.put(url, json={"sms": True}, headers=keys["admin"]).get_json()
    assert back["effective"]["sms"] is True
    assert client.put(url, json={"sms": False}, headers=keys["therapist"]).status_code == 403


def test_preferences_refuse_unknown_fields_and_other_clinics_patients(client, keys, referred):
    refused = client.put(
        "/patients/pat-1/preferences", json={"tenant_id": OTHER, "sms": False},
        headers=keys["admin"],
    )  # fmt: skip
    assert refused.status_code == 422 and "tenant_id" in str(refused.get_json()["errors"])
    assert referred.contact("pat-1")["opted_out_channels"] == []
    for method in ("get", "put"):
        answer = getattr(client, method)(
            "/patients/pat-9/preferences", json={"sms": False}, headers=keys["admin"]
        )
        assert answer.status_code == 404
    assert referred.contact("pat-9", OTHER)["opted_out_channels"] == []


def test_the_unsubscribe_link_in_a_welcome_email_opts_the_patient_out(client, referred, inbox):
    [welcome] = inbox.to("maria@example.org")
    link = welcome.headers["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://notify.clinic.example")
    page = client.get(path)
    assert page.status_code == 200 and b"<form method=post>" in page.data
    assert referred.contact("pat-1")["opted_out_channels"] == []  # GET changes nothing
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert referred.contact("pat-1")["opted_out_channels"] == ["email"]
    assert client.post(path[:-2] + "xx").status_code == 404
    assert referred.db.audit.find_one({"action": "opt_out"})["object"]["id"] == "pat-1"


def test_a_stop_reply_opts_the_number_out_of_texts_and_start_back_in(client, referred):
    body, headers = inbound_reply(INBOUND_SECRET, PHONE, "Stop")
    answer = client.post("/sms/inbound", data=body, headers=headers)
    assert answer.get_json() == {"command": "stop", "contacts": 1}
    assert referred.contact("pat-1")["opted_out_channels"] == ["sms"]
    body, headers = inbound_reply(INBOUND_SECRET, PHONE, "START")
    client.post("/sms/inbound", data=body, headers=headers)
    assert referred.contact("pat-1")["opted_out_channels"] == []
    body, headers = inbound_reply(INBOUND_SECRET, PHONE, "what time is my appointment?")
    assert client.post("/sms/inbound", data=body, headers=headers).get_json()["contacts"] == 0


def test_an_inbound_reply_without_the_providers_signature_is_refused(client, referred):
    body, headers = inbound_reply("someone-elses-secret", PHONE, "STOP")
    assert client.post("/sms/inbound", data=body, headers=headers).status_code == 401
    assert client.post("/sms/inbound", json={"from": PHONE, "body": "STOP"}).status_code == 401
    assert referred.contact("pat-1")["opted_out_channels"] == []


# --- clinic settings and template overrides --------------------------------------------------

CONFIG = {
    "clinic_name": "Calm Hands",
    "quiet_hours": {"start": "20:00", "end": "09:00"},
    "reminders": [{"key": "sms-3h", "channel": "sms", "minutes_before": 180}],
    "staff_emails": {"*": "office@calmhands.example"},
    "partner_webhooks": {
        "partner-9": {"url": "https://partner.example/hook", "secret": "whsec-0123456789abcdef"}
    },
    "retry": {"max_attempts": 5, "first_delay_s": 10},
}


def test_admins_set_the_clinic_settings_and_secrets_are_never_shown(client, keys, referred):
    stored = client.put("/config", json=CONFIG, headers=keys["admin"]).get_json()
    assert stored["partner_webhooks"] == {
        "partner-9": {"url": "https://partner.example/hook", "secret_set": True}
    }
    assert "whsec" not in str(client.get("/config", headers=keys["admin"]).get_json())
    hooks = {"partner-9": {"url": "https://partner.example/v2"}}  # no secret: keep the stored one
    client.put("/config", json={**CONFIG, "partner_webhooks": hooks}, headers=keys["admin"])
    document = referred.db.tenant_configs.find_one({"_id": TENANT})
    assert document["partner_webhooks"]["partner-9"] == {
        "url": "https://partner.example/v2", "secret": "whsec-0123456789abcdef",
    }  # fmt: skip
    assert "Calm Hands" not in str(client.get("/config", headers=keys["other"]).get_json())
    assert client.put("/config", json=CONFIG, headers=keys["front_desk"]).status_code == 403


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Mars"),
        ({"tenant_id": OTHER}, "tenant_id"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "start"),
        ({"reminders": [{"key": "x", "channel": "fax", "minutes_before": 5}]}, "channel"),
        (
            {"reminders": [{"key": "x", "channel": "sms", "minutes_before": m} for m in (5, 9)]},
            "unique",
        ),
    ],
)
def test_invalid_settings_are_refused_naming_the_problem(client, keys, referred, change, named):
    answer = client.put("/config", json={**CONFIG, **change}, headers=keys["admin"])
    assert answer.status_code == 422 and named in str(answer.get_json())
    [field] = change
    assert field in answer.get_json()["errors"]["json"]  # the one shape: errors.json.<field>
    assert referred.db.tenant_configs.find_one({"_id": TENANT}).get("clinic_name") is None


def test_a_template_override_is_used_for_that_clinic_until_removed(client, keys, service, sms):
    service.configure(**NO_QUIET_HOURS)
    url = "/templates/en/patient_welcome.sms"
    source = (
        "{{ clinic_name }} says hi{% if recipient_name %}, {{ recipient_name }}{% endif %}! "
        "{{ intake_link }} Reply STOP to opt out."
    )
    stored = client.put(url, json={"source": source}, headers=keys["admin"])
    assert stored.status_code == 200 and stored.get_json()["name"] == "patient_welcome.sms"
    assert items(client.get("/templates", headers=keys["other"])) == []
    [listed] = items(client.get("/templates", headers=keys["admin"]))
    assert listed["name"] == "patient_welcome.sms"
    service.handle(referral_accepted("pat-1", phone=PHONE, consent=("sms",)))
    service.send_due()
    assert sms.sent[-1].body.startswith("clinic-north says hi, Maria! https://intake.example/")
    assert client.delete(url, headers=keys["admin"]).status_code == 204
    assert client.get(url, headers=keys["admin"]).status_code == 404
    service.handle(referral_accepted("pat-2", phone="+12125550143", consent=("sms",)))
    service.send_due()
    assert sms.sent[-1].body.startswith("clinic-north: welcome, Maria!")


@pytest.mark.parametrize(
    ("name", "source", "why"),
    [
        ("patient_welcome.sms", "Your {{ diagnoses[0].display }} care. STOP", "use diagnoses"),
        ("patient_welcome.sms", "About your fibromyalgia. Reply STOP", "clinical detail"),
        ("patient_welcome.sms", "Welcome {{ recipient_name }}!", "STOP"),
        ("patient_welcome.email", "Hello {{ recipient_name }}", "Subject"),
        ("patient_welcome.email", "Subject: Hi {{ nobody }}", "may not use nobody"),
        ("staff_new_referral.email", "Subject: Hi {{ nobody }}", "undefined"),
        ("patient_welcome.email", "Subject: Hi\n\n{{ 1 / 0 }}", "ZeroDivisionError"),
        ("partner_referral_status.webhook", "{not json", "JSON"),
        ("staff_new_referral.email", "Subject: x\n\n{% for %}", "staff_new_referral"),
    ],
)
def test_an_override_that_would_not_render_or_would_leak_is_refused(
    client, keys, referred, name, source, why
):
    answer = client.put(f"/templates/en/{name}", json={"source": source}, headers=keys["admin"])
    assert answer.status_code == 422 and why in answer.get_json()["message"]
    assert referred.db.template_overrides.count_documents({}) == 0


def test_a_patient_override_naming_a_clinical_field_is_refused_with_a_field_error_naming_it(
    client, keys, referred
):
    source = "{{ clinic_name }}: your score was {{ measures[0].baseline }}. Reply STOP to opt out."
    answer = client.put(
        "/templates/en/patient_welcome.sms", json={"source": source}, headers=keys["admin"]
    )
    assert answer.status_code == 422
    [error] = answer.get_json()["errors"]["json"]["source"]
    assert error.startswith("a patient template may not use measures: patient messages can show")
    assert referred.db.template_overrides.count_documents({}) == 0


def test_unknown_templates_and_languages_are_not_found(client, keys, referred):
    for path in ("/templates/en/patient_secret.sms", "/templates/EN!/patient_welcome.sms"):
        answer = client.put(path, json={"source": "x STOP"}, headers=keys["admin"])
        assert answer.status_code == 404


def test_an_admin_starts_from_the_built_in_text_and_previews_a_draft_with_sample_data(
    client, keys, referred
):
    built_in = client.get("/templates/es-mx/patient_welcome.email/built-in", headers=keys["admin"])
    assert built_in.status_code == 200
    assert built_in.get_json()["language"] == "es" and "Subject:" in built_in.get_json()["source"]
    draft = "Subject: Hello {{ recipient_name }}\n\nSee you at {{ clinic_name }}."
    url = "/templates/en/patient_welcome.email/preview"
    shown = client.post(url, json={"source": draft}, headers=keys["admin"]).get_json()
    assert (shown["subject"], shown["text"]) == ("Hello Maria", "See you at Sample Clinic.\n")
    assert shown["html"] and shown["channel"] == "email"  # the built-in HTML part beside it
    assert referred.db.template_overrides.count_documents({}) == 0  # a preview stores nothing
    leaking = client.post(url, json={"source": "Subject: {{ diagnoses }}"}, headers=keys["admin"])
    assert (
        leaking.status_code == 422
        and "diagnoses" in leaking.get_json()["errors"]["json"]["source"][0]
    )
    for path, method in ((url, "post"), (url.replace("preview", "built-in"), "get")):
        refused = getattr(client, method)(path, json={"source": draft}, headers=keys["front_desk"])
        assert refused.status_code == 403
    names = client.get("/templates/built-in?page_size=3", headers=keys["admin"]).get_json()
    assert names["total"] > 20 and len(names["items"]) == 3
    pages = -(-names["total"] // 3)
    everything = [
        t
        for n in range(1, pages + 1)
        for t in items(client.get(f"/templates/built-in?page={n}", headers=keys["admin"]))
    ]  # this app's pages have 3 items at most
    languages = {t["name"]: t["languages"] for t in everything}
    assert languages["patient_welcome.email"] == ["en", "es"] and len(languages) == names["total"]
    assert client.get("/templates/built-in", headers=keys["front_desk"]).status_code == 403
    unknown = client.get("/templates/en/patient_secret.sms/built-in", headers=keys["admin"])
    assert unknown.status_code == 404
