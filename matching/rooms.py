"""A home's bedrooms, however its country counts its rooms: "2+1" (Turkish), "2LDK" (Japanese), "T3" or "3
pièces" (French: rooms, the living room among them), "3-Zimmer" (German, the same), "2-комнатная" or
"двухкомнатная" (Russian, the same), "两室一厅", "방 2개", "2 BHK", "2 quartos", "2 camere da letto",
"trilocale", "غرفتين نوم", "2 phòng ngủ", "2 kamar tidur", "2 bedrooms": all read as the number of bedrooms
("bedrooms", a soft conflict: a two-bedroom flat is not the three-bedroom one asked for,
``signals.SOFT_CONFLICT_KEYS``). Where the count is written is kept (``Extraction.room_counts``): a room word
there names no room to rent (``classify.W_HOME_ROOMS``).

Only the counts of the text's languages are read (a Portuguese "T2" has two bedrooms, a French one one).
A studio is read as no count at all: the countries disagree on whether it has a bedroom ("1K", "원룸", "T1",
"1-комнатная", "1+0"), and a wrong conflict would hide a match. ``understand`` keeps the count for homes only
(``matching.understand.with_category_attributes``): "3 bedroom house" in a furniture ad describes no item.
"""

from __future__ import annotations

import re
from functools import cache

from matching.extraction import Extraction, blank
from matching.lexicon import number_words
from matching.numerals import han_int

#: Bedrooms read at most this many (a larger number is a building's, or no count).
MAX_BEDROOMS = 9
_N = r"([1-9])"
#: The small numbers a word may write before a room word (the language tables' ``numbers``).
_SMALL_WORDS = (2, 4)

#: language -> (pattern, how many of the counted rooms are no bedroom), tried in order.
_RULES: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "en": [(re.compile(rf"(?<![\w.]){_N}\s?-?\s?(?:bed(?:room)?s?|br|bd|bhk)(?![a-z])"), 0)],
    "hi": [(re.compile(rf"(?<![\w.]){_N}\s?(?:bhk|बीएचके|बेडरूम)"), 0)],
    "es": [(re.compile(rf"(?<![\w.]){_N}\s(?:habitaci[oó]n(?:es)?|dormitorios?|rec[áa]maras?)(?!\w)"), 0)],
    "pt": [
        (re.compile(rf"(?<![\w.]){_N}\s(?:quartos?|dormit[óo]rios?)(?!\w)"), 0),
        (re.compile(r"(?<![\w.])t([1-9])(?![\w.])"), 0),  # Portugal's T2: two bedrooms
    ],
    "fr": [
        (re.compile(rf"(?<![\w.]){_N}\s?chambres?(?!\w)"), 0),
        (re.compile(r"(?<![\w.])[tf]([2-9])(?![\w.])"), 1),  # a T3 has three rooms, two of them bedrooms
        (re.compile(rf"(?<![\w.]){_N}\s?pi[èe]ces?(?!\w)"), 1),
    ],
    "de": [
        (re.compile(rf"(?<![\w.]){_N}\s?schlafzimmer(?!\w)"), 0),
        (re.compile(rf"(?<![\w.,]){_N}\s?-?\s?zimmern?(?![\w]|-?\s?(?:wohnung|whg)?\s?\d)"), 1),
    ],
    "it": [
        (re.compile(rf"(?<![\w.]){_N}\s(?:camere(?: da letto)?|stanze da letto)(?!\w)"), 0),
        (re.compile(r"(?<!\w)(bi|tri|quadri)locale(?!\w)"), 0),
    ],
    "ru": [
        (re.compile(rf"(?<![\w.]){_N}\s?-?\s?(?:х|ти|ух|ех)?\s?-?\s?(?:комн\w*|к(?=\s?кв|\.\s?кв))"), 1),
        (re.compile(r"(?<!\w)(двушк|тр[её]шк)\w*"), 1),
        (re.compile(r"(?<!\w)(одно|двух|тр[её]х|четыр[её]х)\s?-?\s?комнатн\w*"), 1),
    ],
    "tr": [(re.compile(rf"(?<![\w.+]){_N}\s?\+\s?1(?![\d+])"), 0)],  # "1+0" is a studio
    "ja": [(re.compile(rf"(?<![\w.]){_N}\s?(?:sldk|ldk|dk)(?![a-z])"), 0)],
    "ko": [
        (re.compile(r"방\s?([1-9])\s?개"), 0),
        (re.compile(r"(투|쓰리)룸"), 0),
    ],
    "zh": [(re.compile(r"([1-6一二两兩三四五六])\s?[室房](?=\s?[1-3一二两兩三]?\s?[厅廳卫衛])"), 0)],
    "ar": [
        (re.compile(r"(غرفت(?:ين|ان)) نوم"), 0),  # the dual: two bedrooms
        (re.compile(rf"(?<![\w.]){_N}\s?غرف(?:ة)? نوم"), 0),
    ],
    "id": [(re.compile(rf"(?<![\w.]){_N}\s?(?:kamar tidur|kt|kamar)(?!\w)"), 0)],
    "vi": [(re.compile(rf"(?<![\w.]){_N}\s?(?:phòng ngủ|pn)(?!\w)"), 0)],
}
#: language -> what follows a number word (two to four) that counts bedrooms ("three bedrooms", "dos
#: habitaciones"); the number words are the language's own (``lexicon.number_words``).
_WORD_ROOMS: dict[str, str] = {
    "en": r"[\s-]bed(?:room)?s?",
    "es": r"\s(?:habitaciones|dormitorios|rec[áa]maras)",
    "pt": r"\s(?:quartos|dormit[óo]rios)",
    "fr": r"\schambres",
    "it": r"\scamere(?: da letto)?",
    "de": r"\sschlafzimmer",
}


