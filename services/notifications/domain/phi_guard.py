"""The last check before anything goes to a patient: no diagnosis or clinical detail.

Email and SMS are not secure channels, and a phone's lock screen shows texts to anyone. Patient
messages say *when* and *where*, never *why*. Two lines of defence keep it so:

1. What a patient template can show is safe by construction: its context holds only the fields
   of `patient_context.PATIENT_FIELDS` (names, times, places, links), never the event's data.
2. This guard, over the rendered text, looks for the clinical strings of the event that
   triggered the message (`clinical_terms`: every string under a clinical field, codes and
   displays alike) and for a built-in list of condition and outcome-measure words (English and
   Spanish).

It does not look for code-shaped words: "P10" is a name, "M54 1AA" a Manchester postcode, "B12"
a unit, "C12" a room. An ICD-10 code is caught when it is one of the event's clinical values
(a diagnosis code "M54" does block "M54 1AA": that message fails and staff are told, rightly).

Matching ignores case and accents and respects word boundaries, everywhere in the text (links
too). General advice words ("fever", "infection") are deliberately not listed: "please
reschedule if you have a fever" says nothing about the patient.
`PhiLeak`'s message names the kinds of leak and their positions in the term lists, never the
leaked text itself, because exception messages end up in logs; `.leaks` has the text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WORD = re.compile(r"\w+")

BUILTIN_TERMS: tuple[str, ...] = (
    # outcome measures and scores
    "NPRS", "numeric pain rating", "pain score", "pain scale", "pain level", "Oswestry", "ODI",
    "Neck Disability Index", "NDI", "disability index", "PSFS", "Patient-Specific Functional",
    "QuickDASH", "DASH score", "LEFS", "Lower Extremity Functional",
    # diagnoses and conditions seen on referrals and in screening
    "diagnosis", "diagnosed", "ICD-10", "ICD10", "fibromyalgia", "cervicalgia", "myalgia",
    "low back pain", "lumbago", "sciatica", "radiculopathy", "muscle spasm", "spasm",
    "tension-type headache", "migraine", "cervical sprain", "whiplash", "sprain", "strain injury",
    "DVT", "deep vein thrombosis", "thrombosis", "pulmonary embolism", "embolism",
    "hypertension", "pre-eclampsia", "preeclampsia", "pregnancy", "pregnant", "cancer",
    "tumour", "tumor", "metastases", "metastasis", "chemotherapy", "radiation therapy",
    "osteoporosis", "anticoagulant", "anticoagulants", "blood thinner", "bleeding disorder",
    "corticosteroid", "neuropathy", "diabetic", "diabetes", "stroke", "transient ischemic attack",
    "heart disease", "cardiac", "fracture", "varicose", "contraindication",
    "contraindicated", "clearance", "screening", "red flag",
    # Spanish
    "diagnóstico", "fibromialgia", "mialgia", "lumbalgia", "ciática", "espasmo", "migraña",
    "esguince", "trombosis", "embolia", "hipertensión", "preeclampsia", "embarazo", "embarazada",
    "cáncer", "tumor", "metástasis", "quimioterapia", "osteoporosis", "anticoagulante",
    "neuropatía", "diabetes", "derrame cerebral", "infarto", "fractura",
    "contraindicación", "escala de dolor", "nivel de dolor",
)  # fmt: skip

CLINICAL_KEYS = frozenset(
    {
        "diagnosis", "diagnoses", "condition", "conditions", "screening", "reasons",
        "contraindications", "findings", "measures", "measure", "goals", "icd10", "icd_10",
        "notes", "medications",
    }
)  # fmt: skip
"""Event fields whose string values (at any depth) must never reach a patient."""


class PhiLeak(Exception):
    """A patient message would disclose clinical detail. `.leaks` names the leaked text."""

    def __init__(self, leaks: Sequence[tuple[str, str]], where: Sequence[str]) -> None:
        self.leaks = tuple(leaks)  # (kind, matched text)
        super().__init__("clinical detail in a patient message: " + ", ".join(where))


def clinical_terms(data: Mapping[str, Any]) -> list[str]:
    """Every string under a clinical field of an event's `data` (at any depth), deduplicated."""
    found: dict[str, None] = {}

    def walk(value: Any, clinical: bool) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, clinical or str(key).lower() in CLINICAL_KEYS)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, clinical)
        elif clinical and isinstance(value, str) and len(value.strip()) >= 3:
            found[value.strip()] = None

    walk(data, False)
    return list(found)


def find_leaks(text: str, forbidden_terms: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """(kind, where, matched text) for each leak; kind is "builtin" or "event"."""
    folded = _fold(text)
    leaks: list[tuple[str, str, str]] = []
    words = frozenset(WORD.findall(folded))
    event_terms = tuple(forbidden_terms)
    for kind, terms, needles in (
        ("builtin", BUILTIN_TERMS, _builtin_needles()),
        ("event", event_terms, tuple(_needle_of(term) for term in event_terms)),
    ):
        for index, (term, needle) in enumerate(zip(terms, needles, strict=True)):
            if needle is not None and needle.found_in(folded, words):
                leaks.append((kind, f"{kind} term #{index}", term))
    return leaks


def assert_patient_safe(text: str, forbidden_terms: Iterable[str] = ()) -> None:
    """Raise `PhiLeak` if `text` contains a built-in clinical term or one of `forbidden_terms`."""
    if leaks := find_leaks(text, forbidden_terms):
        raise PhiLeak([(kind, match) for kind, _, match in leaks], [w for _, w, _ in leaks])


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class _Needle:
    """A term's pattern, and its first run of word characters: a term that starts with a word
    character can only match where that run is a whole word of the text (a cheap set lookup
    that spares most regular-expression searches)."""

    pattern: re.Pattern[str]
    first_word: str | None

    def found_in(self, folded: str, words: frozenset[str]) -> bool:
        if self.first_word is not None and self.first_word not in words:
            return False
        return self.pattern.search(folded) is not None


@functools.cache
def _builtin_needles() -> tuple[_Needle | None, ...]:
    """Compiled once per process: the built-in list is the same for every message."""
    return tuple(_needle_of(term) for term in BUILTIN_TERMS)


def _needle_of(term: str) -> _Needle | None:
    needle = _fold(term).strip()
    if not needle:
        return None
    starts_with_word = WORD.match(needle)
    return _Needle(_term_pattern(needle), starts_with_word.group() if starts_with_word else None)


def _term_pattern(needle: str) -> re.Pattern[str]:
    words = (re.escape(word) for word in needle.split())
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
