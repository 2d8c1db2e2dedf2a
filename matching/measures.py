"""Sizes and measures: tire sizes, labelled clothing and shoe sizes, dimensions, weight, length, volume,
battery capacity, memory and storage, screen size. Read by ``matching.extract`` first, before prices and
quantities, so that "225/65R17", "160x200" or "8/256" are never read as amounts.

Each value is kept canonical (sizes as written, "160x200", "15kg", "320cm", "0.5l", "72Ah", "256GB",
"55in") for the conflict and key-match checks (``matching.signals``, ``matching.score``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from matching.extraction import Extraction, blank
from matching.lexicon import LETTER, common
from matching.patterns import Patterns
from matching.rooms import read_bedrooms

_TIRE_SIZE = re.compile(r"(?<!\d)(\d{3})\s?/\s?(\d{2})\s?(z?[rр]|-)\s?(\d{2})(?!\d)")
#: A tire size written without its marks ("215 60 16", "215/60 16", "215 60 r16"): only a width, aspect and
#: rim a tire has (135-355 mm by fives, 25-85 %, 12-24 in), not inside a longer run of numbers (a phone).
_TIRE_SIZE_BARE = re.compile(
    r"(?<![\d.,+])(?<![\d.,+]\s)(1[3-9]5|2[0-9]5|3[0-5]5)[\s/]([2-8][05])\s(?:r\s?)?(1[2-9]|2[0-4])"
    r"(?!\d|[.,]\d|\s\d)"
)
#: "160x200", "160 x 200 cm", "160х200см"; not a model name that has "x" between digits ("7800X3D", "1080p"):
#: the second number may be followed by a unit or a third dimension, not by another letter or a decimal.
#: Russian "160 на 200 см" too, with its unit ("на" alone is a preposition).
_DIMENSIONS = re.compile(
    r"(?<![\d/.,])(\d{1,4}(?:[.,]\d)?)\s?(?:[x*х]|на(?=\s\d{1,4}(?:[.,]\d)?\s?(?:см|мм|м(?![а-я]))))\s?"
    r"(\d{1,4}(?:[.,]\d)?)(?![\d/]|[.,]\d)"
    r"(?!(?!cm|mm|m(?![a-z])|in(?![a-z])|ft(?![a-z])|[xх]\s?\d|см|мм|м(?![а-я]))[a-zа-я])"
)
_WEIGHT = re.compile(
    r"(?<![\d.,])(\d{1,4}(?:[.,]\d)?)\s?-?(?:"
    + "|".join(sorted(common()["weight_units"], key=len, reverse=True))
    + r")(?![a-zа-я])"
)
_SIZE_SUFFIX_CJK = re.compile(r"(?<![\d月/])(\d{2})\s?(?:码|號|号)(?![线線楼樓])")
#: A letter size that needs no label: written in capitals, alone ("puffer jacket in XL", "Motion XT XL").
_BARE_SIZE = re.compile(r"(?<![\w\-/.])(XXS|XS|XL|XXL|XXXL|2XL|3XL)(?![\w\-/])")
#: A string instrument's size, a fraction after its name ("violín 3/4", "كمان مقاس ٣/٤", "小提琴 1/2",
#: "guitarra clásica 3/4"): a child's violin is no full-size one. Korean 기타 ("et cetera" too) is left out.
_INSTRUMENTS = (
    r"violins?|viola|cellos?|fiddle|guitars?|viol[íi]n|violonchelo|chelo|guitarra|violino|violoncelo"
    r"|viol[ãa]o|violon(?:celle)?|guitare|geige|violine|bratsche|gitarre|violoncello|chitarra|скрипк\w*"
    r"|виолончел\w*|гитар\w*|keman|viyola|gitar|biola|vĩ cầm|ghi ?ta|小提琴|中提琴|大提琴|吉他"
    r"|バイオリン|ヴァイオリン|チェロ|ギター|바이올린|첼로|كمان|فيولين|تشيلو|جيتار|قيتار|वायलिन|गिटार"
)
_INSTRUMENT_SIZE = re.compile(
    rf"(?<![a-zа-я])(?:{_INSTRUMENTS})(?:[^\d\n.,;!?]{{0,24}}?)"
    r"(?P<frac>(?<![\d/])(?:1\s?/\s?(?:16|10|8|4|2)|3\s?/\s?4|7\s?/\s?8|4\s?/\s?4))(?![\d/])"
)
#: Words for gold and silver: a precious metal's fineness is read only beside one.
_METAL = re.compile(
    r"gold(?:en)?|silver|sterling|oro|plata|ouro|prata|argent|silber|gelbgold|wei(?:ß|ss)gold|rotgold"
    r"|золот\w*|серебр\w*|alt[ıi]n|g[üu]m[üu][şs]|emas|perak|vàng|bạc|金|银|銀|금|은|ذهب|فضة|सोन[ाे]|चांदी"
)
#: Gold's karats, written with the word ("18 carats", "22 ayar") or as "18k"/"14kt" beside a metal word:
#: "gold chain 14k" is no price of 14,000.
_KARATS = r"(?<![\d.,])(8|9|10|14|18|20|21|22|24)\s?"
_KARAT_WORD = re.compile(
    _KARATS + r"(?:karat|carats?|quilates|kilates|ayar\w*|карат\w*|캐럿|カラット|قيراط|कैरेट)(?![a-z])"
)
_KARAT_SHORT = re.compile(_KARATS + r"(?:kt?|k金)(?![a-z])")
#: A precious metal's fineness in thousandths ("prata 925", "750 gold"): no count of 925 chains.
_FINENESS = re.compile(r"(?<![\d.,])(925|999|958|916|750|585|375)(?![\d.,]\d|\d)")
#: How far from a metal word a short karat or a fineness is read.
_METAL_REACH = 24
#: The purity readers: the pattern, whether it needs a metal word beside it, and the value's suffix.
_PURITY = ((_KARAT_WORD, False, "k"), (_KARAT_SHORT, True, "k"), (_FINENESS, True, ""))


def _by_metal(t: str, m: re.Match[str]) -> bool:
    """Whether a metal word is within ``_METAL_REACH`` characters of the match ``m`` of ``t``."""
    return _METAL.search(t[max(0, m.start() - _METAL_REACH) : m.end() + _METAL_REACH]) is not None


#: A Korean shoe size in millimetres ("265 사이즈") within these bounds is read as its European size (42).
_MM_SHOE = (215, 320)


def _size_value(raw: str) -> str | None:
    """A labelled size as kept: letters in capitals, "8,5" as "8.5", a shoe size in millimetres as its
    European size (``1.5 * (cm + 1.5)``, rounded: 265 -> 42); another three-digit number is no size."""
    value = raw.upper().replace(",", ".")
    if len(value) == 3 and value.isdigit():
        mm = int(value)
        return f"{round(1.5 * (mm / 10 + 1.5))}" if _MM_SHOE[0] <= mm <= _MM_SHOE[1] else None
    return value


_CAPACITY = re.compile(r"(?<![\d.,])(\d{2,3})\s?(ah|а·?ч|amperes?|amper|ампер)(?![a-zа-я])")
#: A length in metres ("3,2 m", "3.2米", "3.2メートル"): kept as centimetres for the conflict check; not after
#: a currency sign ("$1.2M" is millions).
_LENGTH = re.compile(
    r"(?<![\d.,$€£¥₹₽₩])(?<![$€£¥₹₽₩]\s)(\d{1,2}[.,]\d{1,2})\s?(?:m|м|metros?|metres?|meters?|metri|metre|метр\w*|米|メートル|미터|मीटर|متر)(?![a-zа-я])"
)


def _unit_alternation(units: list[str]) -> str:
    """Unit words as one alternation, longest first; a unit in a script that writes words apart must end its
    word ("5 l" but not "5 lbs"), one in Han, kana or Hangul need not ("5升的油")."""
    parts = [u if re.match(r"[\u3040-\u9fff\uac00-\ud7af]", u) else rf"(?:{u})(?!{LETTER})" for u in units]
    return "|".join(sorted(parts, key=len, reverse=True))


_VOLUME_UNITS = common()["volume_units"]
#: A volume ("5 L", "12 litres", "0,5л", "١٢ لتر", "5升", "500 ml"): kept in litres for the conflict check.
_VOLUME = re.compile(
    r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,3})?)\s?-?(?:(?P<l>"
    + _unit_alternation(_VOLUME_UNITS["l"])
    + r")|(?P<ml>"
    + _unit_alternation(_VOLUME_UNITS["ml"])
    + "))"
)
#: A length in centimetres ("7 cm", "12 см", "30厘米"), for the same check as ``_LENGTH``.
_LENGTH_CM = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d)?)\s?(?:" + _unit_alternation(common()["length_cm_units"]) + ")"
)
#: At most this many dimensions, or volumes, are kept per text ("2 x 5 L and a 1 L bottle": two volumes).
MAX_SEVERAL = 3


def _measure(number: str) -> float:
    """A measure's number: a separator before exactly three digits groups thousands ("1.500 ml"), any other
    one is the decimal mark ("0,5 l", "1.25 l")."""
    head, sep, tail = number.replace(",", ".").partition(".")
    return float(head + tail) if sep and len(tail) == 3 else float(number.replace(",", "."))


#: Storage units ("go"/"to": French; "기가", "ギガ", "جيجا", "जीबी": giga in Korean, Japanese, Arabic,
#: Hindi), in ``_STORAGE`` and ``_RAM_STORAGE``; "to" before a number is the English word ("1 to 2 years",
#: "2 to 3 tickets").
_STORAGE_UNIT = (
    r"(gb|go|g|tb|to(?!\s?\d)|гб|тб|гиг|기가|테라|ギガ|テラ|جيجا|جيقا|قيقا|غيغا|تيرا|जीबी|टीबी)(?![a-zа-я])"
)
#: Words that make a size memory (RAM), not storage: after the size ("16GB RAM", "16G内存", "16GB रैम")
#: or before it ("RAM 16GB", "内存16G", "메모리 16기가", "ОЗУ 16 ГБ"). ``_RAM_MAYBE`` words name a phone's
#: storage too ("256G内存"), so they make memory only of the sizes laptops and phones have RAM of
#: (``_RAM_ONLY``). Tuning sets (non-English top-1 / top-5): tune .918 / .987 unchanged, tune2 .865 / .968 ->
#: .870 / .973, tune3 .889 / .983 -> .896 / .988, tune4 .804 / .961 -> .806 / .964 (with the processor
#: numbers of ``_RAM_STORAGE`` and Indian grouping in ``patterns.NUM``); no buyer lost its match.
_RAM_WORDS = (
    r"ram|memoria ram|arbeitsspeicher|оперативн\w*|оперативк\w*|озу|运行内存|运存|メモリ|램|रैम|रेम|رام"
)
_RAM_MAYBE = r"内存|메모리"
_STORAGE = re.compile(
    r"(?<![\d.])(\d{1,4})\s?"
    + _STORAGE_UNIT
    + rf"(?P<ram>\s?(?:de\s|di\s|of\s)?(?:{_RAM_WORDS}|(?P<maybe>{_RAM_MAYBE})))?"
)
_RAM_BEFORE = re.compile(
    rf"(?<![a-zа-я])(?:{_RAM_WORDS}|(?P<maybe>{_RAM_MAYBE}))\s?[:：]?\s?(\d{{1,2}})\s?" + _STORAGE_UNIT
)
_STORAGE_OK = {"gb": {8, 16, 32, 64, 128, 256, 512, 1024}, "tb": {1, 2, 4, 8}}
#: A phone's memory and storage written as one pair: "16GB/256GB", "8/128 GB", "12+256G" (RAM first); not
#: from a processor's number ("i7/16G/512G" is an i7, 16 GB and 512 GB).
_RAM_STORAGE = re.compile(r"(?<![\d.a-z])(\d{1,2})\s?(?:gb|go|g|гб)?\s?[/+]\s?(\d{1,4})\s?" + _STORAGE_UNIT)
_RAM_OK = {2, 3, 4, 6, 8, 12, 16, 18, 24, 32, 64}
_RAM_ONLY = _RAM_OK - {64}
#: The same pair without a unit ("8/256", "bản 12/512"): only storage sizes no date or fraction has.
#: Tuning sets (non-English top-1): tune .918 -> .918, tune2 .862 -> .865, tune3 .889 -> .891; no buyer lost
#: its match.
_RAM_STORAGE_BARE = re.compile(r"(?<![\d./,])(\d{1,2})\s?[/+]\s?(64|128|256|512)(?![\d/%]|[.,]\d)")
_TERABYTES = ("tb", "to", "тб", "테라", "テラ", "تيرا", "टीबी")


def _read_several(
    t: str, rx: re.Pattern[str], read: Callable[[re.Match[str]], str | None], key: str, ex: Extraction
) -> str:
    """Put the distinct values ``read`` gives for the matches of ``rx`` (at most ``MAX_SEVERAL``) into
    ``key``, comma-separated ("60x200,160x200": an object's several sizes are no contradiction); every match
    is blanked."""
    values: list[str] = []
    for m in rx.finditer(t):
        value = read(m)
        if value is not None and value not in values and len(values) < MAX_SEVERAL:
            values.append(value)
        t = blank(t, m.start(), m.end())
    if values:
        ex.attributes[key] = ",".join(values)
    return t


#: The unit after dimensions that is not centimetres, and what it is in them ("1.8x2米", "600x400 mm").
_DIMENSION_UNIT = re.compile(r"\s?(?:(mm|мм)|(m|米|м|metros?|meters?|metres?))(?![a-zа-я])")


def _dimensions(m: re.Match[str]) -> str:
    """Two sides, the shorter first, in centimetres when the text gives metres or millimetres (else as
    written): "1.8x2米" and "180x200 cm" are one bed."""
    a, b = sorted(float(g.replace(",", ".")) for g in m.groups())
    unit = _DIMENSION_UNIT.match(m.string, m.end())
    if unit is not None:
        scale = 0.1 if unit.group(1) else 100.0
        a, b = round(a * scale, 1), round(b * scale, 1)
    return f"{a:g}x{b:g}"


def _litres(m: re.Match[str]) -> str | None:
    litres = _measure(m.group(1)) / (1000 if m.group("ml") else 1)
    return f"{litres:g}l" if litres > 0 else None


def _memory_size(value: int, maybe: bool) -> bool:
    """A size RAM comes in; after a word that also names storage (``_RAM_MAYBE``), only a laptop's or a
    phone's memory size."""
    return value in (_RAM_ONLY if maybe else _RAM_OK)


def _read_pair(t: str, m: re.Match[str], tera: bool, ex: Extraction) -> str:
    """A memory/storage pair (groups 1 and 2 of ``m``, the storage in terabytes if ``tera``): put and blanked
    when both are sizes of their kind and the storage is the larger, else left for the single sizes."""
    unit = "tb" if tera else "gb"
    ram, storage = int(m.group(1)), int(m.group(2))
    if ram in _RAM_OK and storage in _STORAGE_OK[unit] and (unit == "tb" or storage > ram):
        ex.put("ram", f"{ram}GB")
        ex.put("storage", f"{storage}{unit.upper()}")
        return blank(t, m.start(), m.end())
    return t


def read_measures(t: str, cased: str | None, rx: Patterns, ex: Extraction) -> str:
    """Put the sizes and measures of the normalised text ``t`` into ``ex``; returns ``t`` with them blanked.
    ``cased`` is the text before lower-casing when every character kept its place (a capital letter size),
    else None."""
    t = read_bedrooms(t, ex)
    for m in _TIRE_SIZE.finditer(t):
        rim = m.group(3).upper().replace("-", "R").replace("Р", "R")  # Cyrillic "р16" too
        ex.put("size", f"{m.group(1)}/{m.group(2)}{rim}{m.group(4)}")
        t = blank(t, m.start(), m.end())
    for m in _TIRE_SIZE_BARE.finditer(t):
        ex.put("size", f"{m.group(1)}/{m.group(2)}R{m.group(3)}")
        t = blank(t, m.start(), m.end())
    for m in _INSTRUMENT_SIZE.finditer(t):
        ex.put("size", m.group("frac").replace(" ", ""))
        t = blank(t, m.start("frac"), m.end("frac"))
    for lrx in (rx.labelled_size, rx.size_after, _SIZE_SUFFIX_CJK):
        if lrx is None:
            continue
        for m in lrx.finditer(t):
            if (size := _size_value(m.group(1))) is not None:
                ex.put("size", size)
            t = blank(t, m.start(), m.end())
    if cased is not None:
        for m in _BARE_SIZE.finditer(cased):
            if t[m.start() : m.end()] == m.group(0).lower():  # not read as something else already
                ex.put("size", m.group(1))
                t = blank(t, m.start(), m.end())
    t = _read_several(t, _DIMENSIONS, _dimensions, "dimensions", ex)
    for prx, needs_metal, suffix in _PURITY:
        for m in prx.finditer(t):
            if not needs_metal or _by_metal(t, m):
                ex.put("purity", m.group(1) + suffix)
                t = blank(t, m.start(), m.end())
    for m in _WEIGHT.finditer(t):
        ex.put("weight", f"{float(m.group(1).replace(',', '.')):g}kg")
        t = blank(t, m.start(), m.end())
    for m in _LENGTH.finditer(t):
        ex.put("length", f"{round(float(m.group(1).replace(',', '.')) * 100)}cm")
        t = blank(t, m.start(), m.end())
    for m in _LENGTH_CM.finditer(t):  # the first one; an object's other sides are no contradiction
        ex.attributes.setdefault("length", f"{round(float(m.group(1).replace(',', '.')))}cm")
        t = blank(t, m.start(), m.end())
    t = _read_several(t, _VOLUME, _litres, "volume", ex)
    for m in _CAPACITY.finditer(t):
        ex.put("capacity", f"{int(m.group(1))}Ah")
        t = blank(t, m.start(), m.end())
    for m in _RAM_STORAGE.finditer(t):
        t = _read_pair(t, m, m.group(3) in _TERABYTES, ex)
    if "storage" not in ex.attributes:
        for m in _RAM_STORAGE_BARE.finditer(t):
            t = _read_pair(t, m, False, ex)
    for m in _RAM_BEFORE.finditer(t):
        if m.group(3) not in _TERABYTES and _memory_size(int(m.group(2)), bool(m.group("maybe"))):
            ex.put("ram", f"{int(m.group(2))}GB")
            t = blank(t, m.start(), m.end())
    sizes = list(_STORAGE.finditer(t))
    # two sizes and no word for either: the smaller, if RAM comes in it, is the memory ("8GB 256GB")
    first_is_memory = (
        len(sizes) == 2
        and not any(m.group("ram") for m in sizes)
        and sizes[0].group(2) not in _TERABYTES
        and int(sizes[0].group(1)) in _RAM_ONLY
        and (sizes[1].group(2) in _TERABYTES or int(sizes[1].group(1)) > int(sizes[0].group(1)))
        and "ram" not in ex.attributes
    )
    for n, m in enumerate(sizes):
        unit = "tb" if m.group(2) in _TERABYTES else "gb"
        value = int(m.group(1))
        memory = bool(m.group("ram")) and unit == "gb" and _memory_size(value, bool(m.group("maybe")))
        memory = memory or (first_is_memory and n == 0)
        if not memory and value not in _STORAGE_OK[unit]:
            continue
        ex.put("ram" if memory else "storage", f"{value}{unit.upper()}")
        t = blank(t, m.start(), m.end())
    if rx.screen is not None:
        for m in rx.screen.finditer(t):
            ex.put("screen", f"{m.group(1)}in")
            t = blank(t, m.start(), m.end())
    return t
