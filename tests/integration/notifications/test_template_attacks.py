"""Template overrides as an attack: one that reaches past its context (template injection) or
costs too much to render is refused at save time with a 422 naming the problem, and nothing
stored changes; one stored behind the API's back fails its message instead of hanging the
worker (the bounded sandbox, `domain/bounded_sandbox.py`)."""

from __future__ import annotations

import time

import pytest

from services.notifications.repository.template_overrides import TemplateOverrides
from tests.integration.notifications import test_api as api
from tests.integration.notifications.harness import NOON_UTC
from tests.support.notifications_events import TENANT, referral_accepted

app, client, keys, referred = api.app, api.client, api.keys, api.referred  # the API's fixtures
OTHER = api.OTHER

STAFF_MAIL = "staff_new_referral.email"
PATIENT_SMS = "patient_welcome.sms"
KEPT = "Subject: New referral\n\nA new referral arrived."
OTHER_CLINICS = "{{ clinic_name }} welcomes you. Reply STOP to opt out."


def _staff(body: str) -> tuple[str, str]:
    return STAFF_MAIL, f"Subject: New referral\n\n{body}"


def _patient(body: str) -> tuple[str, str]:
    return PATIENT_SMS, f"{body} Reply STOP to opt out."


INJECTIONS = {
    "mro": (_staff("{{ ''.__class__.__mro__ }}"), "unsafe"),
    "subclasses": (_staff("{{ ''.__class__.__mro__[1].__subclasses__() }}"), "unsafe"),
    "config": (_staff("{{ config }}"), "'config' is undefined"),
    "config in a patient message": (_patient("{{ config.items() }}"), "may not use config"),
    "request": (_staff("{{ request.environ }}"), "'request' is undefined"),
    "include another clinic's": (
        _staff("{% include 'clinic-south:en:patient_welcome.sms.j2' %}"),
        "may not include",
    ),
    "import": (_staff("{% import 'clinic-south:en:x.sms.j2' as x %}"), "may not import"),
    "extends": (_staff("{% extends 'clinic-south:en:x.sms.j2' %}"), "may not extend"),
    "cycler globals": (_staff("{{ cycler.__init__.__globals__.os }}"), "unsafe"),
    "joiner globals": (_staff("{{ joiner.__init__.__globals__ }}"), "unsafe"),
    "namespace class": (_staff("{{ namespace.__class__.__base__ }}"), "unsafe"),
    "lipsum globals": (_staff("{{ lipsum.__globals__ }}"), "unsafe"),
    "the template's context": (_staff("{{ self._TemplateReference__context }}"), "unsafe"),
    "format string": (_staff("{{ '{0.__class__}'.format('') }}"), "unsafe"),
    "a clinical field in a patient message": (
        _patient("{{ diagnoses[0].display }}"),
        "may not use diagnoses",
    ),
    "clinical fields through the loop": (
        _patient("{% for m in measures %}{{ m.baseline }}{% endfor %}"),
        "may not use measures",
    ),
}

