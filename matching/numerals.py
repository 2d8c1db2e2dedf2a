"""The one form numbers are read in: digits of every script, and numbers written in Chinese, Japanese or
Korean numeral characters, rewritten as digits.

Why: a price is often written out in characters in a casual ad or request: "八百元", "两千块", "预算三千五"
(3,500: a digit after the last unit counts in the next lower unit), "五千円", "三万円", "삼십만원". Read as
they stand, none of them is a number the price patterns know, so the price was lost; worse, a buyer's limit
written so stayed in the published text. ``numerals`` turns them into digits in ``number_forms``, the one
place every reading of numbers goes through (the extractor's ``normalise`` and ``published.published_text``),
which also writes digit-and-multiplier chains as one number (``compound_numbers``: "1万5千" 1.5万, "3tr5").

Where: Han numerals (Chinese and Japanese) when a run holds a unit (十 百 千 万 亿) and starts with a
digit ("两千", "三十", "一百五"), or a lone digit or "十" right before a money word ("五元", "十块钱"). A run
that starts with a unit ("千万", by all means; "万一", in case; "百货") is left alone unless it is a lone
unit before a money word ("千円"), and so is a run of digits only ("九九成新", 99% new) and one after "数"
or "几" ("数千円", some thousands). Korean (Sino-Korean) numerals only right before "원" (won) and with a
unit in the run ("오천원", "삼십만 원"): the same syllables are common words ("이" this, "사" buy, "일" work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from matching.lexicon import (
    digit_table,
    field,
    languages,
    mapping,
    number_words,
)
from matching.patterns import INDIAN_GROUPING
from matching.spelled import big_multipliers, spelled_numbers

#: Han digits (simplified, traditional and financial forms, and the zero signs).
HAN_DIGITS = {
    **dict.fromkeys("〇零", 0),
    **dict.fromkeys("一壹", 1),
    **dict.fromkeys("二两兩贰貳", 2),
    **dict.fromkeys("三叁參", 3),
    **dict.fromkeys("四肆", 4),
    **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆陸", 6),
    **dict.fromkeys("七柒", 7),
    **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}
#: Han units: below ten thousand they multiply the digit before them; 万 and 亿 the whole section before.
HAN_UNITS = {
    **dict.fromkeys("十拾", 10),
    **dict.fromkeys("百佰", 100),
    **dict.fromkeys("千仟", 1000),
    **dict.fromkeys("万萬", 10_000),
    **dict.fromkeys("亿億", 100_000_000),
}
HANGUL_DIGITS = {"영": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
HANGUL_UNITS = {"십": 10, "백": 100, "천": 1000, "만": 10_000, "억": 100_000_000}
#: Longest numeral run read (bounds the work; "九千九百九十九万九千九百九十九" is 15).
MAX_NUMERAL_CHARS = 16
#: Money words a lone Han digit or unit may stand before ("五元", "三円", "千円").
_HAN_MONEY = "元圆圓円"
#: "块" is money before "钱" or at a clause's end ("五块钱", "八块，"), else a counter ("一块手表", a watch).
_KUAI = re.compile(r"[块塊](?:[钱錢]|(?![\u3400-\u9fff]))")

_HAN = "".join(HAN_DIGITS) + "".join(HAN_UNITS)
_HAN_RUN = re.compile(rf"(?<![\d数几幾])[{_HAN}]{{1,{MAX_NUMERAL_CHARS}}}")
_HANGUL_RUN = re.compile(
    rf"(?<![\uac00-\ud7a3\d])([{''.join(HANGUL_DIGITS)}{''.join(HANGUL_UNITS)}]{{1,{MAX_NUMERAL_CHARS}}})(?=\s?원)"
)


def numeral_value(run: str, digits: dict[str, int], units: dict[str, int]) -> int | None:
    """The value of a numeral run ("三千五" 3500, "一千零五" 1005, "两万三" 23000, "삼십만" 300000), None
    when it is not one number (two digits in a row, "九九")."""
    total = high = section = 0  # the hundred-millions, the ten-thousands, the rest
    digit: int | None = None
    last_unit = 0  # the unit just before a trailing digit (0: none, or a zero came between)
    for ch in run:
        if ch in digits:
            if digit is not None:
                return None
            if digits[ch] == 0:
                last_unit = 0
            else:
                digit = digits[ch]
            continue
        unit = units[ch]
        if unit < 10_000:
            section += (1 if digit is None else digit) * unit
        elif unit == 10_000:
            high += (section + (digit or 0) or 1) * unit
            section = 0
        else:
            total += (high + section + (digit or 0) or 1) * unit
            high = section = 0
        last_unit = unit
        digit = None
    if digit is not None:
        # a digit after the last unit counts in the next lower one: "三千五" 3500, "两万三" 23000
        section += digit * (last_unit // 10 if last_unit >= 100 else 1)
    return total + high + section


def _han(m: re.Match[str]) -> str:
    run = m.group(0)
    after = m.string[m.end() : m.end() + 1]
    has_unit = any(ch in HAN_UNITS for ch in run)
    money = (bool(after) and after in _HAN_MONEY) or _KUAI.match(m.string, m.end()) is not None
    if run[0] in HAN_UNITS and not (run[0] in "十拾" and len(run) > 1) and not (money and len(run) == 1):
        return run
    if not has_unit and not (len(run) == 1 and money):
        return run
    value = numeral_value(run, HAN_DIGITS, HAN_UNITS)
    return run if value is None else str(value)


def _hangul(m: re.Match[str]) -> str:
    run = m.group(1)
    if not any(ch in HANGUL_UNITS for ch in run):
        return run
    value = numeral_value(run, HANGUL_DIGITS, HANGUL_UNITS)
    return run if value is None else str(value)


def han_int(raw: str) -> int:
    """The value of a Han numeral run alone ("四", "十二"), 0 when it is not one (a count's reading)."""
    if not raw or any(ch not in HAN_DIGITS and ch not in HAN_UNITS for ch in raw):
        return 0
    return numeral_value(raw, HAN_DIGITS, HAN_UNITS) or 0


def numerals(text: str) -> str:
    """``text`` with its Han and Korean numeral prices and counts as digits (see the module's rules)."""
    if _HAN_RUN.search(text):
        text = _HAN_RUN.sub(_han, text)
    if "원" in text:
        text = _HANGUL_RUN.sub(_hangul, text)
    return text


#: A CJK/Korean numeral chain written with digits: "1万5千" (15,000), "3만 5천" (35,000), "1万5000" (15,000).
_COMPOUND = re.compile(r"(?<![\d.,])(\d{1,4})\s?([万萬만])\s?(?:(\d)\s?([千천])|(\d{4})(?!\d))")


#: Ten-thousands with one digit of thousands after them, as Chinese and Korean sellers write them: "5万8" is
#: "5.8万" (58,000, still a multiplied amount), "3만5" "3.5만"; not before a digit, a separator or another
#: numeral ("5万8千" is ``_COMPOUND``'s).
_TEN_THOUSANDS_AND = re.compile(r"(?<![\d.,])(\d{1,4})([万萬만])(\d)(?![\d.,千천万萬만억亿])")


#: A full-width comma after a digit is a clause break unless three digits follow ("16+512，4200元": two
#: numbers; read as "," the two would be one unreadable number): it is read as "、".
_CLAUSE_COMMA = re.compile(r"(?<=\d)，(?!\d{3}(?!\d))")
#: Korean "만원" with no number before it is ten thousand won ("만원에 드려요").
_MAN_WON = re.compile(r"(?<![\d\uac00-\ud7a3])만\s?원")
#: Millions written with their fraction after the word: Vietnamese "3tr5" (3.5 triệu), "1tr25", Indonesian
#: "1jt5" (1.5 juta); the digits after the word are tenths, hundredths, thousandths of a million.
_MILLIONS_AND = re.compile(r"(?<![\d.,])(\d{1,4})(tr|jt)(\d{1,3})(?![\d\w])")
#: Thousands written the same way: "1k2" (1,200), "2k5" (2,500), "1k25" (1,250).
_THOUSANDS_AND = re.compile(r"(?<![\d.,\w])(\d{1,3})k(\d{1,3})(?![\d\w])")
#: The same with a space, at the end of a clause ("giá 3 tỷ 2.", 3.2 billion), or a half ("1 triệu rưỡi").
_SPACED_FRACTION = re.compile(
    r"(?<![\d.,])(\d{1,4})\s?(tỷ|tỉ|triệu)\s(?:(\d{1,3})(?=\s*(?:[,.;!)/]|$))|rưỡi(?!\w))"
)
#: Korean hundred-millions with the ten-thousands after them: "7억 5천" (750,000,000), "1억 2000만".
_EOK = re.compile(r"(?<![\d.,])(\d{1,4})\s?억\s?(\d{1,4})\s?(?:(천)\s?만?|만)")


def compound_numbers(text: str) -> str:
    """``text`` with digit-written numeral chains as one number ("予算1万5千円" -> "予算1.5万円", "1万2345"
    -> "12345"): the multiplier pattern alone reads "1万" and "5千" as two amounts ("5万8" is "5.8万" too).
    "3tr5" and "1jt5" become thousands ("3500k", "1500k"): read as they stand, the millions would lose their
    fraction ("1tr8" read 1 million); "1k2" becomes "1.2k" (it was 1,000), "1k250" "1.25k", "1k125" 1125."""

    def ten_thousands(high: int, low: int, word: str) -> str:
        """``high`` ten-thousands and ``low``: "5.8万" while that is exact (written out, "58000" alone
        could be a count), else the digits."""
        if low % 100:
            return str(high * 10_000 + low)
        fraction = f"{low // 100:02d}".rstrip("0")
        return f"{high}.{fraction}{word}" if fraction else f"{high}{word}"

    def one(m: re.Match[str]) -> str:
        low = int(m.group(3)) * 1000 if m.group(3) else int(m.group(5))
        return ten_thousands(int(m.group(1)), low, m.group(2))

    def millions(m: re.Match[str]) -> str:
        return f"{int(m.group(1)) * 1000 + int(m.group(3).ljust(3, '0'))}k"

    def spaced(m: re.Match[str]) -> str:
        lower = "triệu" if m.group(2) in ("tỷ", "tỉ") else "k"
        return f"{int(m.group(1)) * 1000 + int((m.group(3) or '5').ljust(3, '0'))} {lower}"

    def eok(m: re.Match[str]) -> str:
        man = int(m.group(2)) * 1000 if m.group(3) else int(m.group(2))
        return f"{int(m.group(1)) * 10_000 + man}만"

    def thousands(m: re.Match[str]) -> str:
        # "1.25k", never "1.250k": three digits after a point are a thousands group ("1.250" is 1250)
        fraction = m.group(2).rstrip("0")
        if len(fraction) < 3:
            return f"{int(m.group(1))}.{fraction}k" if fraction else f"{int(m.group(1))}k"
        return str(int(m.group(1)) * 1000 + int(fraction))

    text = _EOK.sub(eok, _COMPOUND.sub(one, text))
    text = _TEN_THOUSANDS_AND.sub(
        lambda m: ten_thousands(int(m.group(1)), int(m.group(3)) * 1000, m.group(2)), text
    )
    text = _THOUSANDS_AND.sub(thousands, text)
    return _MILLIONS_AND.sub(millions, _SPACED_FRACTION.sub(spaced, text))


#: Whole units written with a dash for the cents ("300,- €", "150.– VB", German and Swiss ads): the dash goes.
_DASH_CENTS = re.compile(r"(?<=\d)[.,][-–—]{1,2}(?![\d-])")
#: Thousands grouped by an apostrophe, as in Switzerland ("CHF 1'200", "1’250.50"): the apostrophe goes.
_APOSTROPHE_GROUP = re.compile(r"(?<=\d)['’](?=\d{3}(?!\d))")


#: A vulgar fraction right after digits ("2½k", "1¼"): a decimal.
_VULGAR = re.compile(r"(?<=\d)([½¼¾])")
_VULGAR_VALUES = {"½": ".5", "¼": ".25", "¾": ".75"}


@dataclass(frozen=True)
class _Worded:
    """One language's number words before its words for a hundred or more (``_worded``)."""

    before: re.Pattern[str]  # a number word (``n``), maybe "and a half" (``half``), then a big word
    after: re.Pattern[str] | None  # a number (``n``), a big word (``m``) and "y medio" after it
    values: dict[str, float]


@cache
def _worded() -> tuple[_Worded, ...]:
    """Per language: a number word of its table (``numbers`` one to ten: "пять", "दो", "beş", "cinco"; and
    ``counts_before_multipliers``, read only there: "डेढ़" 1.5, "полторы" 1.5, "medio" 0.5, "пяти" 5) right
    before one of its words for a hundred or more ("тысяч", "लाख", "bin", "mil", "million"), the number
    word in group ``n``; and the words' values. One language at a time: "hai" is two in Vietnamese, "you
    have" in Italian ("hai mille euro?"). A half said between them (the table's ``half.before``: "two and a
    half grand", "два с половиной миллиона", "iki buçuk milyon"; digits too) or after the big word
    (``half.after``: "dos millones y medio", "deux millions et demi") adds a half."""
    out = []
    for lang in languages():
        values: dict[str, float] = {w: v for w, v in number_words((lang,)).items() if 1 <= v <= 10}
        values.update({str(w): float(v) for w, v in mapping("counts_before_multipliers", (lang,)).items()})
        values = {w.lower(): v for w, v in values.items() if " " not in w}
        bigs = big_multipliers(lang)
        if not values or not bigs:
            continue
        words = "|".join(sorted(map(re.escape, values), key=len, reverse=True))
        big = rf"(?:{'|'.join(bigs)})(?![^\s\d,.;:!?)/\-])"
        half_before = "|".join(map(str, field(lang, "half.before") or []))
        half_after = "|".join(map(str, field(lang, "half.after") or []))
        if half_before:  # digits only with a half: "2 and a half grand"
            number = rf"{words}|\d{{1,3}}(?=\s+(?:{half_before})\s)"
            half = rf"(?P<half>\s+(?:{half_before}))?"
        else:
            number, half = words, ""
        before = re.compile(rf"(?<![^\s,.:;(/\-])(?P<n>{number}){half}(?=\s+{big})", re.IGNORECASE)
        after = None
        if half_after:
            after = re.compile(
                rf"(?<![^\s,.:;(/\-])(?P<n>{words}|\d{{1,3}})\s+(?P<m>{big})\s+(?:{half_after})(?![^\W\d_])",
                re.IGNORECASE,
            )
        out.append(_Worded(before, after, values))
    return tuple(out)


def _value(word: str, values: dict[str, float]) -> float:
    return float(word) if word.isdigit() else values.get(word.lower(), 0.0)


def worded_numbers(text: str) -> str:
    """``text`` with a number word before a word for hundreds or more as digits ("пять тысяч рублей" -> "5
    тысяч рублей", "डेढ़ लाख" -> "1.5 लाख", "two hundred" -> "2 hundred", "two and a half grand" -> "2.5
    grand", "dos millones y medio" -> "2.5 millones"): read as they stand, the number word was taken for a
    count (five bicycles) and the price was lost. Number words alone stay words ("fifty dollars": the
    extractor asks for digits)."""
    text = _VULGAR.sub(lambda m: _VULGAR_VALUES[m.group(1)], text)
    for w in _worded():
        if w.after is not None:
            text = w.after.sub(
                lambda m, v=w.values: f"{_value(m.group('n'), v) + 0.5:g} {m.group('m')}",  # type: ignore[misc]
                text,
            )
        text = w.before.sub(
            lambda m, v=w.values: f"{_value(m.group('n'), v) + (0.5 if m.groupdict().get('half') else 0):g}",  # type: ignore[misc]
            text,
        )
    return text


def number_forms(text: str) -> str:
    """``text`` with its numbers in the one form the price patterns read: a full-width comma between numbers
    a clause break, a bare "만원" 10,000 won, digits of every script as ASCII, Han and Korean numerals
    as digits (``numerals``: "三千五" 3500, "오천원" 5000원), numeral chains as one number
    (``compound_numbers``). ``normalise`` and ``published.published_text`` both go through it, so the
    published text's price mentions are the ones the extractor found."""
    text = _MAN_WON.sub("1만원", _CLAUSE_COMMA.sub("、", text))
    text = _APOSTROPHE_GROUP.sub("", worded_numbers(spelled_numbers(text.translate(digit_table()))))
    text = _DASH_CENTS.sub("", text)
    return compound_numbers(numerals(text))


def is_year(value: float) -> bool:
    """Whether ``value`` reads as a year ("2019", "up to 2015"): no amount of money, no count."""
    return 1900 <= value <= 2100


def parse_number(text: str) -> float | None:
    """Parse ``80``, ``80.50``, ``80,50``, ``1.200``, ``1,200.50``, ``1 200``, ``3,50,000`` (Indian grouping:
    lakhs) -> float (None if not one)."""
    t = re.sub(r"\s", "", text)
    if not t:
        return None
    if re.fullmatch(INDIAN_GROUPING, t):
        return float(t.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", t):
        return float(re.sub(r"[.,]", "", t))
    m = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?", t)
    if not m:
        return None
    whole = re.sub(r"[.,]", "", m.group(1))
    frac = m.group(2) or "0"
    return float(f"{whole}.{frac}")
