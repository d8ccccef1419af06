"""What every page's layout needs: the navigation the person's role is offered, the idle
warning's timing, role names, and the time formats as template filters."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, url_for

from services.console.domain.offers import NavItem, may, navigation_for
from services.console.domain.times import on_day, when
from services.console.web.signed_in import seconds_left

ROLE_LABELS = {"admin": "Admin", "front_desk": "Front desk", "therapist": "Therapist"}


def _layout() -> dict[str, Any]:
    person = g.get("person")
    if person is None:
        return {"person": None, "nav": [], "section": None}
    own = current_app.config["SETTINGS"].own
    return {
        "person": person,
        "role_label": ROLE_LABELS.get(person.role, person.role),
        "nav": [(item, _href(item)) for item in navigation_for(person.role)]
        if person.scope == "all"
        else [],
        "section": g.get("section"),
        "session_ends_in": seconds_left(person.idle_minutes),
        "warn_before": own.console_idle_warning_s,
        "here": request.full_path.rstrip("?"),
        "may": lambda action: may(person.role, action),
    }


def _href(item: NavItem) -> str:
    if item.endpoint == "coming.page":
        return url_for(item.endpoint, key=item.key)
    return url_for(item.endpoint)


def init_layout(app: Flask) -> None:
    app.context_processor(_layout)
    app.jinja_env.filters["on_day"] = on_day
    app.jinja_env.globals["when"] = when
