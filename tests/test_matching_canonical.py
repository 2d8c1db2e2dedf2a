"""The item words of a text (``matching.canonical.item_words``): the Chinese and Japanese filler they drop;
the bank phrases a text names (``find_glosses``): not those named as what comes with the item."""

from __future__ import annotations

import pytest

from matching import understand
from matching.canonical import cjk_item, find_glosses, item_words
from matching.extract import extract


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("笔记本清灰换硅脂 80元/台", "笔记本清灰换硅脂"),  # the laptop keeps its 本; "/台" is a counter
        ("求购二手冰箱一台，双开门", "冰箱 双开门"),  # the fridge keeps its 箱
        ("水着2着セット", "水着 セット"),  # a swimsuit keeps its 着; "2着" counts
        ("在庫あり、価格は要相談", "在庫あり 価格要相談"),  # Chinese filler does not cut Japanese words
        ("黒いかばんを探しています", "黒いかばん"),  # the particle goes, the hiragana word stays
    ],
)
def test_cjk_filler_goes_and_the_words_it_is_part_of_stay(text: str, words: str) -> None:
    assert item_words(text) == words


def test_a_counter_goes_only_after_a_number() -> None:
    assert cjk_item("一台", ("zh",)) == "一"  # the numeral itself is a word's ("一次性")
    assert cjk_item("台灯", ("zh",)) == "台灯"
    assert cjk_item("台", ("zh",), after_number=True) == ""
    assert cjk_item("かばんを", ("ja",)) == "かばん"
    assert cjk_item("はさみ", ("ja",)) == "はさみ"
    assert cjk_item("を", ("ja",)) == ""


def _glossed(text: str) -> list[str]:
    return [g.english for g in find_glosses(extract(text))]


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("Selling my bicycle with a power bank", "Selling my bicycle, power bank"),
        ("Vendo bici con power bank", "Vendo bici, power bank"),  # Italian "con"
        ("Suche Fahrrad mit Powerbank", "Suche Fahrrad, Powerbank"),  # German "mit"
        ("卖自行车 带充电宝", "卖自行车，充电宝"),  # Chinese: the marker before
        ("自転車 モバイルバッテリー付き", "自転車、モバイルバッテリー"),  # Japanese: the marker after
        ("Selling my bicycle, power bank included", "Selling my bicycle, power bank"),  # English: after
        ("Продаю велосипед, пауэрбанк в комплекте", "Продаю велосипед, пауэрбанк"),  # Russian: after
    ],
)
def test_a_phrase_named_as_what_comes_with_the_item_is_not_glossed(text: str, bare: str) -> None:
    assert _glossed(bare) == ["bicycle", "power bank"]  # the phrase is in the bank: only the marker drops it
    assert _glossed(text) == ["bicycle"]


def test_the_marker_reaches_only_to_the_end_of_its_clause() -> None:
    # "with" belongs to the first clause; the power bank of the second is an item of its own
    assert _glossed("Bicycle with a bell, power bank also for sale") == ["bicycle", "power bank"]
    assert _glossed("Bicycle with a bell and a power bank") == ["bicycle"]


# a gift that comes with the thing named the category: "VW Golf 7, ..., Winterreifen dabei" was winter tyres
@pytest.mark.parametrize(
    ("text", "concepts"),
    [
        ("Verkaufe VW Golf 7, Winterreifen dabei, 9.500 €", []),
        ("Продаю Ладу Гранту, зимняя резина в подарок", []),
        ("Vendo Seat Ibiza del 2012, neumáticos de regalo", []),
        ("Продаю зимнюю резину, 8000 руб", ["tires"]),  # the thing itself, not a gift
    ],
)
def test_a_thing_given_with_another_is_not_glossed(text: str, concepts: list[str]) -> None:
    ex = extract(text)
    assert [g.english for g in find_glosses(ex) if g.category == "vehicles/tires"] == concepts, text


def test_a_car_sold_with_its_winter_tyres_is_a_car() -> None:
    text = "Verkaufe VW Golf 7, 2015, 120.000 km, TÜV neu, Winterreifen auf Felgen dabei, 9.500 € VB"
    assert understand(text).intent.category == "vehicles/cars"
