"""Page 13, clinic settings: messages. The notification settings (the clinic's name in messages,
quiet hours, the staff inboxes, reminders before a session), and the template overrides: a
template's built-in text to start from, a preview rendered from sample data (sample names,
times and places: never a patient's), saving and removing the clinic's own text.

API calls: the person (usually kept) and the settings (or the overrides and the templates
there are; or one template's override and built-in text); a form post adds its change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.console.api_clients import ApiError
from services.console.domain.clinic_settings import (
    REMINDER_CHANNELS,
    REMINDER_ROWS,
    SECTIONS,
    config_body,
    config_fields,
    config_on_form,
    config_values,
    inbox_field,
    template_words,
)
from services.console.pages.settings_staff import offered
from services.console.web.forms import field_errors, typed
from services.console.web.signed_in import apis, person, signed_in

blp = Blueprint("message_settings", __name__)
LANGUAGE = "en"
LANGUAGES = {"en": "English", "es": "Spanish"}


def _settings(config: dict[str, Any], errors: dict[str, list[str]] | None = None, status=200):
    places = person().places
    body = render_template(
        "settings_notifications.html",
        sections=SECTIONS,
        current="notifications",
        places=places,
        inbox_field=inbox_field,
        reminder_rows=range(REMINDER_ROWS),
        reminder_channels=REMINDER_CHANNELS,
        values=typed() if errors else config_values(config, places),
        errors=errors or {},
    )
    return body, status


@blp.get("/settings/notifications")
@signed_in
def notifications():
    offered()
    return _settings(apis().notifications.config())


@blp.post("/settings/notifications")
@signed_in
def save_notifications():
    offered()
    api = apis().notifications
    places = person().places
    stored = api.config()
    body, errors = config_body(request.form, stored, places)
    if errors:
        return _settings(stored, errors, 422)
    try:
        api.replace_config(body)
    except ApiError as error:
        if error.kind != "invalid":
            raise
        return _settings(stored, field_errors(error, config_fields(places), config_on_form), 422)
    flash("Notification settings saved: the next messages follow them.", "success")
    return redirect(url_for("message_settings.notifications"))


@blp.get("/settings/templates")
@signed_in
def templates():
    offered()
    api = apis().notifications
    overrides = api.overrides()
    names = api.template_names()
    return render_template(
        "settings_templates.html",
        sections=SECTIONS,
        current="templates",
        overrides=[{**o, "words": template_words(o["name"])} for o in overrides],
        names={t["name"]: template_words(t["name"]) for t in names},
        languages={lang: LANGUAGES.get(lang, lang) for lang in sorted(_languages(names))},
    )


def _languages(names: list[dict[str, Any]]) -> set[str]:
    return {lang for t in names for lang in t["languages"]}


@blp.get("/settings/templates/open")
@signed_in
def open_template():
    """The template chosen in the list's form."""
    offered()
    language, name = request.args.get("language", LANGUAGE), request.args.get("name", "")
    return redirect(url_for("message_settings.template", language=language, name=name))


def _template(
    language: str,
    name: str,
    *,
    source: str | None = None,
    preview: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
):
    api = apis().notifications
    built_in = api.built_in(language, name)
    try:
        override = api.override(language, name)
    except ApiError as error:
        if error.kind != "not_found":
            raise
        override = None
    text = source if source is not None else (override or built_in)["source"]
    body = render_template(
        "settings_template.html",
        sections=SECTIONS,
        current="templates",
        language=language,
        name=name,
        words=template_words(name),
        built_in=built_in,
        override=override,
        source=text,
        preview=preview,
        errors=errors or {},
    )
    return body, status


@blp.get("/settings/templates/<language>/<name>")
@signed_in
def template(language: str, name: str):
    offered()
    return _template(language, name)


@blp.post("/settings/templates/<language>/<name>")
@signed_in
def save_template(language: str, name: str):
    """`preview` renders the draft from sample data; `save` stores it (both refuse a draft that
    would not render or would show a patient clinical detail, next to the text)."""
    offered()
    api = apis().notifications
    source = request.form.get("source", "")
    action = request.form.get("action", "preview")
    if action not in ("preview", "save"):
        abort(400)
    try:
        if action == "preview":
            shown = api.preview(language, name, source)
            return _template(language, name, source=source, preview=shown)
        api.replace_override(language, name, source)
    except ApiError as error:
        if error.kind != "invalid":
            raise
        errors = field_errors(error, ("source",))
        return _template(language, name, source=source, errors=errors, status=422)
    flash(f"{template_words(name)} saved: the clinic's messages use this text now.", "success")
    return redirect(url_for("message_settings.template", language=language, name=name))


@blp.post("/settings/templates/<language>/<name>/remove")
@signed_in
def remove_template(language: str, name: str):
    offered()
    apis().notifications.delete_override(language, name)
    flash(f"{template_words(name)}: the built-in text is used again.", "success")
    return redirect(url_for("message_settings.template", language=language, name=name))
