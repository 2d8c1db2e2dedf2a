"""The published text: the privacy rules for what an intent publishes as free text (one place).

What the user marks private never reaches the wire: a price bound ("máximo 70 dólares", "at least $50")
is the human's private limit, and a limit set beside the text (``--limit``) is private too. The text an
intent publishes is the user's text with every price mention removed, with the bound words before it
("máximo", "at least") and the short basis words after it ("cada una", "each"); the price itself travels
in the intent's structured ``price`` field when it is public. If any money, or any private amount in any
written form, could still be read in what is left, no free text is published at all (the caller then
publishes the canonical rendering or nothing). A phone number, e-mail address or link the human wrote is
published as written, with a warning (``matching.contacts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from matching.contacts import find_contacts
from matching.extract import MAX_EXTRACT_CHARS, extract, normalise
from matching.extraction import Extraction
from matching.lang import detect_language
from matching.lexicon import WORD, fold
from matching.limit_words import LEFT_NUMBER, limit_cue_after
from matching.numerals import number_forms, parse_number
from wire.limits import MAX_TEXT_LEN

#: Price mentions removed from one text; a text with more is not published as free text.
MAX_PRICE_MENTIONS = 8
#: Words before a price that are searched for its bound cue ("no more than", "como mucho").
MAX_CUE_WORDS = 4
#: What follows a price in its clause and is dropped with it when this short ("each", "cada una").
MAX_TAIL_CHARS = 24
_CLAUSE_END = re.compile(r"[,;.!?¿¡:，。；！？、\n]")
#: Separators inside a sentence, and sentence ends (Latin, CJK, Arabic), for the tidying below.
_SEP = ",;:，；、،؛"
_END = ".!?。！？"
_SPACE_BEFORE_PUNCT = re.compile(rf"\s+([{_SEP}{_END}])")
_REPEATED_SEPARATORS = re.compile(rf"([{_SEP}])(?:\s*[{_SEP}])+")
#: A comma or the like next to a sentence end, left where a price was cut out ("bakımlı., Çankaya").
_SEPARATOR_AT_END = re.compile(rf"[{_SEP}]\s*([{_END}])|([{_END}])\s*[{_SEP}]")
_EDGE_SEPARATORS = re.compile(rf"^[\s{_SEP}.-]+|[\s{_SEP}-]+$")


def published_text(
    text: str,
    *,
    private: Sequence[float] = (),
    default_currency: str | None = None,
    reading: tuple[str | None, Extraction] | None = None,
) -> tuple[str | None, list[str]]:
    """The free text an intent may publish for ``text``, and warnings for the human.

    Args:
        text: what the human wrote.
        private: private amounts set beside the text (major units, e.g. a ``--limit``); they must not
            appear in the published text in any written form.
        default_currency: as for ``understand`` (what a bare "$" or a bare amount means).
        reading: ``(lang, extract(text, default_currency, lang))`` when the caller has it (``understand``):
            reused for the first pass when it is the very reading this function would make (the same text
            after the digit rewriting, and ``lang`` the language the extractor detects in it), else ignored.

    Returns:
        ``(published, warnings)``: the text without price mentions, bound words and private amounts, at
        most ``MAX_TEXT_LEN`` characters; or None when that can't be done safely (the warning says so).
    """
    # the numbers in the extractor's one form first (``number_forms``: "٧٥٠ ليرة" -> "750 ليرة",
    # "1万5千円" -> "15000円"), as the extractor reports price mentions: one it can't locate costs the text
    out = number_forms(" ".join(text.split()))
    amounts = [float(a) for a in private]
    refused = "the text is not published (it names a price we could not take out safely); the intent "
    checked = ""  # the last text the extractor found no price in
    read = None
    for n in range(MAX_PRICE_MENTIONS):
        if n == 0 and reading is not None and _same_reading(out, text, reading[0]):
            read = reading[1]
        else:
            read = extract(out, default_currency)
        price = read.price
        # a number after a bound cue the price patterns could not read ("budget is around 500"): a limit,
        # taken out with its cue like a price mention
        limit = (
            read.limit_in_words
            if price is None and LEFT_NUMBER.fullmatch(read.limit_in_words or "")
            else None
        )
        if price is None and limit is None:
            checked = out
            break
        if price is None or price.bound is not None:
            amounts.append(price.amount if price is not None else parse_number(str(limit)) or 0.0)
        mention = price.text if price is not None else _with_cue_after(out, str(limit), read.langs)
        cut = _without_price(out, mention, default_currency, read.langs)
        if cut is None:
            return None, [refused + "carries its category and attributes only"]
        out = _tidy(cut)
    else:
        return None, [refused + "carries its category and attributes only"]
    out = _tidy(out)
    warnings: list[str] = []
    if len(out) > MAX_TEXT_LEN:
        out = out[:MAX_TEXT_LEN]
        warnings.append(
            f"text longer than {MAX_TEXT_LEN} characters; the intent keeps the first {MAX_TEXT_LEN}"
        )
    if not any(ch.isalpha() for ch in out):
        return None, []
    # tidying and cutting rarely change what the extractor reads, but a cut can leave a bare amount: check
    # again unless the text is the one just found price-free
    final = read if out == checked and read is not None else extract(out, default_currency)
    # a limit written in words ("fifty dollars max") can't be taken out: it is private all the same
    if (
        final.price is not None
        or final.limit_in_words is not None
        or any(_amount_pattern(a).search(out) for a in amounts)
    ):
        return None, [refused + "carries its category and attributes only"]
    kinds = sorted({kind for _, _, kind in find_contacts(out.lower())})
    if kinds:
        named = " and ".join(_CONTACT_NAMES[k] for k in kinds)
        warnings.append(f"the text has {named}: it is published with the intent, for anyone to read")
    return out, warnings


_CONTACT_NAMES = {"email": "an e-mail address", "link": "a link", "phone": "a phone number"}


def _same_reading(out: str, text: str, lang: str | None) -> bool:
    """Whether ``extract(out, c)`` reads what ``extract(text, c, lang)`` read: the same string, and ``lang``
    the language ``extract`` would detect in it."""
    return out == text and detect_language(normalise(out[:MAX_EXTRACT_CHARS]))[0] == lang


def _without_price(text: str, found: str, default_currency: str | None, langs: tuple[str, ...]) -> str | None:
    """``text`` without one price mention (``found``, as the extractor reports it, lower case), its bound
    words and its short basis words; None if the mention can't be located. ``langs``: the languages the
    extractor read ``text`` in; the cue words are read in them (a few words alone, "autour de" or "budget
    maks", are too short to tell their language)."""
    low, back = _lowered(text)
    at = low.find(found) if found else -1
    if at < 0:
        return None
    start, end = back[at], back[at + len(found) - 1] + 1
    before = text[:start]
    # The bound cue: the fewest last words before the price that the extractor reads as a bound on
    # their own, and without which it reads none.
    words = list(WORD.finditer(before))[-MAX_CUE_WORDS:]
    cut_from = start
    probe = _probe(default_currency)
    if _bound(before + probe, default_currency, langs) is not None:
        for w in reversed(words):
            cue_alone = _bound(text[w.start() : start] + probe, default_currency, langs) is not None
            if cue_alone and _bound(text[: w.start()] + probe, default_currency, langs) is None:
                cut_from = w.start()
                break
        else:
            return None
    # An Arabic "for" glued to the amount ("بـ 2000 ريال", "ب2000"): left alone it reads "... دراجة ب".
    if glued := _GLUED_FOR.search(text, 0, cut_from):
        cut_from = glued.start()
    # The basis words ("each", "cada una"): the short rest of the price's clause.
    stop = _CLAUSE_END.search(text, end)
    clause_end = stop.start() if stop else len(text)
    if clause_end - end <= MAX_TAIL_CHARS:
        end = clause_end
    # A lone label before the price in a later clause ("precio:", "价格") goes with it.
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, cut_from)), default=0)
    head = text[clause_start:cut_from]
    if clause_start > 0 and len(WORD.findall(head)) <= 1 and len(head.strip()) <= 12:
        cut_from = clause_start
    return text[:cut_from] + " " + text[end:]


