"""English loanwords written in Devanagari (``matching.loans``) and what the item rendering keeps of Hindi."""

from __future__ import annotations

import pytest

from matching.canonical import find_glosses, item_words
from matching.extract import extract
from matching.loans import (
    MIN_CONSONANTS,
    devanagari_skeleton,
    latin_skeleton,
    loan_glosses,
    loans,
    loanword,
    vocabulary,
)


@pytest.mark.parametrize(
    ("hindi", "english"),
    [
        ("केटलबेल", "kettlebell"),
        ("कैलकुलेटर", "calculator"),
        ("रेडिएटर", "radiator"),
        ("टेक्नीशियन", "technician"),
        ("फ्रोज़न", "frozen"),
        ("वॉटरप्रूफिंग", "waterproofing"),
        ("कंटेनर", "container"),
    ],
)
def test_a_loanword_and_its_english_original_share_a_skeleton(hindi: str, english: str) -> None:
    assert devanagari_skeleton(hindi) == latin_skeleton(english)
    assert len(latin_skeleton(english)) >= MIN_CONSONANTS


def test_skeletons_follow_english_spelling() -> None:
    assert latin_skeleton("headphone") == "dfn"  # "h" dropped, "ph" an f
    assert latin_skeleton("centre") == latin_skeleton("sentre")  # a c before e is an s
    assert latin_skeleton("cable") == "kbl"
    assert devanagari_skeleton("पहाड़") == "pr"  # ड with a nukta is a flapped r
    assert devanagari_skeleton("सेंटर") == "sntr"  # the nasal sign is an n


def test_loanwords_read_only_long_unambiguous_skeletons() -> None:
    vocab = vocabulary()
    assert vocab and all(len(s) >= MIN_CONSONANTS for s in vocab)
    assert loanword("केटलबेल") == "kettlebell"
    assert loanword("रंग") is None  # colour: "rng", too short (would read "ring")
    assert loanword("kettlebell") is None  # only Devanagari is read
    text = "16 किलो का केटलबेल और एक कैलकुलेटर"
    got = loans(text)
    assert [w for _, _, w in got] == ["kettlebell", "calculator"]
    assert [text[a:b] for a, b, _ in got] == ["केटलबेल", "कैलकुलेटर"]
    assert loans(text, skip=frozenset({"केटलबेल"}))[0][2] == "calculator"
    assert loans("no Devanagari here") == []


def test_loanwords_side_by_side_form_a_bank_phrase() -> None:
    text = "कोई कार्पेट क्लीनिंग"
    got = loans(text)
    assert "carpet" in [w for _, _, w in got]
    found = loan_glosses(text, got)
    assert all(text[g.start : g.end].strip() for g in found)  # placed on the words they came from
    assert loan_glosses(text, []) == []


def test_the_item_words_of_a_hindi_text_are_its_english_loanwords() -> None:
    assert item_words("16 किलो का केटलबेल चाहिए, पुराना भी चलेगा") == "kettlebell"
    # other Hindi words are left to the raw text's vector; Latin words and numbers stay
    assert "gcse" in item_words("बेटे की GCSE परीक्षा के लिए कैलकुलेटर चाहिए").split()
    assert item_words("Vendo sofá de cuero, 3 plazas") == "sofá cuero plazas"


def test_a_hindi_loanword_gives_the_gloss_of_its_english_phrase() -> None:
    ex = extract("16 किलो का केटलबेल चाहिए")
    assert "sports/fitness" in [g.category for g in find_glosses(ex)]
    # a phrase the Hindi bank names is found once, not again through its loanwords
    ex = extract("मुझे बेबीसिटर चाहिए")
    cats = [g.concept for g in find_glosses(ex)]
    assert len(cats) == len(set(cats))


def test_the_word_units_of_a_hindi_text_read_its_loanwords_in_english() -> None:
    from matching.words import units

    got = units("16 किलो का केटलबेल चाहिए")
    assert "kettlebell" in got and "केटलबेल" not in got
    assert "किलो" in got  # a native word stays as written
