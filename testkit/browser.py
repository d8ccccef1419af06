"""Drives the patient's intake form in a real browser: Debian's Chromium through Playwright.

Never `playwright install` (downloads are blocked): the browser is the system's `chromium`
(installed by `scripts/bootstrap.sh --with-browser`). The form is filled the way a person using
a keyboard would: fields found by their labels, text typed, options chosen, boxes ticked with
the space bar, and the form sent with Enter on its button; no mouse.

    with chromium() as browser:
        page = open_page(browser, PHONE)
        page.goto(link)
        fill_intake_form(page, PatientAnswers(), mistake="missing_signature")
        send_form(page)
        assert "full name" in error_next_to(page, SIGNATURE)
        correct(page, PatientAnswers(), "missing_signature")
        send_form(page)
        assert is_thank_you_page(page)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, Locator, Page, ViewportSize, sync_playwright

from services.intake.web_form.questionnaires import QUESTIONNAIRES

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}

PAIN = "Pain right now"
SIGNATURE = "Type your full name as your signature"
SEND = "Send my form"

Mistake = Literal["missing_signature", "pain_out_of_range"]


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("chromium is not installed: run scripts/bootstrap.sh --with-browser")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, viewport: ViewportSize) -> Page:
    """A page in its own context; a phone-sized viewport also gets a touch, mobile browser."""
    phone = viewport["width"] < 600
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(10_000)
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """The whole page, kept as a test artefact under test-artifacts/ at the repository root."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class PatientAnswers:
    """What the patient types. Questionnaire items get `choice` steps above the lowest answer."""

    symptom: str = "Low back pain when sitting"
    symptom_area: str = "lower back"
    symptom_severity: int = 6
    body_areas: tuple[str, ...] = ("Lower back", "Neck")
    pain: int = 6
    choice: int = 1
    activities: tuple[tuple[str, int], ...] = (
        ("Sitting at my desk", 4),
        ("Carrying groceries", 5),
        ("Sleeping through the night", 6),
    )
    conditions: tuple[str, ...] = ("I take a blood thinner",)
    medications: str = "Warfarin 5 mg daily\nIbuprofen as needed"
    temperature: str = "36.8"
    notes: str = "Desk job."
    email_ok: bool = True
    sms_ok: bool = False
    signature: str = "Maria Elena Alvarez"


def tick(box: Locator, on: bool = True) -> None:
    """Tick or untick a checkbox from the keyboard (focus, space)."""
    if box.is_checked() != on:
        box.press("Space")
    assert box.is_checked() == on


def measures_on(page: Page) -> list[str]:
    """The questionnaires the form asks, in page order."""
    return [
        group.get_attribute("data-measure") or ""
        for group in page.locator("fieldset[data-measure]").all()
    ]


def _fill_questionnaires(page: Page, answers: PatientAnswers, pain: str) -> None:
    for measure in measures_on(page):
        group = page.locator(f'fieldset[data-measure="{measure}"]')
        questionnaire = QUESTIONNAIRES.questionnaires[measure]
        for n, item in enumerate(questionnaire.items, 1):
            if item.activity_label:
                if n <= len(answers.activities):
                    name, rating = answers.activities[n - 1]
                    group.get_by_label(item.activity_label, exact=True).fill(name)
                    group.get_by_label(item.label, exact=True).fill(str(rating))
            elif item.kind == "number":
                group.get_by_label(item.label).fill(pain)
            else:
                low = questionnaire.spec.item_range[0]
                field = group.get_by_label(f"{n}. {item.label}", exact=True)
                field.select_option(str(low + answers.choice))


def fill_intake_form(page: Page, answers: PatientAnswers, mistake: Mistake | None = None) -> None:
    """Fill every section by label; `mistake` leaves one answer wrong for the form to catch."""
    page.get_by_label("Symptom 1: what you feel").fill(answers.symptom)
    page.get_by_label("Symptom 1: where on the body").fill(answers.symptom_area)
    page.get_by_label("Symptom 1: how bad").fill(str(answers.symptom_severity))
    for area in answers.body_areas:
        tick(page.get_by_label(area, exact=True))
    pain = "12" if mistake == "pain_out_of_range" else str(answers.pain)
    _fill_questionnaires(page, answers, pain)
    for condition in answers.conditions:
        tick(page.get_by_label(condition))
    page.get_by_label("Medicines you take now").fill(answers.medications)
    page.get_by_label("Your temperature today").fill(answers.temperature)
    page.get_by_label("Anything else your therapist should know").fill(answers.notes)
    tick(page.get_by_label("You may email me"), answers.email_ok)
    tick(page.get_by_label("You may send me text messages"), answers.sms_ok)
    tick(page.get_by_label("I have read this and I agree"))
    signature = "" if mistake == "missing_signature" else answers.signature
    page.get_by_label(SIGNATURE).fill(signature)


def correct(page: Page, answers: PatientAnswers, mistake: Mistake) -> None:
    """Put right the answer `fill_intake_form` left wrong (everything else is kept by the page)."""
    if mistake == "missing_signature":
        page.get_by_label(SIGNATURE).fill(answers.signature)
    else:
        page.get_by_label(PAIN).fill(str(answers.pain))


def field_of(mistake: Mistake) -> str:
    return SIGNATURE if mistake == "missing_signature" else PAIN


def send_form(page: Page) -> None:
    """Send with the keyboard (Enter on the button) and wait for the next page."""
    with page.expect_navigation():
        page.get_by_role("button", name=SEND).press("Enter")


def error_next_to(page: Page, label: str) -> str:
    """The error message tied to the labelled field (aria-describedby), checking aria-invalid."""
    field = page.get_by_label(label)
    assert field.get_attribute("aria-invalid") == "true", f"{label!r} is not marked invalid"
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"#{element_id}").inner_text() for element_id in described]
    found = [
        text for element_id, text in zip(described, errors, strict=True) if "error" in element_id
    ]
    assert found, f"no error is tied to {label!r}"
    return found[0]


def is_thank_you_page(page: Page) -> bool:
    return page.get_by_role("heading", name="Thank you").is_visible()
