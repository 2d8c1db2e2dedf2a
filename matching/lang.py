"""A small language detector: writing system first, then word, letter and n-gram votes (no network, no model
file).

Kana -> ``ja``; Hangul -> ``ko``; Han -> ``zh``; Devanagari -> ``hi``; Cyrillic -> ``ru``; Arabic -> ``ar``.
Latin
text is scored per language with the detection hints of ``data/lang/<code>.json`` (common words,
characteristic letters such as ñ, ß, ã, ı, ơ, and n-grams) and with the words of the project's own labelled
texts in that language (the phrase bank and the labelled ads, ``VOCABULARY_WEIGHT``). Returns ``None`` when
there is no evidence (the caller reports it instead of guessing). ``script_report`` tells which writing
systems a text uses, so that a text in a script no table covers (Thai, Hebrew, ...) gets a clear message
instead of a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

from matching.contacts import blank_contacts
from matching.lexicon import common, field, languages

#: Languages written in a script of their own (the script decides).
_SCRIPT_LANG = {
    "kana": "ja",
    "hangul": "ko",
    "han": "zh",
    "devanagari": "hi",
    "cyrillic": "ru",
    "arabic": "ar",
}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
#: Evidence of one word the phrase bank's and the labelled ads' texts use (``_vocabulary``), shared among the
#: languages that use it. A table's 66-odd words left short texts without evidence ("IKEA MALM 6-drawer
#: dresser") or to the language of one loanword ("Cerco AirPods originali" read as German): the right
#: language, on every text of the tuning sets tune / tune2 / tune3 / tune4 .945 / .969 / .989 / .992 -> .997 /
#: 1.000 / .999 / .999, none left undecided (5 / 27 / 10 / 2 before); on the 3,771 ads of ``eval_ads`` .950 ->
#: .995 (0.5 and 1.0 alike: .995 / .997). There the category follows, .832 -> .837 (Italian .818 -> .841,
#: Portuguese .809 -> .825); in the pair evaluation the sellers' category rises (tune .892 -> .904, tune2 .872
#: -> .881) and top-1 does not move (tune4 .829 -> .828, one pair).
VOCABULARY_WEIGHT = 0.5
#: Texts whose script counts and language votes are remembered: understanding one text asks about the same
#: string several times (the input check, the detector, the mixed-language warning, the extractor, the
#: published text's extractor).
DETECT_CACHE = 256


def supported() -> tuple[str, ...]:
    """Every language code the detector can return."""
    return languages()


@dataclass(frozen=True)
class ScriptReport:
    """Letters per writing system; ``unsupported`` names the scripts no table covers."""

    counts: dict[str, int]
    unsupported: dict[str, int]

    @property
    def letters(self) -> int:
        return sum(self.counts.values()) + sum(self.unsupported.values())


def _script_of(ch: str) -> str | None:
    o = ord(ch)
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF:
        return "arabic"
    if 0x0900 <= o <= 0x097F:
        return "devanagari"
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN") or name.startswith("FULLWIDTH LATIN"):
        return "latin"
    return "other:" + (name.split(" ")[0] if name else "UNKNOWN")


def script_report(text: str) -> ScriptReport:
    """Count the letters of ``text`` per writing system."""
    rep = _script_report(text)
    return ScriptReport(dict(rep.counts), dict(rep.unsupported))


@lru_cache(maxsize=DETECT_CACHE)
def _script_report(text: str) -> ScriptReport:
    counts = dict.fromkeys(("han", "kana", "hangul", "cyrillic", "arabic", "devanagari", "latin"), 0)
    names: dict[str, str] = common()["unsupported_scripts"]
    other: dict[str, int] = {}
    for ch in text:
        s = _script_of(ch)
        if s is None:
            continue
        if s.startswith("other:"):
            key = names.get(s[6:], s[6:].title())
            other[key] = other.get(key, 0) + 1
        else:
            counts[s] += 1
    return ScriptReport(counts, other)


@cache
def _latin_tables() -> dict[str, tuple[frozenset[str], str, tuple[str, ...]]]:
    out = {}
    for lang in languages():
        words = field(lang, "detect.words")
        if not words:
            continue
        out[lang] = (
            frozenset(str(w) for w in words),
            str(field(lang, "detect.letters") or ""),
            tuple(str(g) for g in field(lang, "detect.ngrams")),
        )
    return out


@cache
def _vocabulary() -> dict[str, tuple[tuple[str, float], ...]]:
    """Word -> ((language, share), ...) over the Latin-script languages: every word of two letters or more the
    phrase bank and the labelled ads (``matching.bank``) use, but the units and model words of every language
    (``common.json``'s ``units``), shared among the languages whose texts use it in proportion to its
    frequency in each (per word of that language's texts)."""
    from matching.bank import examples, phrases  # reads the lexicon too; on first use, not at import

    counts: dict[str, Counter[str]] = {lang: Counter() for lang in _latin_tables()}
    shared = frozenset(str(u) for u in common()["units"])  # "Pro", "PS", "km": every language writes them
    for lang, text in [(e.lang, e.text) for e in examples()] + [(p.lang, p.text) for p in phrases()]:
        if lang in counts:
            counts[lang].update(t for t in _TOKEN.findall(text.lower()) if len(t) >= 2 and t not in shared)
    totals = {lang: max(1, c.total()) for lang, c in counts.items()}
    out: dict[str, tuple[tuple[str, float], ...]] = {}
    for word in set().union(*counts.values()):
        rel = {lang: c[word] / totals[lang] for lang, c in counts.items() if c[word]}
        whole = sum(rel.values())
        out[word] = tuple((lang, r / whole) for lang, r in rel.items())
    return out


def latin_scores(text: str) -> dict[str, float]:
    """Evidence per Latin-script language (0 for none): the words and letters of its detection table, its
    n-grams once some language has evidence, and ``VOCABULARY_WEIGHT`` per word of the labelled texts."""
    tables = _latin_tables()
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    scores: dict[str, float] = dict.fromkeys(tables, 0.0)
    for t in tokens:
        langs = [lang for lang, (words, _, _) in tables.items() if t in words]
        for lang in langs:
            scores[lang] += 1.0 / len(langs)
    for lang, (_, letters, _) in tables.items():
        scores[lang] += 1.5 * sum(lowered.count(c) for c in letters)
    if max(scores.values(), default=0.0) > 0:
        for lang, (_, _, grams) in tables.items():
            scores[lang] += 0.3 * sum(1 for t in tokens for g in grams if g in t)
    vocabulary = _vocabulary()
    for t in tokens:
        for lang, share in vocabulary.get(t, ()):
            scores[lang] += VOCABULARY_WEIGHT * share
    return scores


def detect_languages(text: str) -> list[tuple[str, float]]:
    """Candidate languages of ``text`` with their evidence, best first (empty when there is none). A phone
    number, e-mail address or link says nothing of it ("bob@mail.com": "com" is Portuguese)."""
    return list(_detect_languages(blank_contacts(text)))


@lru_cache(maxsize=DETECT_CACHE)
def _detect_languages(text: str) -> tuple[tuple[str, float], ...]:
    rep = _script_report(text)
    c = rep.counts
    for script in ("kana", "hangul"):
        if c[script] > 0:
            return ((_SCRIPT_LANG[script], 10.0 + c[script]),)
    scripted = [
        (_SCRIPT_LANG[s], float(c[s])) for s in ("han", "devanagari", "cyrillic", "arabic") if c[s] > 0
    ]
    if scripted and max(n for _, n in scripted) >= c["latin"] / 4:
        return tuple(sorted(scripted, key=lambda x: -x[1]))
    if c["latin"] == 0:
        return ()
    scores = latin_scores(text)
    order = tuple(languages())
    ranked = sorted(
        ((lang, s) for lang, s in scores.items() if s > 0), key=lambda kv: (-kv[1], order.index(kv[0]))
    )
    return tuple(ranked)


def detect_language(text: str) -> tuple[str | None, float]:
    """Guess the language of ``text``.

    Args:
        text: any string.

    Returns:
        ``(code, confidence)``; code is one of ``supported()`` or ``None`` when nothing points to a language.
    """
    ranked = detect_languages(text)
    if not ranked:
        return None, 0.0
    best, best_score = ranked[0]
    if best in ("ja", "ko") or (best in _SCRIPT_LANG.values() and len(ranked) == 1):
        return best, 0.95 if best in ("ja", "ko", "zh", "hi") else 0.9
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    margin = (best_score - second) / best_score
    confidence = round(min(0.95, 0.5 + 0.45 * margin + 0.05 * min(best_score, 4)), 3)
    return best, confidence


#: Evidence (``latin_scores``: words of a language's table, its letters) a language needs to count as one of
#: the languages of a mixed text: two of its words. A brand in Latin letters inside a Russian or Hindi text
#: ("iPhone 13 Pro Max продаю") has less and leaves the text in one language.
MIXED_MIN_EVIDENCE = 2.0


def mixed_languages(text: str) -> list[str]:
    """Two or more languages with real evidence each, else []: a Spanish sentence with an English one, or a
    text in another script with Latin-script words of a language ("Verkaufe mein Fahrrad для ребёнка")."""
    text = blank_contacts(text)
    ranked = _detect_languages(text)  # the text is blanked already: not ``detect_languages``
    if not ranked:
        return []
    best = ranked[0][1]
    out = [ranked[0][0]]
    if len(ranked) > 1 and ranked[1][1] >= MIXED_MIN_EVIDENCE:
        out = [lang for lang, s in ranked if s >= MIXED_MIN_EVIDENCE and s >= 0.6 * best][:3]
    if ranked[0][0] in _SCRIPT_LANG.values() and len(out) < 3:  # scripts decided; Latin words may add one
        scores = latin_scores(text) if _script_report(text).counts["latin"] else {}
        latin = max(scores.items(), key=lambda kv: kv[1], default=("", 0.0))
        if latin[1] >= MIXED_MIN_EVIDENCE:
            out.append(latin[0])
    return out if len(out) > 1 else []


#: Evidence (words and letters of ``common.json``'s ``unsupported_languages``) a language no table covers
#: needs before a Latin-script text is said to be written in it: two of its words, or a word and a letter
#: (at least one word: letters alone say little).
UNSUPPORTED_MIN_EVIDENCE = 2.0


@cache
def _unsupported_tables(script: str = "latin") -> dict[str, tuple[str, dict[str, int]]]:
    """Name -> (its letters, word -> how many of these languages share it), for the languages of ``script``
    (an entry's ``script``, Latin when it names none)."""
    raw: dict[str, dict[str, list[str] | str]] = common()["unsupported_languages"]
    mine = {name: spec for name, spec in raw.items() if spec.get("script", "latin") == script}
    shared = Counter(w for spec in mine.values() for w in set(spec["words"]))
    return {
        name: (str(spec["letters"]), {str(w): shared[w] for w in spec["words"]})
        for name, spec in mine.items()
    }


#: Letters of the Arabic script that Arabic uses and Persian and Urdu do not (their keyboards type "ی" and
#: "ک" for "ي" and "ك"): evidence that an Arabic-script text is Arabic after all.
ARABIC_ONLY_LETTERS = "ةىيك"


def unsupported_language(text: str) -> str | None:
    """The name of a Latin-script language no table covers that ``text`` is written in ("Vând bicicletă 800
    lei": Romanian), or of an Arabic-script one (Persian, Urdu: ``_arabic_script_language``), or None. Read as
    they stand, such texts got a side and counts from loanwords and numbers: "Vând bicicletă 800 lei"
    (selling a bicycle) was a request for 800 bicycles. The language must have ``UNSUPPORTED_MIN_EVIDENCE``
    and more evidence than any supported language (``latin_scores``)."""
    text = blank_contacts(text)
    rep = _script_report(text)
    if rep.letters and rep.counts["arabic"] * 2 >= rep.letters:
        return _arabic_script_language(text)
    if rep.counts["latin"] * 2 < rep.letters:
        return None
    lowered = text.lower()
    tokens = set(_TOKEN.findall(lowered))
    best, best_score = None, 0.0
    for name, (letters, words) in _unsupported_tables().items():
        score = sum(1.0 / words[t] for t in tokens if t in words)
        if score < 1.0:  # letters alone say little: "ä" and "ö" are German too, "ă" Vietnamese
            continue
        score += 1.5 * sum(lowered.count(c) for c in letters)
        if score > best_score:
            best, best_score = name, score
    if best is None or best_score < UNSUPPORTED_MIN_EVIDENCE:
        return None
    return best if best_score > max(latin_scores(text).values(), default=0.0) else None


def _arabic_script_language(text: str) -> str | None:
    """Persian or Urdu, for an Arabic-script text written in one of them, else None (Arabic). Read as
    Arabic, "بفروشم مبل ۵۰۰ هزار تومان" (Persian: selling a sofa, 500 thousand toman) was a request for 500
    musical instruments. Their own letters ("ی", "ک", Urdu's "ے", "ں", "ٹ", the digits "۰".."۹") count 1.5
    each, as the Latin languages' letters do, and are evidence without a word: no labelled Arabic text has
    any of them. The language needs ``UNSUPPORTED_MIN_EVIDENCE`` and more than the letters only Arabic
    writes (``ARABIC_ONLY_LETTERS``) count."""
    tokens = set(_TOKEN.findall(text))
    chars = Counter(text)  # one pass over the text, not one per letter
    arabic = 1.5 * sum(chars[c] for c in ARABIC_ONLY_LETTERS)
    best, best_score = None, 0.0
    for name, (letters, words) in _unsupported_tables("arabic").items():
        score = sum(1.0 / words[t] for t in tokens if t in words) + 1.5 * sum(chars[c] for c in letters)
        if score > best_score:
            best, best_score = name, score
    if best is None or best_score < UNSUPPORTED_MIN_EVIDENCE or best_score <= arabic:
        return None
    return best
