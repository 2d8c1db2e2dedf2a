"""Numbers spelled out in words, and chained (``matching.spelled``): "dos mil quinientos euros" is 2,500.

Before this reader, one number word before a word for thousands was read ("dos mil" -> "2 mil") and the rest
of the chain was dropped: "dos mil quinientos euros" was a price of 2,000 with no warning, "iki bin beş yüz
lira" 2,000 and a count of 5, "zweitausend Euro" no price at all.
"""

from __future__ import annotations

import pytest

from matching.extract import extract
from matching.published import published_text
from matching.spelled import chain_value, spelled_numbers


@pytest.mark.parametrize(
    ("text", "currency", "amount", "bound"),
    [
        ("vendo bici por dos mil quinientos euros", "EUR", 2500, None),
        ("veinticinco mil pesos la moto", "MXN", 25_000, None),
        ("quinientos euros y es tuya", "EUR", 500, None),
        ("vends vélo deux mille cinq cents euros", "EUR", 2500, None),
        ("deux cents euros", "EUR", 200, None),
        ("cent quatre-vingts euros", "EUR", 180, None),
        ("verkaufe Fahrrad für zweitausend Euro", "EUR", 2000, None),
        ("Fahrrad, dreihundertfünfzig Euro", "EUR", 350, None),
        ("vendo bici duemilacinquecento euro", "EUR", 2500, None),
        ("vendo bicicleta dois mil e quinhentos reais", "BRL", 2500, None),
        ("продаю велосипед две тысячи пятьсот рублей", "RUB", 2500, None),
        ("пятьсот рублей", "RUB", 500, None),
        ("куплю до двух тысяч пятисот", "RUB", 2500, "max"),
        ("bisiklet satıyorum iki bin beş yüz lira", "TRY", 2500, None),
        ("bin beş yüz lira", "TRY", 1500, None),
        ("ikibinbeşyüz TL", "TRY", 2500, None),
        ("أبيع دراجة بألفين ريال", "SAR", 2000, None),
        ("أبيع دراجة بخمسمائة ريال", "SAR", 500, None),
        ("ألفين وخمسمائة ريال", "SAR", 2500, None),
        ("दो हज़ार पाँच सौ रुपये में बेचना है", "INR", 2500, None),
        ("पाँच सौ रुपये", "INR", 500, None),
        ("jual sepeda dua ratus ribu", "IDR", 200_000, None),
        ("dua juta lima ratus ribu", "IDR", 2_500_000, None),
        ("two hundred fifty dollars", "USD", 250, None),
        # Vietnamese: "năm" is five only before a word for hundreds or more (else "year")
        ("bán điện thoại hai triệu năm trăm nghìn", "VND", 2_500_000, None),
        ("bán xe năm 2019 giá năm triệu", "VND", 5_000_000, None),
        ("bán nồi cơm năm trăm nghìn", "VND", 500_000, None),
        ("bán xe máy mười lăm triệu", "VND", 15_000_000, None),
        ("bán xe hai mươi lăm triệu", "VND", 25_000_000, None),
        ("cần mua laptop tối đa năm triệu", "VND", 5_000_000, "max"),
        # one number word alone, right before a currency
        ("vendo bici por cien euros", "EUR", 100, None),
        ("продам книгу за сто рублей", "RUB", 100, None),
        ("vendo livro por cem reais", "BRL", 100, None),
        ("max two thousand five hundred dollars", "USD", 2500, "max"),
    ],
)
def test_a_chain_of_number_words_is_one_price(
    text: str, currency: str, amount: float, bound: str | None
) -> None:
    got = extract(text, default_currency=currency)
    assert got.price is not None, got.warnings
    assert (got.price.amount, got.price.currency, got.price.bound) == (amount, currency, bound)
    assert got.quantity is None  # "beş" in "iki bin beş yüz" was a count of 5


