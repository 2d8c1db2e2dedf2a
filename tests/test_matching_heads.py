"""A bank phrase whose head is another category's phrase: "dog stroller" is no stroller, "hiking backpack" no
bag (``Gloss.narrows``, ``classify.W_NARROW``; real use-m3 model)."""

from __future__ import annotations

import pytest

from matching import understand
from matching.canonical import find_glosses
from matching.extract import extract


def _glossed(text: str) -> list[tuple[str, str]]:
    ex = extract(text)
    return [(g.concept, g.narrows) for g in find_glosses(ex)]


# "dog stroller" was a stroller and "туристический рюкзак" a bag: the votes hear the head ("stroller",
# "рюкзак") and the bank phrase that says otherwise counted 0.06
def test_a_phrase_records_the_other_category_its_head_names() -> None:
    assert _glossed("dog stroller for sale") == [("pet-stroller", "kids/strollers")]
    assert _glossed("Продаю туристический рюкзак") == [("hiking-gear", "fashion/bags")]
    assert _glossed("Vendo mochila de montaña") == [("hiking-gear", "fashion/bags")]
    assert ("pet-stroller", "kids/strollers") in _glossed("Hundebuggy für kleine Hunde")  # inside a compound


@pytest.mark.parametrize(
    "text",
    [
        "노트북 수리 해드려요",  # "노트" (a notebook) qualifies "노트북" (a laptop), it is not its head
        "su pompası arıyorum",  # the "su" (water) of a water pump
        "駐車場あり",  # the "車" (car) of a car park
        "घर का बना अचार चाहिए",  # the home of homemade pickles
        "Xưởng gỗ cần tuyển 2 thợ sơn",  # a painter is no paint: the head comes first in Vietnamese
        "Butuh orang buat rakit PC",  # nor is a PC build a PC in Indonesian
    ],
)
def test_a_phrase_that_only_qualifies_is_no_head(text: str) -> None:
    assert all(narrows == "" for _concept, narrows in _glossed(text)), _glossed(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Dog stroller for small dogs, foldable, used a few times, $40", "pets/pet-supplies"),
        ("Hundebuggy für kleine Hunde bis 15 kg, faltbar, 45 €", "pets/pet-supplies"),
        ("Продаю туристический рюкзак 70 литров, Tatonka, 5000 руб", "sports/camping"),
        ("Selling kids electric ride-on car, 12V, remote control, works great, $90", "kids/toys"),
        ("Продаю детский электромобиль, джип, аккумулятор 12В, 8000 руб", "kids/toys"),
    ],
)
def test_a_thing_named_by_its_head_and_a_qualifier_is_the_qualified_thing(text: str, category: str) -> None:
    u = understand(text)
    assert u.intent.category == category, (text, u.intent.category, u.candidates)
