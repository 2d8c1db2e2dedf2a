"""Prices written as a range with the currency once, former prices beside the asked one, and numbers grouped
by spaces that no currency follows (no model needed)."""

from __future__ import annotations

import pytest

from matching.extract import extract


@pytest.mark.parametrize(
    ("text", "amount", "currency", "bound"),
    [
        # the currency written once, before the lower end: the upper end is the price, bound "range"
        ("Looking for a bike, $100 to 150", 150.0, "USD", "range"),
        ("Busco bici, entre $100 y 150", 150.0, "USD", "range"),
        ("Tutor wanted, $20-25/hr", 25.0, "USD", "range"),
        ("Looking for laptop $1,000-1,200", 1200.0, "USD", "range"),
        ("Looking for a bike, budget $100-150", 150.0, "USD", "max"),  # a budget is a maximum
        # a multiplier on one end is both ends'
        ("Looking for a car, $10-15k", 15_000.0, "USD", "range"),
        ("Need a car £3-4k", 4000.0, "GBP", "range"),
        ("₩30만-50만 원룸 구합니다", 500_000.0, "KRW", "range"),
    ],
)
def test_a_range_with_its_currency_written_once_is_its_upper_end(
    text: str, amount: float, currency: str, bound: str
) -> None:
    ex = extract(text)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency, ex.price.bound) == (amount, currency, bound)
    assert not any("several prices" in w for w in ex.warnings)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Selling iPhone $100-128 GB", 100.0),  # a unit after it: storage, not money
        ("Chairs $20 - 2 left", 20.0),  # under the lower end: no range
        ("Selling bike $100 - 900 km ridden", 100.0),
        ("Sofa $100 - 500 obo", 100.0),  # more than RANGE_MAX_RATIO times the lower end
        ("Tickets $20 - 25 Dec concert", 20.0),  # a date
    ],
)
def test_no_range_where_the_second_number_is_no_upper_end(text: str, amount: float) -> None:
    ex = extract(text)
    assert ex.price is not None and ex.price.amount == amount, text
    assert ex.price.bound != "range"


def test_a_range_keeps_its_per_unit_and_bound_words() -> None:
    each = extract("Selling shirts $5-8 each").price
    assert each is not None and (each.amount, each.per_unit) == (8.0, True)
    most = extract("Looking for a used sofa, up to $200-250").price
    assert most is not None and (most.amount, most.bound) == (250.0, "max")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Selling bike, was $200 now $80", 80.0, "USD"),
        ("Sofa, originally $900, asking $300", 300.0, "USD"),
        ("Sofa $300 (paid $900)", 300.0, "USD"),
        ("Verkaufe Fahrrad, statt 200 € nur 150 €", 150.0, "EUR"),
        ("Verkaufe Fahrrad, 150 € statt 200 €", 150.0, "EUR"),
        ("Verkaufe Fahrrad 150 €, NP 400 €", 150.0, "EUR"),
        ("Vends vélo, 200 € au lieu de 250 €", 200.0, "EUR"),
        ("Vendo sofá 300€, nuevo costó 900€", 300.0, "EUR"),
        ("Vendo bici, antes 200€ ahora 150€", 150.0, "EUR"),  # "ahora" says Spanish ("bici" is Italian too)
        ("Продаю велосипед, было 20 000 руб, стало 15 000 руб", 15_000.0, "RUB"),
        ("转让自行车 原价1200元 现价500元", 500.0, "CNY"),
        ("Bisiklet 200 TL yerine 150 TL", 150.0, "TRY"),
    ],
)
def test_a_former_price_is_not_the_one_asked(text: str, amount: float, currency: str) -> None:
    ex = extract(text)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency) == (amount, currency)
    assert "price" not in ex.uncertain
    assert not any("several prices" in w for w in ex.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "Selling bike $80 and helmet $20",  # two things, two prices: which one is still asked
        "Selling bike 80 USD 90 EUR",
        "Brand new, $900, case $20",  # "new" alone says the thing's condition, not a former price
    ],
)
def test_two_prices_no_word_marks_former_are_still_asked(text: str) -> None:
    ex = extract(text)
    assert "price" in ex.uncertain
    assert any("several prices" in w for w in ex.warnings)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Продам диван 15 000", "15 000"),
        ("Vends canapé 1 200", "1 200"),
    ],
)
def test_a_bare_number_grouped_by_spaces_is_asked_about_whole(text: str, number: str) -> None:
    ex = extract(text)
    assert ex.price is None
    assert any(w.startswith(f"{number}: a price or a quantity?") for w in ex.warnings), ex.warnings


