"""Limits the price patterns cannot read: a bound cue ("max", "at least", "budget") before or after an amount
written without digits or without a currency ("fifty dollars max", "до пяти тысяч", "my budget is around
500"). Such a limit is private all the same: the extractor sets ``Extraction.limit_in_words``, and
``published.published_text`` takes a number out with its cue or publishes no free text at all.
"""

from __future__ import annotations

import re
from functools import cache

from matching.extraction import Extraction
from matching.lexicon import LETTER, pattern
from matching.numerals import is_year, parse_number
from matching.patterns import Patterns
from matching.spelled import big_multipliers

#: Numbers left over after the price patterns that are checked for a limit, at most (bounds the work).
MAX_LIMIT_NUMBERS = 32

#: A word right after a number ("4 tires", "2 hundred books").
WORD_AFTER = re.compile(rf"\s+(?:{LETTER}){{2,}}")

#: A number left over after the price patterns: digits with no letter, slash or percent sign touching them;
#: thousands grouped by spaces are one number ("15 000", "1 200": the one a question or a warning names).
LEFT_NUMBER = re.compile(r"(?<![\w/.,\-])(\d{1,3}(?: \d{3})+(?![\d.,]?\d)|\d+(?:[.,]\d+)?)(?![\w/%])")


#: Below this, a number right after a bound cue with a word after it counts things ("max 4 tires", "bis zu 4
#: Reifen"); from it, it is money ("up to 300 cash"). No tuning side has a bound price below it.
MIN_BOUND_PRICE = 10


def counts_things(rx: Patterns, text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]``, read after a bound cue without a currency, counts things: a
    counter or a unit follows it ("最多3把椅子", "tối đa 3 cái", "max 3 hours"), or a word that is no
    negotiable word follows a number below ``MIN_BOUND_PRICE`` ("max 4 tires", not "max 5 obo")."""
    if rx.qty_counter is not None and rx.qty_counter.match(text, start):
        return True
    if rx.unit.match(text, end):
        return True
    value = parse_number(text[start:end])
    if value is None or value >= MIN_BOUND_PRICE:
        return False
    if rx.bare_negotiable is not None and rx.bare_negotiable.match(text, start):
        return False
    return WORD_AFTER.match(text, end) is not None


def counted_after_bound(rx: Patterns, text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]`` comes right after a bound cue and counts things
    (``counts_things``: "max 4 tires", "bis zu 4 Reifen"): no limit, though a cue and a word precede it."""
    cues = (rx.before.get("max"), rx.before.get("min"))
    window = text[max(0, start - 28) : start]
    return any(c is not None and c.search(window) for c in cues) and counts_things(rx, text, start, end)


def loose_numbers(rx: Patterns, text: str) -> list[re.Match[str]]:
    """The numbers left over in ``text`` that may be money or a count: 2 or more, not a year, no unit after
    them ("3 years", "50 km"); at most ``MAX_LIMIT_NUMBERS`` looked at."""
    out = []
    for n in list(LEFT_NUMBER.finditer(text))[:MAX_LIMIT_NUMBERS]:
        value = parse_number(n.group(1))
        if value is not None and value >= 2 and not is_year(value) and not rx.unit.match(text, n.end()):
            out.append(n)
    return out


def limit_without_currency(rx: Patterns, text: str, ex: Extraction) -> None:
    """A bound with no currency the price patterns could not read: a word for hundreds or more with no digits
    ("до пяти тысяч", "up to a few thousand") or a number ("my budget is around 500") after a bound cue in its
    clause. A private limit all the same: ``limit_in_words`` is set, so it is never published."""
    found: list[re.Match[str]] = [
        m
        for m in _big_words(ex.langs or ()).finditer(text)
        if not re.search(r"\d", text[max(0, m.start() - 3) : m.end() + 3])
    ]
    found += loose_numbers(rx, text)  # not a year: "2015'e kadar model" (a model up to 2015)
    for m in found:
        if m.re is LEFT_NUMBER and counted_after_bound(rx, text, m.start(), m.end()):
            continue  # "bis zu 4 Reifen": four tyres at most
        if limit_in_words(text, m.start(), m.end(), ex.langs):
            word = m.group(0)
            ex.limit_in_words = word
            ex.warnings.append(
                f"a limit in words ({word}) that can't be read: write it in digits, e.g. '80 {word}'"
                if m.re is not LEFT_NUMBER
                else f"a limit ({word}) that can't be read: write it with its currency, e.g. 'max {word} USD'"
            )
            if "price" not in ex.uncertain:
                ex.uncertain.append("price")
            return


@cache
def _big_words(langs: tuple[str, ...]) -> re.Pattern[str]:
    """A word for a hundred or more of ``langs`` (``numerals.big_multipliers``), standing alone."""
    alts = [a for lang in langs for a in big_multipliers(lang)] or ["(?!x)x"]
    return re.compile(rf"(?<!{LETTER})(?:{'|'.join(alts)})(?!{LETTER})")


#: Words between a bound cue and the currency it bounds in a limit written in words ("máximo cincuenta", "до
#: пяти тысяч", "at most two hundred and fifty"), at most.
MAX_LIMIT_WORDS = 5


def limit_cue_after(langs: tuple[str, ...]) -> re.Pattern[str] | None:
    """A bound cue of ``langs`` right after an amount ("tops", "max", "以内"), with punctuation before it."""
    return _limit_cues(langs)[1]


@cache
def _limit_cues(langs: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """The bound cues of ``langs`` as a cue before a currency word with only words between, and as one right
    after it (``limit_in_words``)."""
    before = [p.pattern for k in ("max", "min") if (p := pattern(f"price.{k}_before", langs)) is not None]
    after = [p.pattern for k in ("max", "min") if (p := pattern(f"price.{k}_after", langs)) is not None]
    words = rf"(?:[^\W\d]+[^\w\d]+){{1,{MAX_LIMIT_WORDS}}}"
    return (
        re.compile(rf"(?:{'|'.join(before)})[^\w\d]+{words}$") if before else None,
        re.compile(rf"[^\w\d]{{0,3}}(?:{'|'.join(after)})") if after else None,
    )


def limit_in_words(text: str, start: int, end: int, langs: tuple[str, ...]) -> bool:
    """Whether the amount at ``text[start:end]`` (a currency word, a word for thousands, or a number the price
    patterns did not read) ends a bound they could not read ("fifty dollars max", "máximo cincuenta dólares",
    "my budget is around 500"): a private limit, which must not be published as written
    (``published.published_text``)."""
    before, after = _limit_cues(langs)
    clause = re.split(r"[,;.!?¿¡:，。；！？、\n]", text[max(0, start - 80) : start])[-1]
    return bool(
        (before is not None and before.search(clause)) or (after is not None and after.match(text, end))
    )
