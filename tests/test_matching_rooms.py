"""A home's bedrooms, read in each country's way of counting rooms (``matching.rooms``)."""

from __future__ import annotations

import pytest

from matching import understand
from matching.extract import extract


@pytest.mark.parametrize(
    ("text", "bedrooms"),
    [
        ("Satılık 2+1 daire Bornova", "2"),
        ("Cerco appartamento in vendita a Bornova, due camere da letto più soggiorno", "2"),
        ("أبحث عن شقة للبيع غرفتين نوم وصالة", "2"),
        ("보르노바 지역 방 2개 아파트 매매 찾습니다", "2"),
        ("2LDKのマンション", "2"),
        ("Appartement T3 à vendre", "2"),  # three rooms, the living room among them
        ("Apartamento T2 em Lisboa", "2"),  # a Portuguese T2 has two bedrooms
        ("3-Zimmer-Wohnung in Berlin", "2"),
        ("Продам 2-комнатную квартиру", "1"),
        ("сдам двушку", "1"),
        ("两室一厅出租", "2"),
        ("2 BHK flat for rent", "2"),
        ("Alugo apartamento 2 quartos", "2"),
        ("trilocale in affitto", "2"),
        ("2 bedroom apartment", "2"),
        ("Rumah 3 kamar tidur", "3"),
        ("Cho thuê căn hộ 2PN", "2"),
        ("Departamento 3 recámaras", "3"),
        # a studio is no count: the countries disagree on whether it has a bedroom
        ("Kiralık 1+0 stüdyo", None),
        ("Appartement T1 à louer", None),
        ("Сдам 1-комнатную квартиру", None),
        ("Wohnung 2,5 Zimmer", None),
    ],
)
def test_bedrooms(text: str, bedrooms: str | None) -> None:
    assert extract(text).attributes.get("bedrooms") == bedrooms


def test_the_count_is_not_a_quantity_and_only_a_home_keeps_it() -> None:
    assert extract("Satılık 2+1 daire Bornova").quantity is None
    home = understand("2 bedroom apartment for rent in Austin, $1,800 a month", location=(30.27, -97.74))
    assert home.intent.category.startswith("property/") and home.intent.attributes.get("bedrooms") == "2"
    sofa = understand("Selling the sofa of our 3 bedroom house, $300", location=(30.27, -97.74))
    assert not sofa.intent.category.startswith("property/") and "bedrooms" not in sofa.intent.attributes


@pytest.mark.parametrize(
    ("text", "bedrooms"),
    [
        ("Wohnung mit 3 Zimmern zu vermieten", "2"),  # the dative plural
        ("Сниму двухкомнатную квартиру", "1"),  # the count in a word
        ("Продаю трёхкомнатную квартиру", "2"),
        ("Сдаю однокомнатную квартиру", None),  # a studio
    ],
)
def test_bedrooms_in_other_word_forms(text: str, bedrooms: str | None) -> None:
    assert extract(text).attributes.get("bedrooms") == bedrooms


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a home counted in rooms, no room named apart from the count: the whole home
        ("Alquilo piso de 2 habitaciones, 900 €/mes", "property/rent"),
        ("Se alquila piso de 3 habitaciones", "property/rent"),
        ("Vendo piso de 3 habitaciones", "property/sale"),
        # a room named beside the home's count: the room
        ("Busco habitación en piso de 3 habitaciones", "property/rooms"),
        ("WG-Zimmer in 3-Zimmer-Wohnung frei", "property/rooms"),
        ("Сдаю комнату в трехкомнатной квартире", "property/rooms"),
        ("Double room in a friendly 3-bed flatshare", "property/rooms"),
    ],
)
def test_a_home_counted_in_rooms_is_not_a_room(text: str, category: str) -> None:
    assert understand(text).intent.category == category
