"""Numbers written in Chinese, Japanese or Korean numeral characters, rewritten as digits.

Why: a price is often written out in characters in a casual ad or request: "八百元", "两千块", "预算三千五"
(3,500: a digit after the last unit counts in the next lower unit), "五千円", "三万円", "삼십만원". Read as
they stand, none of them is a number the price patterns know, so the price was lost; worse, a buyer's limit
written so stayed in the published text. ``numerals`` turns them into digits in ``extract.number_forms``, the
one place every reading of numbers goes through (the extractor and ``published.published_text``).

Where: Han numerals (Chinese and Japanese) when a run holds a unit (十 百 千 万 亿) and starts with a
digit ("两千", "三十", "一百五"), or a lone digit or "十" right before a money word ("五元", "十块钱"). A run
that starts with a unit ("千万", by all means; "万一", in case; "百货") is left alone unless it is a lone
unit before a money word ("千円"), and so is a run of digits only ("九九成新", 99% new) and one after "数"
or "几" ("数千円", some thousands). Korean (Sino-Korean) numerals only right before "원" (won) and with a
unit in the run ("오천원", "삼십만 원"): the same syllables are common words ("이" this, "사" buy, "일" work).
"""

from __future__ import annotations

import re

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


def numerals(text: str) -> str:
    """``text`` with its Han and Korean numeral prices and counts as digits (see the module's rules)."""
    if _HAN_RUN.search(text):
        text = _HAN_RUN.sub(_han, text)
    if "원" in text:
        text = _HANGUL_RUN.sub(_hangul, text)
    return text
