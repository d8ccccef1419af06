"""Checking a tenant's template override before it is stored, so it cannot fail at send time.

An override is rendered from the template's sample event (`samples`), through the same path
as a real message: email needs a subject, SMS a STOP instruction and at most 320 characters,
webhooks must be JSON, and a patient template must not show any clinical detail. A patient
template may name only the fields of `patient_context.PATIENT_FIELDS`: one that names another
(``{{ diagnoses }}``) is refused, naming it, rather than stored to fail on every send.
"""

from __future__ import annotations

import re

from jinja2 import TemplateSyntaxError, meta

from .bounded_sandbox import TemplateTooCostly
from .patient_context import PATIENT_FIELDS
from .phi_guard import PhiLeak
from .rules import Notification
from .samples import SAMPLES, sample_data
from .templates import RenderedMessage, TemplateError, TemplateRenderer, render_notification

NAME = re.compile(r"^(?P<template>[a-z0-9_]+)\.(?P<channel>email|sms|webhook)(?P<html>\.html)?$")
SAMPLE_EXTRAS = {
    "clinic_name": "Sample Clinic",
    "unsubscribe_url": "https://clinic.example/unsubscribe/sample",
    "recipient_name": "Maria",
}


class OverrideRefused(ValueError):
    """The override cannot be used; the message says why (no patient data in it)."""


def parse_name(name: str) -> tuple[str, str, bool]:
    """("patient_welcome", "email", False) for "patient_welcome.email"; raises for unknown."""
    match = NAME.match(name)
    if match is None or match["template"] not in SAMPLES:
        raise OverrideRefused(f"unknown template {name!r}")
    template, channel, html = match["template"], match["channel"], bool(match["html"])
    if html and channel != "email":
        raise OverrideRefused("only email templates have an HTML part")
    return template, channel, html


def check_override(tenant_id: str, language: str, name: str, source: str) -> RenderedMessage:
    """The message the override renders from its sample event (its preview); raises
    `OverrideRefused` unless that is a sendable, safe message."""
    template, channel, _ = parse_name(name)
    renderer = TemplateRenderer({(tenant_id, language, f"{name}.j2"): source})
    event_type, data = sample_data(template)
    audience = template.split("_", 1)[0]
    if audience == "patient":
        _check_patient_fields(renderer, source)
    notification = Notification(
        event_type, audience, "sample", channel, template, language=language
    )
    try:
        return render_notification(
            renderer, notification, data, tenant_id=tenant_id, **SAMPLE_EXTRAS
        )
    except TemplateError as error:
        raise OverrideRefused(str(error)) from None
    except PhiLeak as leak:
        raise OverrideRefused(f"a patient message may not show clinical detail ({leak})") from None


def _check_patient_fields(renderer: TemplateRenderer, source: str) -> None:
    try:
        used = meta.find_undeclared_variables(renderer.env.parse(source))
    except TemplateSyntaxError:
        return  # rendering it reports the error, as for any template
    except TemplateTooCostly as costly:
        raise OverrideRefused(str(costly)) from None
    if unknown := sorted(used - set(PATIENT_FIELDS) - set(renderer.env.globals)):
        raise OverrideRefused(
            f"a patient template may not use {', '.join(unknown)}: patient messages can show "
            f"only {', '.join(PATIENT_FIELDS)}"
        )
