"""Prices and counts written in Han or Korean numerals (``matching.numerals``), read as digits would be."""

from __future__ import annotations

import pytest

from matching.extract import extract
from matching.numerals import (
    HAN_DIGITS,
    HAN_UNITS,
    HANGUL_DIGITS,
    HANGUL_UNITS,
    number_forms,
    numeral_value,
    numerals,
)


@pytest.mark.parametrize(
    ("run", "value"),
    [
        ("八百", 800),
        ("三千五", 3500),  # a digit after the last unit counts in the next lower one
        ("两万三", 23_000),
        ("一百五", 150),
        ("三十五", 35),
        ("一千零五", 1005),  # ... unless a zero came between
        ("十", 10),
        ("十二", 12),
        ("一万五千", 15_000),
        ("三千五百", 3500),
        ("十万", 100_000),
        ("二十万", 200_000),
        ("一亿二千万", 120_000_000),
        ("一亿二", 120_000_000),
        ("貳仟", 2000),
        ("九九", None),  # two digits in a row are no one number
    ],
)
def test_han_numeral_values(run: str, value: int | None) -> None:
    assert numeral_value(run, HAN_DIGITS, HAN_UNITS) == value


@pytest.mark.parametrize(
    ("run", "value"), [("삼십만", 300_000), ("오천", 5000), ("이만", 20_000), ("만", 10_000)]
)
def test_korean_numeral_values(run: str, value: int) -> None:
    assert numeral_value(run, HANGUL_DIGITS, HANGUL_UNITS) == value


@pytest.mark.parametrize(
    ("text", "rewritten"),
    [
        ("八百元", "800元"),
        ("预算三千五", "预算3500"),
        ("五元", "5元"),
        ("千円でお譲り", "1000円でお譲り"),  # a lone unit before a money word
        ("二十四小时", "24小时"),
        ("오천원", "5000원"),
        ("삼십만 원", "300000 원"),
        # left alone: words that are no number here
        ("二手", "二手"),
        ("三星手机", "三星手机"),
        ("千万别买", "千万别买"),  # by all means
        ("万一", "万一"),  # in case
        ("百货", "百货"),
        ("九九成新", "九九成新"),  # 99% new
        ("数千円", "数千円"),  # some thousands
        ("十分好", "十分好"),
        ("五块钱", "5块钱"),
        ("收一块精工手表", "收一块精工手表"),  # a counter: one watch
        ("铁三角唱机", "铁三角唱机"),  # Audio-Technica: 角 is no money here
        ("三角钢琴", "三角钢琴"),  # a grand piano
        ("사원", "사원"),  # an employee: no unit
        ("이 가격", "이 가격"),  # "this price": no won after it
        ("1만원", "1만원"),  # digits before: the chain patterns read it
    ],
)
def test_numerals_are_rewritten_only_where_they_are_numbers(text: str, rewritten: str) -> None:
    assert numerals(text) == rewritten


@pytest.mark.parametrize(
    ("text", "amount", "currency", "bound"),
    [
        ("二手冰箱出售，八百元", 800.0, "CNY", None),
        ("出一台二手冰箱，两千块", 2000.0, "CNY", None),
        ("收一台二手笔记本，预算三千五", 3500.0, "CNY", "max"),
        ("求购四条轮胎 225/65R17，每条不超过三百元", 300.0, "CNY", "max"),
        ("自転車を売ります、五千円", 5000.0, "JPY", None),
        ("中古のソファを探しています、予算は三万円まで", 30_000.0, "JPY", "max"),
        ("자전거 팝니다 삼만원", 30_000.0, "KRW", None),
        ("소파 삽니다 최대 삼십만원까지", 300_000.0, "KRW", "max"),
    ],
)
def test_prices_in_numerals(text: str, amount: float, currency: str, bound: str | None) -> None:
    ex = extract(text, default_currency=currency)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency, ex.price.bound) == (amount, currency, bound)


def test_counts_in_numerals_are_unchanged() -> None:
    assert extract("求购四条轮胎 225/65R17").quantity == 4
    assert extract("出二十个收纳箱，每个10元", default_currency="CNY").quantity == 20


