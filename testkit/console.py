"""Drives the staff console in a real browser (Debian's Chromium through Playwright, as
testkit/browser.py does for the patient's form): sign in by the labelled fields and the
keyboard, take screenshots at a phone's and a desktop's size, and run axe-core in the page.

axe-core comes from the npm registry, pinned by testkit/package-lock.json and installed into
testkit/node_modules by `scripts/bootstrap.sh --with-browser` (`npm ci`); it is read from there
and evaluated in the page through the browser's debugging protocol, which the console's
Content-Security-Policy does not govern: the policy stays in force for everything else, so a
script that hostile content smuggled in would be refused as in a person's browser.

    with chromium() as browser:
        console = Console(browser, stack.console_url)
        console.sign_in(clinic, email, password)
        console.page.get_by_role("link", name="Referrals").press("Enter")
        assert console.accessibility_violations() == []
        console.screenshots("inbox")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Browser, Page, ViewportSize

from testkit.browser import ARTIFACTS, DESKTOP, PHONE

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(
            "axe-core is not installed: run scripts/bootstrap.sh --with-browser (npm ci in testkit/)"
        )
    return AXE.read_text(encoding="utf-8")


@dataclass
class Console:
    """One person's browser on the console (a context of its own: its own cookie)."""

    browser: Browser
    base_url: str
    viewport: ViewportSize = field(default_factory=lambda: dict(DESKTOP))  # type: ignore[assignment]
    page: Page = field(init=False)

    def __post_init__(self) -> None:
        context = self.browser.new_context(viewport=self.viewport)
        context.set_default_timeout(15_000)
        self.page = context.new_page()
        self.script_errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:  # an alert() that hostile content ran
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base_url}{path}")
        return self.page

    def send(self, button: str) -> None:
        """Press a button with the keyboard and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).first.press("Enter")

    def follow(self, link: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link).first.press("Enter")

    def sign_in(
        self,
        clinic: str,
        email: str,
        password: str,
        *,
        totp_secret: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        """Sign in from the sign-in page, giving the second factor when it is asked for."""
        if "/sign-in" not in self.page.url:
            self.open("/sign-in")
        self.page.get_by_label("Clinic").fill(clinic)
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.send("Sign in")
        if "/sign-in/second-factor" in self.page.url:
            if recovery_code:
                self.page.get_by_text("Use a recovery code instead").press("Enter")
                self.page.get_by_label("Recovery code").fill(recovery_code)
            elif totp_secret:
                code = pyotp.TOTP(totp_secret).now()
                self.page.get_by_label("Code from your authenticator app").fill(code)
            else:
                raise AssertionError(f"{email} is asked for a second factor")
            self.send("Go on")

    def flash(self) -> str:
        """The confirmation (or notice) the page shows."""
        return self.page.locator(".flashes").inner_text()

    def error_next_to(self, label: str) -> str:
        """The error tied to the labelled field (aria-describedby), which is marked invalid."""
        field_ = self.page.get_by_label(label, exact=True)
        assert field_.get_attribute("aria-invalid") == "true", f"{label!r} is not marked invalid"
        ids = (field_.get_attribute("aria-describedby") or "").split()
        errors = [self.page.locator(f"#{i}").inner_text() for i in ids if i.endswith("-error")]
        assert errors, f"no error is tied to {label!r}"
        return errors[0]

    def accessibility_violations(self) -> list[dict[str, Any]]:
        """axe-core's WCAG 2.1 A and AA violations on the page as it is now (none, we hope)."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(f"() => {{ {axe_source()}\n}}")
        result = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_A_AA
        )
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]  # fmt: skip

    def checked(self, name: str) -> None:
        """What every page of the console must be: axe-core clean at a phone's and a desktop's
        size, no script error, no dialog (nothing hostile ran); then its screenshots."""
        found = {}
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            found[label] = self.accessibility_violations()
        self.page.set_viewport_size(self.viewport)
        assert found == {"phone": [], "desktop": []}, (name, found)
        assert self.script_errors == [] and self.dialogs == [], (name, self.script_errors)
        self.screenshots(name)

    def screenshots(self, name: str) -> list[Path]:
        """The whole page at a phone's size (390x844) and a desktop's (1280x900)."""
        ARTIFACTS.mkdir(exist_ok=True)
        taken = []
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            path = ARTIFACTS / f"console-{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            taken.append(path)
        self.page.set_viewport_size(self.viewport)
        return taken

    def close(self) -> None:
        self.page.context.close()