@pytest.mark.parametrize(
    "text",
    [
        "Fiat Cinquecento",  # a car, and the 16th century, as often as 500
        "mobile del novecento",
        "binbir gece",  # "a thousand and one": countless
        "hundreds of books",  # a multiplier alone
        "dos tres mil",  # two ones in a row: no number
        "mil mil gracias",
        "fifty dollars",  # under a hundred: the extractor asks for digits
        "fünfundzwanzig Euro",
        "yüz yüze",  # face to face
        "полторы тысячи",  # left to worded_numbers
        "once upon a time",
        "15 ribu yen",  # a multiplier after digits is the price patterns' own
        "до 300 тысяч вон",
        "mil euros",  # a word for hundreds or thousands alone is not read
        "hundred books",
        "a few hundred dollars",
        "million dollar homes",
        "bin lira",
        "نص مليون جنيه",  # half a million
        "xe đời năm 2015",  # the year
        "năm nay bán xe",  # this year
    ],
)
def test_what_is_no_chain_stays_as_written(text: str) -> None:
    assert spelled_numbers(text) == text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("dos mil", "2 mil"),  # as worded_numbers writes it: the word for a thousand says money
        ("veinte mil", "20 mil"),
        ("dos millones quinientos mil", "2500 mil"),
        ("twenty five hundred", "2500"),
        ("one thousand two hundred", "1200"),
        ("two hundred", "200"),  # hundreds become digits: "one hundred folding chairs" is 100 chairs
        ("a hundred and fifty", "a 150"),
        ("بألفين", "ب 2000"),  # the glued preposition stays
        ("خمسة وعشرين ألف", "25 ألف"),
    ],
)
def test_how_a_chain_is_written(text: str, written: str) -> None:
    assert spelled_numbers(text) == written


@pytest.mark.parametrize(
    ("atoms", "value"),
    [
        ([("unit", 2), ("mult", 1000), ("unit", 500)], 2500),
        ([("unit", 5), ("unit", 20), ("mult", 1000)], 25_000),  # Arabic: five and twenty
        ([("unit", 2), ("tens", 10), ("unit", 5), ("mult", 1000)], 25_000),  # "dua puluh lima ribu"
        ([("unit", 2), ("teens", 10)], 12),  # "dua belas"
        ([("unit", 20), ("unit", 5), ("hundred", 100)], 2500),
        ([("unit", 2), ("unit", 3)], None),
        ([("unit", 20), ("unit", 30)], None),
        ([("mult", 1000), ("mult", 1000)], None),
        ([("unit", 2), ("hundred", 100), ("unit", 3), ("hundred", 100)], None),
        ([("unit", 2000), ("unit", 500)], 2500),  # "ألفين وخمسمائة"
        ([("unit", 5), ("unit", 2000)], None),
    ],
)
def test_chain_value(atoms: list[tuple[str, float]], value: float | None) -> None:
    assert chain_value(atoms) == value


@pytest.mark.parametrize(
    ("text", "currency", "published"),
    [
        ("Busco bici, máximo dos mil quinientos euros", "EUR", "Busco bici"),
        ("куплю велосипед до двух тысяч пятисот рублей", "RUB", "куплю велосипед"),
        ("bisiklet arıyorum en fazla iki bin beş yüz lira", "TRY", "bisiklet arıyorum"),
        ("Suche Fahrrad, höchstens zweitausendfünfhundert Euro", "EUR", "Suche Fahrrad"),
        ("Need a bike, two hundred fifty dollars max", "USD", "Need a bike"),
        ("mua xe đạp tầm năm triệu", "VND", "mua xe đạp"),  # was published as written
        ("cần mua laptop tối đa năm triệu", "VND", "cần mua laptop"),
        ("need a bike, two and a half grand", "USD", "need a bike"),  # were published as written
        ("need a bike, 2½k max", "USD", "need a bike"),
        ("need a bike, 2k max", "USD", "need a bike"),
    ],
)
def test_a_limit_in_words_is_not_published(text: str, currency: str, published: str) -> None:
    assert published_text(text, default_currency=currency)[0] == published
