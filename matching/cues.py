"""Lexical cues: words that say "I want" (demand) or "I have" (supply), service hints, and stopwords.

The words live in ``data/lang/<code>.json`` (``demand``, ``supply``, ``offers_work``, ``status``,
``job_seeker``, ``service_hint``, ``stopwords``); this module applies them. When cues overlap, the longest
one wins: "cần bán" (Vietnamese "need to sell") is supply although "cần" alone is demand; "谁卖" (who sells)
is demand although "卖" is supply.

Demand -> BUY (goods) or SEEK_SERVICE (service categories); supply -> SELL or OFFER_SERVICE.
"""

from __future__ import annotations

import re
from functools import cache

from matching.lexicon import languages, pattern, words

SERVICE_CATEGORY_PREFIXES = ("services/", "jobs/", "transport/courier", "transport/rideshare")


#: Languages whose verb ends the clause: a demand verb after "kiralık" (for rent) governs it ("kiralık daire
#: arıyorum", a flat for rent wanted) though the status comes first.
VERB_FINAL = frozenset({"tr", "ja", "ko", "hi"})

Cue = tuple[int, int, str, str]  # start, end, "demand" or "supply", the matched string
#: The tables' word lists read as cues, and the kind each gives. ``offers_work``: a first-person verb of
#: someone's work ("reparo", "ich putze", "je garde", "I babysit") offers it, and, unlike a ``supply`` word
#: ("vendo", "biete"), also names it: it is a service hint and stays in the item's words (``strip_cues``
#: leaves it), where "Ich putze Wohnungen" without "putze" is a flat.
CUE_LISTS = (("demand", "demand"), ("supply", "supply"), ("offers_work", "supply"))


def cue_spans(text: str, langs: tuple[str, ...] | None = None) -> list[Cue]:
    """Every demand and supply cue in lower-cased ``text``, in text order (overlaps: longest wins); a supply
    cue that a question asks of anyone is a demand cue ("Anyone selling a PS5?": ``asked_of_anyone``).

    Args:
        text: lower-cased text.
        langs: the languages whose cues apply (``lexicon.scope``); every language when None.
    """
    langs = langs or languages()
    spans: list[Cue] = []
    for path, kind in CUE_LISTS:
        rx = pattern(path, langs)
        if rx is None:
            continue
        pos = 0
        while pos <= len(text):
            m = rx.search(text, pos)
            if m is None:
                break
            if m.end() > m.start():
                spans.append((m.start(), m.end(), kind, m.group(0)))
                pos = m.end()
            else:
                pos = m.start() + 1
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    kept: list[Cue] = []
    for s in spans:
        if all(s[1] <= k[0] or s[0] >= k[1] for k in kept):
            kept.append(s)
    kept.sort(key=lambda s: s[0])
    return asked_of_anyone(text, kept, langs)


#: A sentence's end: a question mark (Latin, full-width, Arabic), a full stop or an exclamation mark that no
#: digit touches ("1.500 ₽" is one number), a line break.
SENTENCE_END = re.compile(r"[?？؟\n]|(?<!\d)[.!。！](?!\d)")
QUESTION_MARKS = frozenset("?？؟")


def asks(text: str) -> bool:
    """True if ``text`` asks a question (a question mark anywhere)."""
    return any(c in QUESTION_MARKS for c in text)


def asked_of_anyone(text: str, cues: list[Cue], langs: tuple[str, ...] | None = None) -> list[Cue]:
    """``cues`` with every supply cue that a question asks of anyone turned to demand: after a word of the
    tables' ``anyone`` in a sentence ending with a question mark ("Anyone giving away olive wood?",
    "Alguém vendendo 2 ingressos ...?", "有人转让...吗？", "कोई ... बेच रहा है क्या?", "Ada yang mau
    lepas ...?"): the asker wants what someone else sells. A seller's own question after the sale ("Vendo
    bici, ¿alguien interesado?") keeps the sale: the word comes after the cue."""
    rx = pattern("anyone", langs or languages())
    if rx is None or not asks(text) or not any(c[2] == "supply" for c in cues):
        return cues
    asked: list[tuple[int, int]] = []  # the questions' starts and ends
    start = 0
    for m in SENTENCE_END.finditer(text):
        if m.group(0) in QUESTION_MARKS:
            asked.append((start, m.start()))
        start = m.end()
    out: list[Cue] = []
    for c in cues:
        if c[2] == "supply" and any(a <= c[0] and rx.search(text, a, c[0]) for a, b in asked if c[1] <= b):
            c = (c[0], c[1], "demand", c[3])
        out.append(c)
    return out


