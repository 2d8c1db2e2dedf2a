"""The item words of a text (``matching.canonical.item_words``): the Chinese and Japanese filler they drop."""

from __future__ import annotations

import pytest

from matching.canonical import cjk_item, item_words


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