@pytest.mark.parametrize(
    ("text", "default", "amount", "currency"),
    [
        # a number word before a word for thousands or more is that number: the word was read as a count
        # (quantity 5) and the price was lost
        ("Продам велосипед, пять тысяч рублей", "RUB", 5000.0, "RUB"),
        ("पुराना फ्रिज बेचना है, पाँच हज़ार रुपये", "INR", 5000.0, "INR"),
        ("दो लाख में बाइक बेचनी है", "INR", 200_000.0, "INR"),
        ("İkinci el bisiklet, beş bin lira", "TRY", 5000.0, "TRY"),
        ("Vendo moto, dos mil pesos", "MXN", 2000.0, "MXN"),
        ("Dijual motor bekas, lima juta", "IDR", 5_000_000.0, "IDR"),
        ("Bán xe máy cũ, hai triệu", "VND", 2_000_000.0, "VND"),
        ("للبيع دراجة، ثلاثة آلاف ريال", "SAR", 3000.0, "SAR"),
        ("selling my old car, two grand", "USD", 2000.0, "USD"),
        # halves and case forms, read only before a word for thousands (``counts_before_multipliers``)
        ("बाइक बेचनी है, डेढ़ लाख", "INR", 150_000.0, "INR"),
        ("साइकिल बेचनी है ढाई हजार में", "INR", 2500.0, "INR"),
        ("सवा लाख में बाइक", "INR", 125_000.0, "INR"),
        ("продам за полторы тысячи", "RUB", 1500.0, "RUB"),
        ("куплю машину до пяти тысяч долларов", "RUB", 5000.0, "USD"),
        ("مطلوب لابتوب في حدود نص مليون جنيه", "EGP", 500_000.0, "EGP"),
        ("vendo casa en medio millón de pesos", "MXN", 500_000.0, "MXN"),
        # a half said between the number and the word for thousands, or after it: "two and a half grand" was
        # a count of 2 and no price, "$2½k" was $2
        ("need a bike, two and a half grand", "USD", 2500.0, "USD"),
        ("selling house 2 and a half million USD", "USD", 2_500_000.0, "USD"),
        ("bike for sale, $2½k", "USD", 2500.0, "USD"),
        ("vendo casa, dos millones y medio de pesos", "MXN", 2_500_000.0, "MXN"),
        ("vends maison deux millions et demi d'euros", "EUR", 2_500_000.0, "EUR"),
        ("vendo casa due milioni e mezzo di euro", "EUR", 2_500_000.0, "EUR"),
        ("vendo casa dois milhões e meio de reais", "BRL", 2_500_000.0, "BRL"),
        ("продаю квартиру два с половиной миллиона рублей", "RUB", 2_500_000.0, "RUB"),
        ("satılık daire iki buçuk milyon TL", "TRY", 2_500_000.0, "TRY"),
        ("jual rumah dua setengah juta rupiah", "IDR", 2_500_000.0, "IDR"),
        # thousands grouped by an apostrophe (Switzerland)
        ("Verkaufe Velo, CHF 1'200", "CHF", 1200.0, "CHF"),
        ("Vendo scooter 1’850.50 CHF", "CHF", 1850.5, "CHF"),
    ],
)
def test_number_words_before_thousands_and_swiss_grouping(
    text: str, default: str, amount: float, currency: str
) -> None:
    ex = extract(text, default_currency=default)
    assert ex.price is not None, text
    assert (ex.price.amount, ex.price.currency) == (amount, currency)
    assert ex.quantity in (None, 1), text


@pytest.mark.parametrize(
    "text",
    [
        "iki bina arası",  # "bina" (a building) starts like "bin" (a thousand)
        "one man band for hire",  # "man" is ten thousand in Vietnamese and Indonesian tables, not after "one"
        "two tickets for Saturday",
        "5'10\" tall",  # feet and inches, no thousands
        "seven k-pop albums",
        "hai mille euro?",  # Vietnamese "hai" (two) before Italian "mille": one language at a time
        "spent on million dollar homes",  # Turkish "on" (ten)
    ],
)
def test_number_words_alone_stay_words(text: str) -> None:
    assert number_forms(text) == text
