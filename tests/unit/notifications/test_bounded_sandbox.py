"""The bounded sandbox's time budget and its hooks, on the renderer itself (no I/O): a render
that runs past `RENDER_BUDGET_S` stops with a reason; the built-in templates still render."""

from __future__ import annotations

import pytest

from services.notifications.domain import bounded_sandbox
from services.notifications.domain.bounded_sandbox import TemplateTooCostly
from services.notifications.domain.templates import TemplateError, TemplateRenderer

TENANT = "clinic-a"
SLOW = "Subject: x\n\n{% for i in range(9999) %}{{ 'y' | center(9) | trim }}{% endfor %}"


def renderer(source: str) -> TemplateRenderer:
    return TemplateRenderer({(TENANT, "en", "staff_new_referral.email.j2"): source})


def render(source: str):
    return renderer(source).render("staff_new_referral", "email", {}, tenant_id=TENANT)


def test_a_render_past_the_time_budget_stops_with_the_reason(monkeypatch):
    assert render(SLOW).text.startswith("y")  # within the budget it renders
    monkeypatch.setattr(bounded_sandbox, "RENDER_BUDGET_S", 0.0)
    with pytest.raises(TemplateError, match="rendering took longer than 0 s"):
        render(SLOW)


def test_the_budget_is_checked_in_every_hook_not_only_at_output(monkeypatch):
    silent = "Subject: x\n\n{% for i in range(9999) %}{% set y = 'a' ~ i %}{% endfor %}done"
    monkeypatch.setattr(bounded_sandbox, "RENDER_BUDGET_S", 0.0)
    with pytest.raises(TemplateError, match="took longer"):
        render(silent)


def test_the_shape_check_is_applied_to_overrides_only():
    env = renderer("").env
    with pytest.raises(TemplateTooCostly, match="may not include"):
        env.parse("{% include 'x' %}")
    assert env.parse("{% include 'x' %}", filename="built-in.j2") is not None
