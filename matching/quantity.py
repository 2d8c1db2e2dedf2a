"""Quantities: how many things a text offers or asks for ("set of 4", "4本", "a pair of", "4 tires"), and
the numbers that count nothing (a model's number, a date, a phone number, a size, a price beside it).
``matching.extract`` reads them after the price, on the text with the price and the measures blanked."""

from __future__ import annotations

import re
from functools import cache

from babel import UnknownLocaleError
from babel.dates import get_month_names

from matching.extraction import Extraction, blank
from matching.limit_words import counted_after_bound, limit_in_words
from matching.numerals import han_int, parse_number
from matching.patterns import Patterns

#: A number without a currency before a word for the whole lot is a price from this much ("180 for all");
#: below, a count ("tickets, 3 total").
MIN_BARE_TOTAL = 10
#: Bare numbers read as a possible price or quantity at most this many times per text (bounds the work).
MAX_NUMBERS = 32


def count_value(rx: Patterns, raw: str) -> int:
    """A count written in digits or as a number word of the scope ("four", "cuatro"); 0 if neither."""
    return int(raw) if raw.isdigit() else rx.numbers.get(raw, 0)


@cache
def month_names(langs: tuple[str, ...]) -> frozenset[str]:
    """Month names of ``langs``, lower case, whole and abbreviated (CLDR through babel): "12 Dec", "12
    दिसंबर", "12 Aralık" are dates, not twelve of something."""
    out: set[str] = set()
    for lang in langs:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                try:
                    names = [str(v) for v in get_month_names(width, context, locale=lang).values()]
                except (UnknownLocaleError, ValueError):  # a language babel does not know: none
                    names = []
                out |= {v.lower().rstrip(".") for v in names}
    return frozenset(out)


#: The Latin word right before a number ("Hero 11", "XPS 13", "PartyBox 110"), one space or hyphen between.
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z\d]*)[ \-]$")


def after_name(cased: str, at: int) -> bool:
    """True if the number at ``at`` of ``cased`` (the text before lower-casing) follows a name: a Latin word
    with a capital inside ("PartyBox", "XPS"), or a capitalised one that does not begin the text or a
    sentence ("GoPro Hero 11", not "Vendo 4 llantas" or "Hi! Selling 4 tires"): a model number, not a
    count."""
    m = _WORD_BEFORE.search(cased, max(0, at - 40), at)
    if m is None:
        return False
    word = m.group(1)
    if any(c.isupper() for c in word[1:]):
        return True
    before = cased[: m.start()].rstrip()
    return word[0].isupper() and before != "" and before[-1] not in ".!?:;\n"


