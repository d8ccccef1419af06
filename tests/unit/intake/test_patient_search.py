"""The patient search key and what a typed name asks: folded words, anchored prefix ranges."""

from __future__ import annotations

from services.intake.domain.patient_search import (
    folded_identifier,
    name_prefixes,
    prefix_range,
    search_key,
    words,
)


def test_names_fold_case_accents_and_punctuation_into_words():
    assert words("María José  Álvarez-Núñez") == ["maria", "jose", "alvarez", "nunez"]
    assert words("O'Brien") == ["o", "brien"]
    assert words("<img src=x>") == ["img", "src", "x"]


def test_the_search_key_holds_every_name_word_the_identifiers_and_the_phone():
    key = search_key(
        {
            "given_name": "Zoë",
            "family_name": "Lindqvist",
            "former_names": [{"given_name": None, "family_name": "Ström"}],
            "identifiers": [{"value": "mrn-00 12"}, {"value": ""}],
            "phone": "+16175550134",
        }
    )
    assert key["words"] == ["zoe", "lindqvist", "strom"]
    assert key["ids"] == ["mrn0012"] and key["phone"] == "+16175550134"
    assert key["sort"] == "lindqvist zoe"


def test_a_prefix_is_an_anchored_range_and_a_query_at_most_four_words():
    low, high = prefix_range("alv")
    assert (low, high) == ("alv", "alw")
    assert low <= "alvarez" < high and not low <= "malvo" < high and not low <= "alw" < high
    assert name_prefixes("Álv  MAR alv a b c") == ["alv", "mar", "a", "b"]
    assert folded_identifier(" MRN-558201 ") == "mrn558201"


def test_a_prefix_range_never_holds_a_character_that_cannot_be_stored():
    assert prefix_range("a\ud7ff") == ("a\ud7ff", "a\ue000")
    low, high = prefix_range("a\U0010ffff")
    assert high == "a\U0010ffff\U0010ffff" and low < high
