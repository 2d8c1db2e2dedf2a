"""The word tables of every supported language, loaded from ``data/lang/<code>.json`` (one file per language).

Each language file is the one source of truth for that language: detection hints, stopwords, demand and supply
cues, words that tell one thing's categories apart (``own`` and ``rent``, ``full_time`` and ``part_time``,
``seedling``, ``repair``, ``carry``, ``pet_care``, ``install``, ``rent_car``, ``for_pet``, ``pet_food``,
``car_state``, ``wheels``, ``ride_on``, ``bunk_bed``, ``fix_ask`` and the ``symptom`` it is heard after,
``car_part`` and the ``with`` it is heard before, ``serviced``, and ``relative``, the words after a comma that
keep a request's clause going: ``word_pairs``), currency words, number words and multipliers
(``counts_before_multipliers``: halves and case forms read only before a word for thousands, "डेढ़ लाख", "до
пяти тысяч"), price-bound words, conditions, seasons, colours, gender words, units, quantity patterns and size
labels (``size_labels`` before the size, ``size_labels_after`` after it: "Mサイズ", "42 numara"; the latter
are not wrapped, the size touches them).
``data/lang/common.json`` holds what belongs to no language (currency symbols, ISO codes, digits of other
scripts).

Entries are regex fragments matched on lower-cased NFC text. A file's ``boundary`` says how an entry is
delimited: ``word`` (no letter may touch either end), ``left`` (only the start: Korean particles attach to the
end of a word) or ``none`` (Chinese, Japanese). ``syllables: true`` says the language writes one word as
several space-separated syllables (Vietnamese "xe máy", motorbike; ``words.query_units``). ``compound_head:
"last"`` says a compound ends with its head ("dog food" is food; ``bank.glosses``). ``not_items`` lists
words (plain text, not patterns) that hold a bank phrase without naming its item (Vietnamese "ngân sách",
budget, holds "sách", books; "thang máy", a lift, holds "thang", a ladder; French "micro-rayures" holds
"micro"): the glossary reads no phrase inside one (``bank.glosses``; a hyphen there is a space). In
quantity-set patterns ``#`` stands for a number; after a word of ``quantity.not_after`` a number is no count
(Vietnamese "thứ bảy", Saturday; Indonesian "jam 7", 7 o'clock);
before a word of ``quantity.times_after`` a set's "2x" counts times (German "2x geimpft", vaccinated twice);
before a word of ``quantity.flaws`` (one word may come between) a number counts wear or damage, not things
("2 small scratches", "пара царапин"); after a pair word, a word of ``quantity.paired`` (three words may come
between) is a thing sold by the pair, one of it ("a pair of Nike running shoes"). ``swap`` says one thing is
offered for another ("Tausche PS5 gegen Switch"): the agent asks the side. ``seats_free`` (each entry a whole
phrase, its number written in digits) says a ride has free seats ("3 plazas", "còn 2 ghế"): a ride so
described is offered (``side``). A supply word after a word of ``anyone`` ("anyone", "alguém", "有人")
in a question is a demand word ("Anyone selling a PS5?": ``cues.asked_of_anyone``); a question with a word
of ``offer_question`` ("interested?") is a seller's to buyers and asks for nothing (``side``). ``status``
(each entry a ``supply`` entry too) says a thing is for sale or for rent ("à louer", "kiralık"): after a
demand cue it is the status of the thing wanted (``cues.wanted_status``). ``price.former_before`` and
``price.former_after`` mark a price as a former or a new one's ("was $200", "NP 400 €", "200 TL yerine"):
not the one asked.
``price.pay_before`` and ``price.pay_after`` say what a buyer will pay ("I'll pay", "zahle", "öderim"): a
maximum's words (``patterns.PAY_WORDS``), not read in a limit written in words.
``common.json``'s ``phone_cues`` are the words right before a phone number (``matching.contacts``).
``spelled`` holds what reads a number written out in words and chained ("dos mil quinientos": ``spelled``).
``price.label_units`` gives the unit a price label implies for a small bare amount (Korean "월세 50": 만원).
A word of ``price.per`` before the word a count counts prices each of them ("20 jars, 12 € per jar"); a word
of ``quantity.or`` (or of ``price.range_to``) between two numbers makes them one count, its upper end ("2 o 3
sillas"); a word of ``quantity.stock`` at or right after the counted word says how many of the thing there
are ("2 available", "2 Plätze frei"), not a part of it (``understand``). ``repair`` names a repair service at
the start of a text ("Riparazione TV", "Ремонт ноутбуков"): the repair, not the thing repaired
(``word_pairs.WORD_PAIRS``).

Tables are scoped: ``scope(lang)`` gives the languages whose tables apply to a text (its language plus
English, which leaks into every marketplace; every language when the language is unknown), so that a word of
one language ("hai": two in Vietnamese, "you have" in Italian) never fires in another.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

#: A letter of any supported script, including combining marks (Devanagari vowel signs, Arabic harakat).
LETTER = r"[^\W\d_]|[\u0300-\u036f\u0900-\u0963\u0971-\u097f\u064b-\u065f\u0670]"
#: A word: letters with their combining marks (``[^\W\d_]+`` alone cuts "किताबें" at its vowel signs).
WORD = re.compile(rf"(?:{LETTER})+")
#: Where a clause ends: a sentence mark or comma followed by a space (not "1.500" or "2,5jt"), CJK marks,
#: a line break, or a spaced dash/bar/slash.
CLAUSE_END = re.compile(r"[.!?;:](?:\s|$)|,\s|[。！？；，、\n]|\s[-–—|/]\s")
#: A kana, Han or Hangul character: scripts whose words are not delimited as Latin ones are (Chinese and
#: Japanese have no spaces; Korean glues endings on).
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
#: The nukta of a Devanagari letter for a borrowed sound (क़ ख़ ग़ ज़ फ़, after NFC a letter and the sign):
#: Hindi writers put it or leave it out ("हेडफ़ोन" and "हेडफोन", headphones; "साइज़" and "साइज", size), so
#: texts and every word list are read without it (``fold_nukta``). ड़ and ढ़ are other letters and keep it.
BORROWED_NUKTA_LETTERS = "\u0915\u0916\u0917\u091c\u092b"
_BORROWED_NUKTA = re.compile(f"([{BORROWED_NUKTA_LETTERS}])\u093c")


def fold_nukta(text: str) -> str:
    """``text`` (NFC) without the optional nukta of ``_BORROWED_NUKTA``."""
    return _BORROWED_NUKTA.sub(r"\1", text) if "\u093c" in text else text


def fold(text: str) -> str:
    """NFC, the optional nukta left out, lower case (Turkish dotted İ one character, "i"): how word lists are
    compared with a text's words (``extract.normalise`` adds its digits)."""
    return fold_nukta(unicodedata.normalize("NFC", text)).replace("İ", "i").lower()


