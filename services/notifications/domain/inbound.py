"""Replies patients text back: the carrier-standard keywords that stop or restart texts.

Only the first word counts, in any case, ignoring punctuation ("Stop." and "stop please" both
stop). Anything else is not a command (and is not stored: it may be a patient's health question
sent to a number nobody reads; the provider's console keeps it).
"""

from __future__ import annotations

import re
from typing import Literal

KEYWORDS: dict[str, Literal["stop", "start"]] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "BAJA", "ALTO"),
        "stop",
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES", "OPTIN", "ALTA"), "start"),
}

_FIRST_WORD = re.compile(r"^[\s\"'¡!¿?.]*([A-Za-z]+)\b")


def inbound_command(body: str | None) -> Literal["stop", "start"] | None:
    """`"stop"`, `"start"` or None (not a command) for the text of an inbound SMS."""
    match = _FIRST_WORD.match(body or "")
    return KEYWORDS.get(match.group(1).upper()) if match else None
