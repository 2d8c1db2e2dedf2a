"""Phone numbers, e-mail addresses and links in a text (``matching.contacts``): never an amount, a count or a
language; published with a warning. And two words that named a language they do not belong to alone."""

from __future__ import annotations

import re

import pytest

from matching import understand
from matching.contacts import find_contacts
from matching.lang import detect_language
from wire.intent import Action, Price

_EUR = re.compile(r"\s?(?:eur|€|руб|₽|đ)")


@pytest.mark.parametrize(
    ("text", "contact"),
    [
        ("sofa for sale, call 0612345678", "0612345678"),
        ("vendo sofá, llamar al 612 345 678", "612 345 678"),
        ("verkaufe sofa, tel. 0171 2345678", "0171 2345678"),
        ("selling iphone 12, call 555-123-4567", "555-123-4567"),
        ("call me at 555 123 4567", "555 123 4567"),
        ("vends canapé, tél 06 12 34 56 78", "06 12 34 56 78"),
        ("bán xe máy, lh 0912 345 678", "0912 345 678"),
        ("jual motor, hubungi 0812-3456-7890", "0812-3456-7890"),
        ("sofa, call +44 7700 900123", "+44 7700 900123"),
        ("4 tires, 50 each, call (555) 123-4567", "(555) 123-4567"),
        ("продаю велосипед 15000 руб, тел. +7 912 345-67-89", "+7 912 345-67-89"),
        ("出售沙发 电话：13912345678", "13912345678"),
        ("sofa 150 0612345678", "0612345678"),
        ("tel 0612345678 150 eur", "0612345678"),
        ("sofa 300 eur, email bob.smith+ads@mail.example.com", "bob.smith+ads@mail.example.com"),
        ("photos: https://example.org/ad/123456789 sofa", "https://example.org/ad/123456789"),
    ],
)
def test_a_contact_is_found_whole(text: str, contact: str) -> None:
    found = [text[s:e] for s, e, _ in find_contacts(text, _EUR)]
    assert found == [contact]


@pytest.mark.parametrize(
    "text",
    [
        "1 500 000 ₽",
        "12.500.000đ",
        "lh giá 8.500.000",  # a price word between the cue and the amount
        "toyota 2015, 120 000 km, 9500",
        "date 2024-12-24",
        "iphone 14 pro 256gb 650€",
        "serial sn12345678",
        "2 sofas, tel 15",
    ],
)
def test_an_amount_or_a_model_is_no_contact(text: str) -> None:
    assert find_contacts(text, _EUR) == []


@pytest.mark.parametrize(
    "text",
    [
        "Sofa for sale, call 0612345678",
        "Vendo sofá, llamar al 612 345 678",
        "Verkaufe Sofa, Tel. 0171 2345678",
        "Selling iPhone 12, call 555-123-4567",
        "Bán xe máy, LH 0912 345 678",
        "Jual motor, hubungi 0812-3456-7890",
        "Sofa for sale, call +44 7700 900123",
    ],
)
def test_a_phone_number_is_no_price_or_count_and_is_warned_about(text: str) -> None:
    # each asked "555: a price or a quantity?" (or 0612345678, 612, 0171, 0912, 0812, 44)
    u = understand(text, defaults={"currency": "EUR"})
    assert u.intent.price is None and u.intent.quantity == 1
    assert not any("a price or a quantity" in w for w in u.warnings)
    assert any("a phone number" in w and "published" in w for w in u.warnings)
    assert u.intent.text == text  # published as written: the human wrote it to be called


def test_a_price_and_a_count_beside_a_phone_number_are_still_read() -> None:
    u = understand("Selling 4 tires, 50 each, call (555) 123-4567", defaults={"currency": "EUR"})
    assert (u.intent.quantity, u.intent.price) == (4, Price(5000, "EUR", True))
    u = understand("Продаю велосипед 15000 руб, тел. +7 912 345-67-89")
    assert u.intent.price == Price(1_500_000, "RUB", True)
    assert u.intent.text == "Продаю велосипед, тел. +7 912 345-67-89"


def test_an_address_names_no_language() -> None:
    # "com" is Portuguese: the e-mail made an English text Portuguese
    u = understand("Sofa 300 EUR, email bob@mail.com")
    assert u.lang == "en"
    assert any("an e-mail address" in w for w in u.warnings)


def test_a_text_without_contacts_has_no_such_warning() -> None:
    u = understand("Sofa for sale, 300 EUR")
    assert not any("published with the intent" in w for w in u.warnings)


@pytest.mark.parametrize(
    ("text", "not_lang"),
    [
        # "Pro" (a model's name) was the one German word: the sale was read as a German request
        ("vendo iPhone 14 Pro 256GB 650€", "de"),
        ("vendo MacBook Pro 2020 900€", "de"),
        # "bici" is Spanish as much as Italian
        ("vendo bici y patinete", "it"),
    ],
)
def test_a_word_two_languages_share_names_neither(text: str, not_lang: str) -> None:
    assert detect_language(text)[0] != not_lang
    assert understand(text).intent.action == Action.SELL


def test_the_german_per_is_still_read() -> None:
    u = understand("Verkaufe Winterreifen, 40 € pro Stück")
    assert (u.lang, u.intent.action, u.intent.price) == ("de", Action.SELL, Price(4000, "EUR", True))