@cache
def _word_rule(lang: str) -> re.Pattern[str] | None:
    """The ``_WORD_ROOMS`` rule of ``lang`` with its number words from two to four, or None."""
    small = [w for w, n in number_words((lang,)).items() if _SMALL_WORDS[0] <= n <= _SMALL_WORDS[1]]
    if lang not in _WORD_ROOMS or not small:
        return None
    alt = "|".join(sorted(map(re.escape, small), key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alt}){_WORD_ROOMS[lang]}(?!\w)")


_NAMED = {
    "bi": 1, "tri": 2, "quadri": 3, "투": 2, "쓰리": 3, "двушк": 2, "трешк": 3, "трёшк": 3,
    "غرفتين": 2, "غرفتان": 2, "одно": 1, "двух": 2, "трех": 3, "трёх": 3, "четырех": 4, "четырёх": 4,
}  # fmt: skip


def _count(raw: str, lang: str) -> int:
    if raw.isdigit():
        return int(raw)
    return han_int(raw) or number_words((lang,)).get(raw) or _NAMED.get(raw) or 0


def _attached(t: str, start: int, end: int) -> bool:
    """Whether the digits at ``t[start:end]`` are part of a word ("t3", "2ldk", "2pn")."""
    return (start > 0 and t[start - 1].isalpha()) or (end < len(t) and t[end].isalpha())


def read_bedrooms(t: str, ex: Extraction) -> str:
    """Put the bedrooms the normalised text ``t`` names into ``ex`` ("bedrooms"), in the counting of
    ``ex.langs``; the count's digit is blanked in the returned text (no later extractor reads "2+1" or "3
    pièces" as a quantity), its words are kept for the item words. Two different counts: the first kept (a
    contradiction, ``Extraction.put``)."""
    for lang in ex.langs:
        rules = list(_RULES.get(lang, ()))
        if (word_rule := _word_rule(lang)) is not None:
            rules.append((word_rule, 0))
        for rx, not_bedrooms in rules:
            for m in rx.finditer(t):
                raw = m.group(1)
                ex.room_counts.append(m.span())
                n = _count(raw, lang) - not_bedrooms
                if 1 <= n <= MAX_BEDROOMS:
                    ex.put("bedrooms", str(n))
                # the digit only, and only a free-standing one ("2+1", "3 pièces": else read as a quantity):
                # "pièces", "quartos" still say what the item is, and "T5" may be a van's name
                if raw.isdigit() and not _attached(t, m.start(1), m.end(1)):
                    t = blank(t, m.start(1), m.end(1))
    return t