COSTLY = {
    "nested range loops": (
        _staff("{% for a in range(99) %}{% for b in range(99) %}.{% endfor %}{% endfor %}"),
        "may not nest one loop inside another",
    ),
    "a loop in a loop's else": (
        _staff("{% for a in [] %}{% else %}{% for b in [1] %}.{% endfor %}{% endfor %}"),
        "may not nest",
    ),
    "x times ten to the ninth": (_staff("{{ 'x' * 10**9 }}"), "longer than 100000"),
    "huge string multiplication": (_staff("{{ 'x' * 1000000000 }}"), "longer than 100000"),
    "list multiplication": (_staff("{{ ([1] * 10**8) | length }}"), "longer than 100000"),
    "concatenation that doubles": (
        _staff("{% set a = 'x' * 60000 %}{% set b = a ~ a %}{{ b | length }}"),
        "longer than 100000",
    ),
    "a power tower": (_staff("{{ 9 ** 9 ** 9 }}"), "a number larger than"),
    "a huge power": (_staff("{{ 2 ** 100000 }}"), "exponent larger than 64"),
    "a wide filter": (_staff("{{ 'x' | center(1000000000) }}"), "argument larger than 10000"),
    "a wide method": (_staff("{{ 'x'.ljust(1000000000) }}"), "argument larger than 10000"),
    "a long range": (_staff("{% for i in range(10**7) %}.{% endfor %}"), "argument larger"),
    "lipsum": (_staff("{{ lipsum(100000) }}"), "argument larger than 10000"),
    "output that grows": (
        _staff("{% for i in range(9999) %}{{ 'y' * 99 }}{% endfor %}"),
        "longer than 200000",
    ),
    "recursion by macro": (
        _staff("{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}"),
        "may not define macros",
    ),
    "recursive loop": (
        _staff("{% for a in [[1]] recursive %}{{ loop(a) }}{% endfor %}"),
        "may not loop recursively",
    ),
    "call block": (_staff("{% call joiner() %}x{% endcall %}"), "may not use call blocks"),
}


@pytest.fixture
def stored(referred):
    """One override of each clinic, stored before the attack (neither may change)."""
    overrides = TemplateOverrides(referred.db.template_overrides)
    overrides.put(TENANT, "en", f"{STAFF_MAIL}.j2", KEPT, NOON_UTC)
    overrides.put(OTHER, "en", f"{PATIENT_SMS}.j2", OTHER_CLINICS, NOON_UTC)
    return referred


def _attempt(client, keys, db, name: str, source: str):
    before = list(db.template_overrides.find({}).sort("_id", 1))
    started = time.monotonic()
    answer = client.put(f"/templates/en/{name}", json={"source": source}, headers=keys["admin"])
    took = time.monotonic() - started
    assert list(db.template_overrides.find({}).sort("_id", 1)) == before  # nothing changed
    return answer, took


@pytest.mark.parametrize(("attack", "why"), INJECTIONS.values(), ids=INJECTIONS.keys())
def test_a_template_injection_is_refused_and_nothing_stored_changes(
    client, keys, stored, attack, why
):
    name, source = attack
    answer, _ = _attempt(client, keys, stored.db, name, source)
    body = answer.get_json()
    assert answer.status_code == 422, body
    assert why in body["message"] and why in body["errors"]["json"]["source"][0]


@pytest.mark.parametrize(("attack", "why"), COSTLY.values(), ids=COSTLY.keys())
def test_an_override_that_would_be_costly_to_render_is_refused_at_once(
    client, keys, stored, attack, why
):
    name, source = attack
    answer, took = _attempt(client, keys, stored.db, name, source)
    body = answer.get_json()
    assert answer.status_code == 422, body
    assert why in body["message"]
    assert took < 10  # refused without rendering it whole (generous: a loaded machine)


def test_a_costly_override_stored_behind_the_apis_back_fails_its_message_not_the_worker(
    stored, inbox
):
    """The same bounds hold at send time: the message fails with the reason, the next one of
    another template still goes out."""
    stored.configure(staff_emails={"*": "office@clinic.example"})
    TemplateOverrides(stored.db.template_overrides).put(
        TENANT, "en", "patient_welcome.email.j2",
        "Subject: Hi\n\n{% for a in range(99) %}{% for b in range(99) %}.{% endfor %}"
        "{% endfor %}{{ unsubscribe_url }}",
        NOON_UTC,
    )  # fmt: skip
    stored.handle(referral_accepted("pat-5", email="pat-5@example.org", referrer_email=None))
    started = time.monotonic()
    stored.send_due()
    assert time.monotonic() - started < 10
    [welcome] = stored.deliveries(audience="patient", channel="email", status="failed")
    assert welcome["last_error"] == (
        "TemplateError: patient_welcome.email.j2: an override may not nest one loop inside another"
    )
    assert inbox.to("pat-5@example.org") == []
