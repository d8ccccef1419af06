"""How staff find a patient: the search key kept on every patient record, and what a query asks.

A patient record carries `search` (kept by the repository on every write, `search_key`):
the folded words of its names (given, family and former family names: case, accents and
punctuation do not count, 'Álvarez-Núñez' is `alvarez` and `nunez`), its identifier values
(an MRN, folded the same way), and its phone in E.164. A name query matches the patients having,
for each word typed, a name word that starts with it (anchored prefix ranges, never an
unanchored pattern); a birth date, an identifier value or a phone match exactly. Each is read
on an index that leads with the tenant (`repository/indexes.py`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping
from typing import Any

SEARCH_KEY_VERSION = 1
"""Bumped when `search_key` changes: `cli backfill-patient-search` recomputes older keys."""
MOST_NAME_WORDS = 4
WORD = re.compile(r"[^\W_]+")
SURROGATES = (0xD800, 0xDFFF)


def fold(text: str | None) -> str:
    """Case and accents do not count: 'Álvarez' -> 'alvarez'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str | None) -> list[str]:
    """The folded words of a name ('María José  Álvarez-Núñez' -> maria, jose, alvarez, nunez)."""
    return WORD.findall(fold(text))


def folded_identifier(value: str | None) -> str:
    """An identifier value as searched: folded, without spaces or dashes ('mrn 00-12' == 'MRN0012')."""
    return "".join(WORD.findall(fold(value)))


def search_key(patient: Mapping[str, Any]) -> dict[str, Any]:
    """What a patient is found by (kept on the record as `search`)."""
    names = [patient.get("given_name"), patient.get("family_name")]
    names += [n.get("family_name") for n in patient.get("former_names") or ()]
    names += [n.get("given_name") for n in patient.get("former_names") or ()]
    found_words = list(dict.fromkeys(w for name in names for w in words(name)))
    ids = [folded_identifier(i.get("value")) for i in patient.get("identifiers") or ()]
    return {
        "v": SEARCH_KEY_VERSION,
        "words": found_words,
        "ids": sorted({i for i in ids if i}),
        "phone": patient.get("phone") or None,
        "sort": " ".join([*words(patient.get("family_name")), *words(patient.get("given_name"))]),
    }


def prefix_range(prefix: str) -> tuple[str, str]:
    """The range of strings starting with `prefix`: [prefix, prefix with its last character
    moved one on) - an anchored prefix an index reads as a range. (A next character that cannot
    be stored, a surrogate or past the last code point, is replaced by the next one that can.)"""
    following = ord(prefix[-1]) + 1
    if SURROGATES[0] <= following <= SURROGATES[1]:
        following = SURROGATES[1] + 1
    if following > sys.maxunicode:
        return prefix, prefix + chr(sys.maxunicode)
    return prefix, prefix[:-1] + chr(following)


def name_prefixes(query: str) -> list[str]:
    """The words of a typed name, each a prefix to match (at most `MOST_NAME_WORDS`)."""
    return list(dict.fromkeys(words(query)))[:MOST_NAME_WORDS]