def by_kind(cues: list[Cue]) -> tuple[list[str], list[str]]:
    """``(demand, supply)``: the strings of ``cues``, each kind in text order."""
    return [c[3] for c in cues if c[2] == "demand"], [c[3] for c in cues if c[2] == "supply"]


def cue_matches(text: str, langs: tuple[str, ...] | None = None) -> tuple[list[str], list[str]]:
    """``by_kind`` of ``cue_spans``: the demand and the supply cue strings of ``text``."""
    return by_kind(cue_spans(text, langs))


def wanted_status(cues: list[Cue], langs: tuple[str, ...] | None = None, lang: str | None = None) -> bool:
    """True if the supply cues of ``cues`` only say a thing is for sale or for rent (the tables' ``status``:
    "à louer", "in affitto", "kiralık", "出租") and a demand cue governs them: the text's first cue is a
    demand ("Cherche appartement à louer"), or, in a ``VERB_FINAL`` language, its last ("kiralık daire
    arıyorum"). A status that opens the text is a seller's headline ("Dijual krayon ... salah beli")."""
    rx = pattern("status", langs or languages())
    supply = by_kind(cues)[1]
    if rx is None or not supply or not all(rx.fullmatch(s) for s in supply):
        return False
    governing = cues[-1] if lang in VERB_FINAL else cues[0]
    return governing[2] == "demand"


def strip_cues(text: str, langs: tuple[str, ...] | None = None) -> str:
    """``text`` with every ``demand`` and ``supply`` phrase blanked (the remaining words describe the item;
    an ``offers_work`` verb names the service and stays)."""
    langs = langs or languages()
    for kind in ("demand", "supply"):
        rx = pattern(kind, langs)
        if rx is not None:
            text = rx.sub(lambda m: " " * len(m.group(0)), text)
    return text


def speaks(text: str, kind: str, langs: tuple[str, ...] | None = None) -> bool:
    """True if lower-cased ``text`` has a word of the tables' list ``kind`` in ``langs`` (all when None)."""
    rx = pattern(kind, langs or languages())
    return bool(rx and rx.search(text))


def job_seeker(text: str, langs: tuple[str, ...] | None = None) -> bool:
    """True if lower-cased ``text`` says "looking for a job" (in a job or a service, that offers the work)."""
    return speaks(text, "job_seeker", langs)


def service_hint(text: str, langs: tuple[str, ...] | None = None) -> bool:
    """True if lower-cased ``text`` asks for a person's work ("someone to ...") or offers it ("reparo")."""
    return speaks(text, "service_hint", langs) or speaks(text, "offers_work", langs)


def said(text: str, kinds: tuple[str, ...], langs: tuple[str, ...] | None = None) -> str | None:
    """Which one of the word lists ``kinds`` of the tables lower-cased ``text`` speaks with, if only one:
    ``("own", "rent")`` tells buying or selling outright ("mua", "satılık") from renting ("thuê", "kiralık"),
    ``("full_time", "part_time")`` a job's hours, ``("seedling",)`` a young plant; None when none or more
    than one (``word_pairs.WORD_PAIRS``)."""
    found = [k for k in kinds if speaks(text, k, langs)]
    return found[0] if len(found) == 1 else None


@cache
def stopwords(langs: tuple[str, ...] | None = None) -> frozenset[str]:
    """The stopwords of ``langs`` (all languages when None)."""
    return frozenset(words("stopwords", langs or languages()))


def is_service_category(code: str) -> bool:
    return code.startswith(SERVICE_CATEGORY_PREFIXES)