def read_data(path: str) -> str:
    """A text file of the package (UTF-8), NFC and with the optional nukta left out, as texts are read."""
    raw = resources.files("matching").joinpath(path).read_text(encoding="utf-8")
    return fold_nukta(unicodedata.normalize("NFC", raw))


_BOUNDARIES = {
    "word": (rf"(?<!{LETTER})", rf"(?!{LETTER})"),
    "left": (rf"(?<!{LETTER})", ""),
    "none": ("", ""),
}


@cache
def languages() -> tuple[str, ...]:
    """Codes of every language with a table, English first."""
    root = resources.files("matching").joinpath("data/lang")
    codes = sorted(
        p.name[:-5] for p in root.iterdir() if p.name.endswith(".json") and p.name != "common.json"
    )
    return tuple(["en"] + [c for c in codes if c != "en"])


@cache
def table(lang: str) -> dict[str, Any]:
    """The parsed table of one language.

    Raises:
        KeyError: no table for ``lang``.
    """
    if lang not in languages():
        raise KeyError(lang)
    doc: dict[str, Any] = json.loads(read_data(f"data/lang/{lang}.json"))
    return doc


@cache
def common() -> dict[str, Any]:
    """The language-independent table."""
    doc: dict[str, Any] = json.loads(read_data("data/lang/common.json"))
    return doc


