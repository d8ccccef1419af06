"""The filters templates may use: wall-clock times and dates in the message's language, an
initial, a person's name and greeting, a number, a channel's name and its article.

    {{ starts_at | local_datetime(location_tz) }}  ->  Thursday, June 12, 2025 at 10:00 AM EDT
    {{ referrer | salutation }}                     ->  Dr. Chen
    {{ patient | person }}                          ->  Maria Elena Alvarez, born April 12, 1978
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from jinja2 import pass_context

from .quiet_hours import as_utc, zone

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}  # fmt: skip


@pass_context
def local_datetime(context: Any, value: str, tz: str, style: str = "long") -> str:
    """``{{ starts_at | local_datetime(location_tz) }}``: wall-clock time at the location."""
    local = as_utc(value).astimezone(zone(tz))
    lang = context.get("language", "en").split("-")[0]
    lang = lang if lang in _WEEKDAYS else "en"
    day, month = _WEEKDAYS[lang][local.weekday()], _MONTHS[lang][local.month - 1]
    short = style == "short"
    if lang == "es":
        day, month = (day[:3], month[:3]) if short else (day, month)
        year = "" if short else f" de {local.year}"
        return f"{day} {local.day} de {month}{year}, {local:%H:%M} ({local.tzname()})"
    clock = f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    if short:
        return f"{day[:3]} {month[:3]} {local.day}, {clock} {local.tzname()}"
    return f"{day}, {month} {local.day}, {local.year} at {clock} {local.tzname()}"


@pass_context
def long_date(context: Any, value: str | None) -> str:
    """``{{ "1978-04-12" | long_date }}`` -> "April 12, 1978" (es: "12 de abril de 1978")."""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return ""
    lang = context.get("language", "en").split("-")[0]
    if lang == "es":
        return f"{day.day} de {_MONTHS['es'][day.month - 1]} de {day.year}"
    return f"{_MONTHS['en'][day.month - 1]} {day.day}, {day.year}"


def salutation(referrer: Mapping[str, Any] | None, fallback: str = "colleague") -> str:
    """``{{ referrer | salutation }}``: "Dr. Chen" when a prefix came with the name, else the
    name as sent, else `fallback`."""
    referrer = referrer if isinstance(referrer, Mapping) else {}
    name = referrer.get("name")
    prefix, family = referrer.get("prefix"), referrer.get("family_name") or name
    if prefix and family:
        return f"{prefix} {family}"
    return name or fallback


@pass_context
def person(context: Any, patient: Mapping[str, Any] | None) -> str:
    """``{{ patient | person }}`` -> "Maria Elena Alvarez, born April 12, 1978" (what is known)."""
    patient = patient if isinstance(patient, Mapping) else {}
    name = " ".join(p for p in (patient.get("given_name"), patient.get("family_name")) if p)
    born = long_date(context, patient.get("birth_date")) if patient.get("birth_date") else ""
    born_text = (
        "nacido/a el " if context.get("language", "en").startswith("es") else "born "
    ) + born
    return ", ".join(p for p in (name, born_text if born else "") if p)


def initial(value: str | None) -> str:
    """``{{ family_name | initial }}`` -> "D." (referrer mail names patients sparingly)."""
    return f"{value.strip()[0]}." if value and value.strip() else ""


def number(value: float | int | None, signed: bool = False) -> str:
    """``{{ 7.0 | number }}`` -> "7", ``{{ -2.5 | number(signed=true) }}`` -> "-2.5"."""
    if value is None:
        return "-"
    return format(round(float(value), 1), "+g" if signed else "g")


CHANNEL_NAMES = {"email": "email", "sms": "SMS", "webhook": "webhook"}
_VOWEL_SOUND_LETTERS = "AEFHILMNORSX"  # letters whose names start with a vowel: "an SMS"


def channel_name(channel: str) -> str:
    """``{{ "sms" | channel_name }}`` -> "SMS"."""
    return CHANNEL_NAMES.get(channel, channel)


def indefinite(word: str, capital: bool = False) -> str:
    """``{{ "email" | indefinite }}`` -> "an email"; "an SMS" (an acronym is read by its
    letters), "a webhook". ``capital=true`` starts a sentence."""
    vowel_sound = word[:1] in (_VOWEL_SOUND_LETTERS if word.isupper() else "aeiouAEIOU")
    article = "an" if vowel_sound else "a"
    return f"{article.capitalize() if capital else article} {word}"


FILTERS = {
    "local_datetime": local_datetime,
    "long_date": long_date,
    "salutation": salutation,
    "person": person,
    "initial": initial,
    "number": number,
    "channel_name": channel_name,
    "indefinite": indefinite,
}
