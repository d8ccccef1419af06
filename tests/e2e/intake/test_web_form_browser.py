"""The patient's intake form in a real browser (headless Chromium via Playwright) against intake as
real processes (gunicorn API and worker): the link from `referral.accepted` opens the form, one
mistake is shown next to its field and corrected, and the staff API shows the intake completed
by the patient. Screenshots of the form (phone and desktop) are kept under test-artifacts/."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from testkit.browser import (
    DESKTOP,
    PHONE,
    PatientAnswers,
    chromium,
    correct,
    error_next_to,
    field_of,
    fill_intake_form,
    is_thank_you_page,
    measures_on,
    open_page,
    screenshot,
    send_form,
)
from testkit.event_tap import EventTap
from testkit.processes import Api, Worker, free_port
from testkit.rabbit import amqp_url
from testkit.referrals import native_referral
from testkit.staff import bearer
from testkit.waiting import wait_until

MISTAKE = "missing_signature"


@pytest.fixture
def stack(world, service_env, vhost, tmp_path):
    """The intake API and worker, and a stand-in for intake's consumers (reads its events)."""
    sink = EventTap(amqp_url(vhost), "intake.events")
    env = service_env("intake", WORKER_METRICS_PORT=str(free_port()), OUTBOX_POLL_INTERVAL_S="0.2")
    worker = Worker("intake", env, tmp_path)
    api = Api("intake", env, tmp_path)
    try:
        wait_until(worker.heartbeat.exists, timeout=30, message="the intake worker")
        api.wait_live()
        yield {"api": api, "sink": sink}
    finally:
        api.stop()
        assert worker.stop() == 0, worker.log()
        sink.close()


def intake_link_of(sink: EventTap, referral_id: str) -> str:
    accepted = wait_until(
        lambda: [
            e for e in sink.events("referral.accepted") if e["data"]["referral_id"] == referral_id
        ],
        timeout=20,
        message="referral.accepted",
    )
    return accepted[0]["data"]["intake_link"]


def test_a_patient_fills_in_the_form_in_a_browser_corrects_a_mistake_and_staff_see_it(world, stack):
    started = time.monotonic()
    base = stack["api"].url
    staff = bearer(world.key("clinic-a", "front_desk"))
    referred = requests.post(f"{base}/referrals", json=native_referral(), headers=staff, timeout=10)
    assert referred.status_code == 201, referred.text
    referral_id = referred.json()["referral_id"]
    link = intake_link_of(stack["sink"], referral_id)
    url = base + urlsplit(link).path  # the link's path, on the API under test
    answers = PatientAnswers()

    with chromium() as browser:
        desktop = open_page(browser, DESKTOP)
        desktop.goto(url)
        assert measures_on(desktop) == ["NPRS", "ODI", "NDI"]  # low back and neck pain
        screenshot(desktop, "intake-form-desktop.png")
        desktop.context.close()

        page = open_page(browser, PHONE)
        page.goto(url)
        screenshot(page, "intake-form-phone.png")
        fill_intake_form(page, answers, mistake=MISTAKE)
        send_form(page)

        assert "full name" in error_next_to(page, field_of(MISTAKE))
        assert page.title().startswith("Error:")
        assert page.get_by_label("Medicines you take now").input_value() == answers.medications
        assert page.get_by_label("I take a blood thinner").is_checked()
        screenshot(page, "intake-form-error-phone.png")
        correct(page, answers, MISTAKE)
        send_form(page)

        assert is_thank_you_page(page)
        page.goto(url)
        assert page.get_by_role("heading", name="This form has already been sent").is_visible()

    therapist = bearer(world.key("clinic-a", "therapist"))
    [intake] = requests.get(
        f"{base}/intakes", params={"referral_id": referral_id}, headers=therapist, timeout=10
    ).json()["items"]
    assert intake["completed_by"] == "patient"
    assert intake["consent"]["signed_by"] == answers.signature
    assert [b["measure"] for b in intake["baseline"]] == ["NPRS", "ODI", "NDI"]
    assert "anticoagulants" in {r["rule_id"] for r in intake["screening"]["reasons"]}
    completed = wait_until(
        lambda: stack["sink"].events("intake.completed"), timeout=20, message="intake.completed"
    )
    assert completed[0]["data"]["completed_by"] == "patient"
    assert time.monotonic() - started < 60