#: A one-letter preposition written onto the amount after it: Arabic "ب" (for, at), with or without its
#: tatweel ("بـ"); it goes out with the price.
_GLUED_FOR = re.compile(r"(?<!\S)بـ?\s?$")


@cache
def _probe(default_currency: str | None) -> str:
    """A price of 1 in ``default_currency`` to put after a cue (``_without_price``), written so the extractor
    reads it as money with no words around it: the code, else US dollars where the code is no currency word
    ("TRY" is an English word, "LBP" none)."""
    code = default_currency or "USD"
    return f" 1 {code}" if extract(f"1 {code}", code).price is not None else " 1 USD"


def _bound(text: str, default_currency: str | None, langs: tuple[str, ...]) -> str | None:
    price = extract(text, default_currency, langs[0] if langs else None, langs[1:]).price
    return None if price is None else price.bound


def _with_cue_after(text: str, number: str, langs: tuple[str, ...]) -> str:
    """``number`` as found in ``text`` (lower case), with the bound cue right after it when one follows
    ("70 tops", "800 max"): the mention to take out."""
    low, _ = _lowered(text)
    at = low.find(number)
    cue = limit_cue_after(langs)
    m = cue.match(low, at + len(number)) if at >= 0 and cue is not None else None
    return low[at : m.end()] if m else number


