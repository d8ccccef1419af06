"""Message templates: Jinja2, per tenant and per language, checked before anything is sent.

Files live in ``services/notifications/templates/<language>/<template>.<channel>.j2``:

- ``*.email.j2``: the first line is ``Subject: ...``, the rest (after blank lines) is the text
  body. An optional ``*.email.html.j2`` beside it is an HTML body (autoescaped).
- ``*.sms.j2``: plain text, at most `SMS_MAX_CHARS`, and it must carry the STOP keyword.
- ``*.webhook.j2``: a JSON document (use ``|tojson``); it is parsed and re-serialised.

Lookup order for ``(tenant, language, file)``: for the language tag ("es-MX"), then its primary
language ("es"), then "en", try the tenant's override (``overrides[(tenant_id, language,
file)]``, where file is e.g. ``"patient_welcome.email.j2"``), then the built-in file. Templates
run in Jinja's immutable sandbox, bounded in shape, size and time (`bounded_sandbox`), because
tenant overrides are tenant-authored, and undefined names fail loudly (`StrictUndefined`).
A patient message sees only `patient_context` (an allow-list of fields that cannot carry
clinical content) and goes through `phi_guard` after rendering.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound
from jinja2 import TemplateError as JinjaTemplateError

from .bounded_sandbox import BoundedSandbox
from .patient_context import patient_context
from .phi_guard import assert_patient_safe, clinical_terms
from .progress_charts import Attachment
from .rules import Notification
from .template_filters import FILTERS

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
FALLBACK_LANGUAGE = "en"
SMS_MAX_CHARS = 320
STOP_KEYWORD = "STOP"

LANGUAGE_TAG = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
"""A language tag as templates are stored under it: "es", "es-mx"."""
_LANGUAGE = re.compile(LANGUAGE_TAG)
_FILE = re.compile(r"^[a-z0-9_]+\.(email|sms|webhook)(\.html)?\.j2$")


class Overrides(Protocol):
    """Tenants' template sources by ``(tenant_id, language, file)`` (a dict will do)."""

    def get(self, key: tuple[str, str, str], /) -> str | None: ...


class TemplateError(ValueError):
    """A template is missing, fails to render, or renders into an unsendable message."""


@dataclass(frozen=True)
class RenderedMessage:
    channel: str
    text: str  # email text body, SMS text, or the webhook JSON as text
    subject: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()  # email only: e.g. a progress report's charts

    @property
    def body_bytes(self) -> bytes:
        return self.text.encode("utf-8")


def template_file(template: str, channel: str, *, html: bool = False) -> str:
    return f"{template}.{channel}{'.html' if html else ''}.j2"


def language_chain(language: str | None) -> list[str]:
    """Languages to try, in order: "es-MX" gives es-mx, es, en; a malformed tag gives en."""
    tag = (language or "").strip().lower().replace("_", "-")
    if not _LANGUAGE.match(tag):
        return [FALLBACK_LANGUAGE]
    chain = [tag, tag.split("-")[0], FALLBACK_LANGUAGE]
    return list(dict.fromkeys(chain))


def built_in_source(
    language: str, file: str, directory: Path = TEMPLATE_DIR
) -> tuple[str, str] | None:
    """(language, source) of the built-in file used for this language (along the language
    chain, without overrides): what an admin's override starts from; None if there is none."""
    if not _FILE.match(file):
        return None
    for lang in language_chain(language):
        if (path := directory / lang / file).is_file():
            return lang, path.read_text("utf-8")
    return None