def scope(lang: str | None, also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The languages whose tables apply to a text in ``lang`` (plus ``also``); all if ``lang`` is unknown."""
    if lang is None or lang not in languages():
        return languages()
    out = [lang]
    for extra in (*also, "en"):
        if extra in languages() and extra not in out:
            out.append(extra)
    return tuple(out)


def field(lang: str, path: str) -> Any:
    """``table(lang)`` at a dotted ``path`` ("price.max_before"); an empty list when absent."""
    node: Any = table(lang)
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return []
        node = node[part]
    return node


def words(path: str, langs: tuple[str, ...]) -> list[str]:
    """The entries of a list field over ``langs`` (duplicates dropped, order kept)."""
    out: dict[str, None] = {}
    for lang in langs:
        for w in field(lang, path):
            out[str(w)] = None
    return list(out)


def mapping(path: str, langs: tuple[str, ...]) -> dict[str, Any]:
    """A dict field merged over ``langs`` (the first language wins on a clash)."""
    out: dict[str, Any] = {}
    for lang in langs:
        node = field(lang, path)
        if isinstance(node, dict):
            for k, v in node.items():
                out.setdefault(str(k), v)
    return out


def boundaries(lang: str) -> tuple[str, str]:
    """The language's ``boundary``: the patterns of what may not come before and after one of its words."""
    return _BOUNDARIES[str(table(lang).get("boundary", "word"))]


def wrap(entry: str, lang: str) -> str:
    """``entry`` delimited as the language's ``boundary`` says."""
    left, right = boundaries(lang)
    return f"{left}(?:{entry}){right}"


def literal_trie(words: Iterable[str]) -> str:
    """One pattern matching any of the literal ``words``, their common prefixes shared ("sam(?:sonite|sung)"),
    a longer word tried before a word it extends, as an alternation sorted longest first would. The engine
    then reads each character of the text once per start instead of once per word: 1,420 brand spellings
    as one plain alternation took 5.6 ms per 155-character ad."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


#: A lookbehind or lookahead of an entry ("(?<!nhân viên )bán"): it matches no text, so makes no entry longer.
_LOOKAROUND = re.compile(r"\(\?<?[=!][^()]*\)")


@cache
def pattern(path: str, langs: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled alternation of the entries at ``path`` over ``langs``, longest first (by what they match:
    ``_LOOKAROUND`` left out); None if empty."""
    parts: list[tuple[int, str]] = []
    seen: set[str] = set()
    for lang in langs:
        for entry in field(lang, path):
            w = wrap(str(entry), lang)
            if w not in seen:
                seen.add(w)
                parts.append((len(_LOOKAROUND.sub("", str(entry))), w))
    if not parts:
        return None
    parts.sort(key=lambda p: -p[0])
    return re.compile("|".join(w for _, w in parts))


@cache
def tagged(path: str, langs: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """For list fields of ``[regex, value]`` pairs (currencies): one pattern per pair, longest first."""
    out: list[tuple[int, re.Pattern[str], str]] = []
    for lang in langs:
        for entry, value in field(lang, path):
            out.append((len(entry), re.compile(wrap(entry, lang)), str(value)))
    out.sort(key=lambda t: -t[0])
    return tuple((rx, v) for _, rx, v in out)


@cache
def multipliers(langs: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """``(regex, factor)`` of the number multipliers ("mil", "triệu", "万") over ``langs``, longest first."""
    out: dict[str, float] = {}
    for lang in langs:
        node = field(lang, "multipliers")
        if isinstance(node, dict):
            for k, v in node.items():
                out.setdefault(str(k), float(v))
    return tuple(sorted(out.items(), key=lambda kv: -len(kv[0])))


@cache
def number_words(langs: tuple[str, ...]) -> dict[str, int]:
    """Number words ("four", "cuatro", "bốn") over ``langs``."""
    return {k: int(v) for k, v in mapping("numbers", langs).items()}


@cache
def digit_table() -> dict[int, str]:
    """``str.translate`` table: digits of other scripts and their separators -> ASCII."""
    out: dict[int, str] = {}
    for digits in common()["digits"]:
        for i, ch in enumerate(digits):
            out[ord(ch)] = str(i)
    for ch, rep in common()["separators"].items():
        out[ord(ch)] = rep
    return out