def _lowered(text: str) -> tuple[str, list[int]]:
    """``text`` as the extractor reads its words (``lexicon.fold``: lower case, Turkish "İ" one "i", the
    optional Devanagari nukta left out: "हज़ार" is "हजार"), and for each of its characters the position it
    came from in ``text``."""
    low = text.lower()
    if len(low) == len(text) and not _FOLDED.search(text):
        return low, list(range(len(text)))
    parts = []
    for i, ch in enumerate(text):
        part = fold(ch) if _FOLDED.match(ch) else ch.lower()
        if ch == "\u093c" and i and fold(text[i - 1] + ch) == fold(text[i - 1]):
            part = ""  # the nukta of a borrowed sound, written as a sign of its own
        parts.append(part)
    return "".join(parts), [i for i, part in enumerate(parts) for _ in part]


#: Characters ``lexicon.fold`` reads otherwise than ``str.lower`` does: the Devanagari nukta and the letters
#: precomposed with it, and Turkish "İ".
_FOLDED = re.compile("[\u093c\u0958-\u095f\u0130]")


def _tidy(text: str) -> str:
    t = " ".join(text.split())
    t = _SPACE_BEFORE_PUNCT.sub(r"\1", t)
    t = _REPEATED_SEPARATORS.sub(r"\1", t)
    t = _SEPARATOR_AT_END.sub(lambda m: m.group(1) or m.group(2), t)
    return _EDGE_SEPARATORS.sub("", t)


def _amount_pattern(amount: float) -> re.Pattern[str]:
    """Every usual written form of an amount: 70, 70.00, 70,00, 1,200, 1.200, 1 200, and its minor
    units (7000)."""
    whole, cents = divmod(round(amount * 100), 100)
    digits = str(whole)
    groups = [digits[max(0, i - 3) : i] for i in range(len(digits), 0, -3)][::-1]
    grouped = r"[.,\s]?".join(groups)
    frac = rf"[.,]{cents:02d}" if cents else r"(?:[.,]0{1,2})?"
    forms = [grouped + frac, str(whole * 100 + cents)]
    return re.compile(r"(?<![\d.,])(?:" + "|".join(forms) + r")(?![\d]|[.,]\d)")