def test_a_limit_grouped_by_spaces_is_named_whole() -> None:
    # the advice was "write it with its currency, e.g. 'max 15 USD'": 15 for a budget of fifteen thousand
    ex = extract("Куплю диван, бюджет около 15 000")
    assert ex.price is None and ex.limit_in_words == "15 000"
    assert any("a limit (15 000)" in w and "'max 15 000 USD'" in w for w in ex.warnings), ex.warnings


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Selling half a dozen plates $10", 6),
        ("Need half dozen eggs", 6),
        ("Selling a dozen eggs $5", 12),
    ],
)
def test_half_a_dozen_is_six(text: str, quantity: int) -> None:
    assert extract(text).quantity == quantity


@pytest.mark.parametrize("text", ["出售椅子两把，每把50元", "أبيع 4 كراسي كل واحد ب 50 ريال"])
def test_a_price_for_each_one(text: str) -> None:
    ex = extract(text)
    assert ex.price is not None and ex.price.amount == 50.0 and ex.price.per_unit is True, text


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("出售二手车 5万8", 58_000.0),  # 5.8 万, as "3tr5" is 3.5 triệu (it was 50,000)
        ("出售沙发 1万2，九成新", 12_000.0),
        ("냉장고 팝니다 3만5 네고가능", 35_000.0),
        ("出售二手车 5万8千", 58_000.0),
        ("予算1万5000円", 15_000.0),
    ],
)
def test_ten_thousands_with_a_digit_after_them(text: str, amount: float) -> None:
    ex = extract(text)
    assert ex.price is not None and ex.price.amount == amount, (text, ex.price, ex.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "Vends 4 pneus hiver 205/55 R16, 200 € les quatre",
        "Vendo 4 sillas por 100 euros las cuatro",
        "タイヤ4本セット 2万円",
        "타이어 4짝 세트 20만원",
    ],
)
def test_a_price_for_the_whole_set(text: str) -> None:
    ex = extract(text)
    assert ex.price is not None and ex.price.per_unit is False, (text, ex.price)
    assert ex.quantity == 4


def test_the_words_of_a_former_price_say_nothing_else() -> None:
    # "nuevo costó 900€" (new, it cost 900 €) says what a new one costs, not that this one is new
    assert "condition" not in extract("Vendo sofá 300€, nuevo costó 900€").attributes
    assert extract("Brand new sofa $300, was $900").attributes.get("condition") == "new"


# a count written as a range or a choice ("3-4 chairs") was no count ("Cerco 2-3 sedie" asked "2: a price or
# a quantity?"), or its lower end in one language and its upper end in another: it is the upper end, as a
# price's
@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Need 3-4 chairs for my balcony, max $20 each", 4),
        ("Suche 3-4 Stühle für die Küche", 4),
        ("Ищу 3-4 стула для кухни", 4),
        ("Cerco 2-3 sedie pieghevoli", 3),
        ("Je cherche 3 ou 4 chaises pliantes", 4),
        ("Cherche 3 à 4 chaises", 4),
        ("Busco 2 o 3 sillas de madera", 3),
        ("Looking for 2 to 3 tickets for Saturday", 3),
        ("Cần 3-4 cái ghế nhựa", 4),
    ],
)
def test_a_count_written_as_a_range_is_its_upper_end(text: str, quantity: int) -> None:
    ex = extract(text)
    assert ex.quantity == quantity, (text, ex.quantity)
    assert not any("a price or a quantity" in w for w in ex.warnings), text


@pytest.mark.parametrize(
    "text", ["Kids jacket size 3-4 years, $15", "Need a room for 2-3 months", "Concert 12-14 June, tickets"]
)
def test_a_range_of_a_unit_or_a_date_is_no_count(text: str) -> None:
    assert extract(text).quantity in (None, 1), text


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Hiring a driver, salary 2500", 2500),
        ("Se busca camarero, sueldo 1200", 1200),
        ("Recherche serveur, salaire 1800", 1800),
        ("Fahrer gesucht, Gehalt 2800", 2800),
        ("Cercasi cameriere, stipendio 1300", 1300),
        ("Precisa-se de motorista, salário 2000", 2000),
        ("Требуется водитель, зарплата 60000", 60000),
        ("Şoför aranıyor, maaş 30000", 30000),
        ("Dicari sopir, gaji 4000000", 4000000),
        ("Tuyển tài xế, lương 9000000", 9000000),
        ("招聘司机，工资6000", 6000),
        ("مطلوب سائق، راتب 3000", 3000),
        ("ड्राइवर की जरूरत है, सैलरी 15000", 15000),
    ],
)
def test_a_salary_is_the_price(text: str, amount: float) -> None:
    # a number after the word for a salary was asked "a price or a quantity?"
    ex = extract(text, "EUR")
    assert ex.price is not None and ex.price.amount == amount, text
    assert ex.quantity is None and not any("a price or a quantity" in w for w in ex.warnings)