def extract_quantity(rx: Patterns, text: str, ex: Extraction, cased: str | None = None) -> str:
    """Put the count the text ``text`` names into ``ex.quantity`` (a set, a counter, a pair, a number before a
    word); returns ``text`` with it blanked. ``cased``: the text before lower-casing, when every character
    kept its place (a model's number after a capitalised name is no count)."""
    if rx.qty_set is not None:
        for m in list(rx.qty_set.finditer(text))[:MAX_NUMBERS]:
            raw = next((g for g in m.groups() if g), None)
            if raw is None or not count_value(rx, raw):
                continue
            if _DIMENSION_BEFORE.search(text, max(0, m.start() - 12), m.start()) or rx.unit.match(
                text, m.end()
            ):
                continue  # "60 cm x 4 mm": a size, not four of them
            if rx.qty_times is not None and rx.qty_times.match(text, m.end()):
                continue  # "2x geimpft": twice
            ex.quantity = count_value(rx, raw)
            return blank(text, m.start(), m.end())
    if rx.qty_counter is not None:
        for m2 in rx.qty_counter.finditer(text):
            value = count_value(rx, m2.group("n")) or han_int(m2.group("n"))
            if 1 <= value <= 9999:
                ex.quantity = value
                _priced_each(rx, text, ex, m2.end("n"), m2.end())
                return blank(text, m2.start("n"), m2.end("n"))
    if rx.qty_pair is not None:
        for m3 in list(rx.qty_pair.finditer(text))[:MAX_NUMBERS]:
            if not _counts_no_thing(rx, text, m3.end()):  # "a couple of months", "пара царапин"
                # a pair of shoes is one thing (its price is the pair's), a pair of tickets two
                paired = rx.qty_paired is not None and rx.qty_paired.match(text, m3.end()) is not None
                ex.quantity = 1 if paired else 2
                return blank(text, m3.start(), m3.end())
    ranges = [m for m in rx.qty_range.finditer(text) if 0 < int(m.group("lo")) < int(m.group("n"))]
    for m4 in (ranges + list(rx.qty_word.finditer(text)))[:MAX_NUMBERS]:
        raw = m4.group("n")
        if _counts_no_thing(rx, text, m4.end("n")) or (len(raw) > 1 and raw.startswith("0")):
            continue  # "14.000 km", "2 small scratches"; "08 firmado" (a form's number: nobody counts 08)
        if rx.after_mult is not None and rx.after_mult.match(text, m4.end("n")):
            continue  # "80 mil km", "150 bin km", "120 ألف كم": a distance; "2 hundred books": no two
        start = m4.start()  # a range's lower end: what comes before it is before the count
        if cased is not None and after_name(cased, start):
            continue
        if price_beside(rx, text, m4.start("n")):
            continue  # "50 each", "180 for all": a price beside the one read first, no count
        if (
            raw.isdigit()
            and limit_in_words(text, m4.start("n"), m4.end("n"), ex.langs)
            and not counted_after_bound(rx, text, m4.start("n"), m4.end("n"))
        ):
            continue  # "my budget is around 500 and ...": a limit the price patterns could not read
        if m4.group("w") in month_names(ex.langs or ()):
            continue
        if rx.qty_not_after is not None and rx.qty_not_after.search(text, max(0, start - 24), start):
            continue  # "thứ bảy" (Saturday), "jam 7" (7 o'clock)
        if _PHONE_BEFORE.search(text, max(0, start - 16), start):
            continue  # the last group of a phone number ("0912 345 678")
        value = count_value(rx, raw)
        if not 1 <= value <= 999:
            continue
        ex.quantity = value  # of a range, its upper end: the most the human takes or offers
        ex.counted = (start, m4.start("w"), m4.end("w"))
        _priced_each(rx, text, ex, m4.start("w"), m4.end("w"))
        return blank(text, start, m4.end("n"))
    return text


#: A counted word is known by its first letters, all but its last two and at least this many ("jars": "jar").
MIN_STEM = 3


def _priced_each(rx: Patterns, text: str, ex: Extraction, start: int, end: int) -> None:
    """Mark ``ex.price`` a price each when the text, with no word for each or for all, prices each of the
    things the counted word ``text[start:end]`` names: "per" or "/" before it again ("20 jars, 12 € per jar",
    "3 cords, $250/cord", "2 cajas, 10 € la caja", "20 банок, 300 руб за банку")."""
    if ex.price is None or ex.price.per_unit is not None:
        return
    word = text[start:end].strip()
    if len(word) < 2:
        return
    stem = word[: max(MIN_STEM, len(word) - 2)]
    if any(m.group("w").startswith(stem) for m in rx.per_thing.finditer(text)):
        ex.price.per_unit = True


def _counts_no_thing(rx: Patterns, text: str, end: int) -> bool:
    """Whether the count ending at ``end`` is of a unit ("14.000 km", "2 years") or of flaws ("2 small
    scratches") rather than of the things a text offers or asks for."""
    return rx.unit.match(text, end) is not None or (
        rx.qty_flaw is not None and rx.qty_flaw.match(text, end) is not None
    )


def price_beside(rx: Patterns, text: str, at: int) -> bool:
    """Whether the number at ``at`` is a price for each or for all ("50 each", "180 for all")."""
    if rx.bare_each is not None and rx.bare_each.match(text, at):
        return True
    m = rx.bare_total.match(text, at) if rx.bare_total is not None else None
    return m is not None and (parse_number(m.group("num")) or 0) >= MIN_BARE_TOTAL


#: A number with a short unit or none right before a set's "x 4" ("60 cm x 4 mm", "80 x 4"): a size.
_DIMENSION_BEFORE = re.compile(r"\d\s?(?:[^\W\d]{1,3}\.?)?\s?$")


#: Two or more digit groups right before a number: it ends a phone number, it counts nothing.
_PHONE_BEFORE = re.compile(r"(?:\d{2,}[\s\-.]){2,}$")