def built_in_names(directory: Path = TEMPLATE_DIR) -> list[dict[str, Any]]:
    """Every built-in template (`patient_welcome.email`) with the languages it is written in,
    by name: what an admin may override."""
    found: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*/*.j2")):
        if _FILE.match(path.name):
            found.setdefault(path.name.removesuffix(".j2"), []).append(path.parent.name)
    return [{"name": name, "languages": sorted(langs)} for name, langs in sorted(found.items())]


class TenantTemplateLoader(BaseLoader):
    """Loads ``"<tenant>:<language>:<file>"`` along the lookup order in the module docstring.

    A cached template is reused only while the same lookup still finds the same source, so a
    new, changed or removed override (or an edited file) takes effect on the next render.
    """

    def __init__(self, overrides: Overrides, directory: Path) -> None:
        self.overrides, self.directory = overrides, directory

    def get_source(
        self, environment: Environment, name: str
    ) -> tuple[str, str | None, Callable[[], bool]]:
        tenant, language, file = name.rsplit(":", 2)
        found = self._locate(tenant, language, file) if _FILE.match(file) else None
        if found is None:
            raise TemplateNotFound(name)
        lang, (kind, stamp) = found
        if kind == "override":
            source, filename = stamp, None
        else:
            path = self.directory / lang / file
            source, filename = path.read_text("utf-8"), str(path)
        return source, filename, lambda: self._locate(tenant, language, file) == found

    def _locate(self, tenant: str, language: str, file: str) -> tuple[str, tuple[str, Any]] | None:
        """(language, (kind, stamp)) of the first match; the stamp changes with the source."""
        for lang in language_chain(language):
            if (source := self.overrides.get((tenant, lang, file))) is not None:
                return lang, ("override", source)
            path = self.directory / lang / file
            if path.is_file():
                return lang, ("file", path.stat().st_mtime_ns)
        return None


class TemplateRenderer:
    def __init__(self, overrides: Overrides | None = None, directory: Path = TEMPLATE_DIR) -> None:
        self.env = BoundedSandbox(
            loader=TenantTemplateLoader(overrides if overrides is not None else {}, directory),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=True,
        )
        self.env.filters.update(FILTERS)
        self.env.bounded_filters(self.env.filters)

    def exists(
        self, template: str, channel: str, language: str = FALLBACK_LANGUAGE, tenant_id: str = ""
    ) -> bool:
        try:
            self.env.get_template(f"{tenant_id}:{language}:{template_file(template, channel)}")
        except TemplateNotFound:
            return False
        return True

    def render(
        self,
        template: str,
        channel: str,
        context: Mapping[str, Any],
        *,
        language: str = FALLBACK_LANGUAGE,
        tenant_id: str = "",
    ) -> RenderedMessage:
        """Render one message; raises `TemplateError` naming the template on any problem."""
        context = {**context, "language": language_chain(language)[0]}
        text = self._render(tenant_id, language, template_file(template, channel), context)
        if channel == "email":
            subject, body = _split_subject(text, template)
            html_file = template_file(template, channel, html=True)
            html = self._render(tenant_id, language, html_file, context, optional=True)
            return RenderedMessage(channel, body, subject=subject, html=html)
        if channel == "sms":
            return RenderedMessage(channel, _checked_sms(text, template))
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(f"{template}.{channel}: not JSON ({error.msg})") from None
        return RenderedMessage(channel, json.dumps(document, sort_keys=True, separators=(",", ":")))

    def _render(
        self,
        tenant: str,
        language: str,
        file: str,
        context: Mapping[str, Any],
        optional: bool = False,
    ) -> Any:
        try:
            template = self.env.get_template(f"{tenant}:{language}:{file}")
            return self.env.render_bounded(template, context).strip()
        except TemplateNotFound:
            if optional:
                return None
            raise TemplateError(f"no template {file} for language {language!r}") from None
        except JinjaTemplateError as error:
            raise TemplateError(f"{file}: {error}") from None
        except Exception as error:  # e.g. 1/0 in a tenant's template: the template's fault
            raise TemplateError(f"{file}: {type(error).__name__} while rendering") from None


def render_notification(
    renderer: TemplateRenderer,
    notification: Notification,
    data: Mapping[str, Any],
    *,
    tenant_id: str,
    clinic_name: str,
    **extras: Any,
) -> RenderedMessage:
    """Render a `rules.Notification` from its event's `data`; a patient message is rendered
    from `patient_context` only and must pass `phi_guard` against the event's clinical strings
    (`phi_guard.clinical_terms` of `data`), or this raises `PhiLeak`.
    """
    patient = notification.audience == "patient"
    context = (patient_context if patient else build_context)(
        notification.event_type, data, clinic_name=clinic_name, **extras
    )
    message = renderer.render(
        notification.template, notification.channel, context,
        language=notification.language, tenant_id=tenant_id,
    )  # fmt: skip
    if patient:
        terms = clinical_terms(data)
        for part in (message.subject, message.text, message.html):
            if part:
                assert_patient_safe(part, terms)
    return message


def build_context(
    event_type: str, data: Mapping[str, Any], *, clinic_name: str, **extras: Any
) -> dict[str, Any]:
    """A referrer's, staff or partner message's context: the event's data plus what templates
    need besides it (patient messages: `patient_context`, an allow-list).

    ``recipient_name`` defaults to the given name in the event, else None.
    """
    contact = data.get("patient") or data.get("contact") or {}
    context = {**data, "event_type": event_type, "clinic_name": clinic_name}
    context.setdefault(
        "recipient_name", contact.get("given_name") if isinstance(contact, Mapping) else None
    )
    context.update(extras)
    return context


def _split_subject(text: str, template: str) -> tuple[str, str]:
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise TemplateError(f"{template}.email: the first line must be 'Subject: ...'")
    subject = first.removeprefix("Subject:").strip()
    if not subject:
        raise TemplateError(f"{template}.email: empty subject")
    return subject, body.strip() + "\n"


def _checked_sms(text: str, template: str) -> str:
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text).strip()
    if len(text) > SMS_MAX_CHARS:
        raise TemplateError(f"{template}.sms: {len(text)} characters, more than {SMS_MAX_CHARS}")
    if STOP_KEYWORD not in text:
        raise TemplateError(f"{template}.sms: no opt-out instruction ({STOP_KEYWORD})")
    return text
