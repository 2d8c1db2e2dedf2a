"""The labelled item-phrase banks: concepts with short phrases in 15 languages.

``data/bank/*.txt`` (~350 concepts) and ``data/bank_wide/*.txt`` (~770 more, written later; its README says
how). Three uses:

* **Classifier examples**: every phrase of ``data/bank`` is a labelled example of its concept's category
  (``phrases()``); the wider bank is not (as examples it made the kNN vote worse on eval2's held-out part).
* **Glossary**: ``glosses(text, langs)`` finds the phrases of both banks a (normalised) text mentions and
  returns their English names, so "cần mua 4 lốp xe" renders as "tires" for the embedder, which knows little
  Vietnamese (both banks against ``data/bank`` alone, non-English means: tune2 top-1 .620 -> .632, category
  agreement .621 -> .631; tune unchanged).
* **The classifier's adapter** is fitted on both (``matching.adapter``).

``data/examples/*.txt`` holds a different kind of labelled data: whole ads and requests as people type them
("Dijual kasur busa single, masih layak, ambil sendiri"), four per category and language (two offering, two
seeking), ``examples()``. The classifier's kNN vote compares a text with them too: a whole ad is a closer
neighbour of another whole ad than of a short phrase (``classify``; ``data/examples/README.md``).

Matching is lexical with a light, per-language tolerance for inflection: English/Romance plurals, German
endings, Russian and Turkish case endings, Arabic clitics (al-, wa-, bi-), Indonesian -nya, Korean particles.
Longest matches win and never overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from matching.lexicon import CJK, LETTER, field, fold, languages, literal_trie, wrap

#: The bank folders: the classifier's examples (``concepts``), then the wider bank that the glossary
#: (``all_concepts``) and the classifier's adapter (``base_concepts``) read too.
BANK_FOLDERS = ("data/bank", "data/bank_wide")
#: More phrases for concepts of both banks, one line ``concept-id|lang|phrase;phrase`` each
#: (``more_phrases``): read by the glossary and the kNN vote like the banks' own, left out of the adapter's
#: fit (``base_concepts``).
MORE_FOLDER = "data/bank_more"
#: The labelled whole-text examples (``examples``), one line ``category|lang|side|text`` each.
EXAMPLES_FOLDER = "data/examples"
EXAMPLE_SIDES = ("offer", "seek")
#: Column order of the bank files after ``category|concept-id``.
BANK_LANGS = ("en", "es", "zh", "fr", "de", "pt", "ar", "hi", "vi", "ja", "ru", "ko", "it", "tr", "id")


@dataclass(frozen=True)
class Concept:
    id: str
    category: str
    english: str  # the gloss: first English phrase
    phrases: dict[str, tuple[str, ...]]  # lang -> phrases


@dataclass(frozen=True)
class Phrase:
    lang: str
    text: str
    concept: str
    category: str


@dataclass(frozen=True)
class Gloss:
    concept: str
    category: str
    english: str
    start: int
    end: int
    #: The category of a shorter phrase that is this one's head, where it differs: this phrase narrows it
    #: ("dog stroller" a stroller, "туристический рюкзак" a backpack); "" where there is none (``_inside``).
    narrows: str = ""


@dataclass(frozen=True)
class Example:
    category: str
    lang: str
    side: str  # "offer" or "seek"
    text: str


class BankFormatError(ValueError):
    """A bank file line is malformed (wrong number of cells, unknown category)."""


@cache
def concepts() -> tuple[Concept, ...]:
    """Every concept of the bank (``data/bank``), in file order, with its ``more_phrases``.

    Raises:
        BankFormatError: a malformed line.
    """
    return _with_more(_folder(BANK_FOLDERS[0]))


@cache
def _folder(folder: str) -> tuple[Concept, ...]:
    """``read_concepts`` of one bank folder, read once per process."""
    return read_concepts(folder)


def base_concepts() -> tuple[Concept, ...]:
    """The concepts of every bank folder as their files write them, without ``more_phrases``: the adapter's
    fit (``matching.adapter``). The added Hindi and Vietnamese phrases moved the shipped adapter, though
    use-m3 does not read those languages (refitted with them, tune4's top-5 fell .967 -> .955; kept out, it
    stayed)."""
    return tuple(c for folder in BANK_FOLDERS for c in _folder(folder))


@cache
def more_phrases() -> dict[str, dict[str, tuple[str, ...]]]:
    """concept id -> language -> the phrases ``MORE_FOLDER`` adds to it (none already in the concept's
    cell). A concept and language on several lines (in different files) get the phrases of each, in file
    order.

    Raises:
        BankFormatError: a malformed line, an unknown concept or language, a phrase the concept already has
            (in its cell or on an earlier line).
    """
    known = {c.id: c for c in base_concepts()}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for path, n, line in _lines(MORE_FOLDER):
        cells = line.split("|")
        if len(cells) != 3:
            raise BankFormatError(f"{path}:{n}: {len(cells)} cells, want 3 (concept-id|lang|phrases)")
        cid, lang = cells[0].strip(), cells[1].strip()
        added = tuple(p.strip() for p in cells[2].split(";") if p.strip())
        if cid not in known or lang not in BANK_LANGS or not added:
            raise BankFormatError(f"{path}:{n}: unknown concept {cid!r} or language {lang!r}, or no phrase")
        before = out.setdefault(cid, {}).get(lang, ())
        if set(added) & set(known[cid].phrases[lang] + before) or len(set(added)) < len(added):
            raise BankFormatError(f"{path}:{n}: a phrase {cid} already has in {lang}")
        out[cid][lang] = before + added
    return out


def _with_more(cs: tuple[Concept, ...]) -> tuple[Concept, ...]:
    """``cs`` with each concept's ``more_phrases`` after its own, in the same order."""
    more = more_phrases()
    return tuple(
        Concept(
            c.id,
            c.category,
            c.english,
            {lang: ps + more[c.id].get(lang, ()) for lang, ps in c.phrases.items()},
        )
        if c.id in more
        else c
        for c in cs
    )


def read_concepts(folder: str) -> tuple[Concept, ...]:
    """The concepts of every ``*.txt`` file of the package folder ``folder``, in file order.

    Raises:
        BankFormatError: a malformed line.
    """
    from wire.taxonomy import category_codes

    out: list[Concept] = []
    for path, n, line in _lines(folder):
        cells = line.split("|")
        if len(cells) != 2 + len(BANK_LANGS):
            raise BankFormatError(f"{path}:{n}: {len(cells)} cells, want {2 + len(BANK_LANGS)}")
        category, cid = cells[0].strip(), cells[1].strip()
        if category not in category_codes():
            raise BankFormatError(f"{path}:{n}: unknown category {category!r}")
        phrases = {
            lang: tuple(p.strip() for p in cell.split(";") if p.strip())
            for lang, cell in zip(BANK_LANGS, cells[2:], strict=True)
        }
        if not phrases["en"]:
            raise BankFormatError(f"{path}:{n}: no English phrase")
        out.append(Concept(cid, category, phrases["en"][0], phrases))
    return tuple(out)


@cache
def all_concepts() -> tuple[Concept, ...]:
    """The concepts of every bank folder (``data/bank``'s, then ``data/bank_wide``'s) with their
    ``more_phrases``: the glossary's."""
    return concepts() + _with_more(tuple(c for folder in BANK_FOLDERS[1:] for c in _folder(folder)))


@cache
def examples() -> tuple[Example, ...]:
    """The labelled ads and requests of ``data/examples``, in file order.

    Raises:
        BankFormatError: a malformed line (cells, category, language or side unknown, empty text).
    """
    return read_examples(EXAMPLES_FOLDER)


def read_examples(folder: str) -> tuple[Example, ...]:
    """The examples of every ``*.txt`` file of the package folder ``folder`` (see ``examples``)."""
    from wire.taxonomy import category_codes

    out: list[Example] = []
    for path, n, line in _lines(folder):
        cells = line.split("|")
        if len(cells) != 4:
            raise BankFormatError(f"{path}:{n}: {len(cells)} cells, want 4 (category|lang|side|text)")
        category, lang, side, text = (c.strip() for c in cells)
        if category not in category_codes():
            raise BankFormatError(f"{path}:{n}: unknown category {category!r}")
        if lang not in BANK_LANGS or side not in EXAMPLE_SIDES or not text:
            raise BankFormatError(f"{path}:{n}: language {lang!r}, side {side!r} or empty text")
        out.append(Example(category, lang, side, text))
    return tuple(out)


def _lines(folder: str) -> list[tuple[str, int, str]]:
    """(file name, line number, line) of every line of the folder's ``*.txt`` files that is not empty or a
    ``#`` comment, files in name order."""
    root = resources.files("matching").joinpath(folder)
    return [
        (path.name, n, line)
        for path in sorted((p for p in root.iterdir() if p.name.endswith(".txt")), key=lambda p: p.name)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]


@cache
def phrases() -> tuple[Phrase, ...]:
    """Every (language, phrase) of the bank with its concept and category."""
    return tuple(
        Phrase(lang, p, c.id, c.category) for c in concepts() for lang in BANK_LANGS for p in c.phrases[lang]
    )


#: Korean phrases this long (syllables, spaces left out) are read however they are spaced (``_phrase_rx``);
#: a shorter one only as written ("이사", moving, is not "이 사람", this person).
KO_FREE_SPACING = 3
#: Russian word endings a bank phrase's word is read without: its case and number endings replace them
#: (an adjective's two letters: "стиральная" is also "стиральной", "стиральную", "стиральных").
_RU_ENDING = "аяоеёьйыиую"


def _token_rx(tok: str, lang: str) -> str:
    t = re.escape(tok.lower())
    if lang == "en" and len(tok) >= 3:
        return t + "(?:s|es)?"
    if lang in ("es", "pt", "fr") and len(tok) >= 3:
        return t + "(?:s|es|x)?"
    if lang == "it" and len(tok) >= 5 and tok[-1] in "aeio":
        return re.escape(tok[:-1].lower()) + "[aeiohe]{1,2}"
    if lang == "de" and len(tok) >= 4:
        return t + "(?:e|n|en|er|s|es|ern)?"
    if lang == "ru" and len(tok) >= 5 and tok[-1] in _RU_ENDING:  # "стиральная" -> "стиральн": "стиральную"
        stem = tok[:-2] if tok[-2] in _RU_ENDING and len(tok) >= 7 else tok[:-1]
        return re.escape(stem.lower()) + r"\w{0,3}"
    if lang == "ru" and len(tok) >= 4:
        return t + r"\w{0,3}"
    if lang == "tr" and len(tok) >= 5:
        return re.escape(tok[:-1].lower()) + r"\w{1,6}"
    if lang == "tr" and len(tok) >= 3:
        return t + r"\w{0,6}"
    if lang == "id":
        return t + "(?:nya)?"
    if lang == "ar" and len(tok) >= 3:
        return "(?:ال|و|ب|ل|لل|وال|بال)?" + t + "(?:ة|ه|ات|ين|ان)?"
    if lang == "hi":
        return t + rf"(?:{LETTER}){{0,2}}"
    return t


def _phrase_pattern(phrase: str, lang: str) -> str:
    """The pattern of one phrase in its language's inflections (``_token_rx``). Korean is spaced as the writer
    likes ("아기침대", "아기 침대": a crib): a phrase of ``KO_FREE_SPACING`` syllables or more is read with or
    without a space between any two of them."""
    if lang == "ko" and len(joined := phrase.replace(" ", "")) >= KO_FREE_SPACING:
        return "(?:" + r"\s?".join(re.escape(ch) for ch in joined.lower()) + ")"
    return "(?:" + r"\s+".join(_token_rx(tok, lang) for tok in phrase.split()) + ")"


@cache
def _phrase_rx(phrase: str, lang: str) -> re.Pattern[str]:
    """``_phrase_pattern`` compiled on first use (most phrases are never tried)."""
    return re.compile(_phrase_pattern(phrase, lang))


@cache
def _phrase_word_rx(phrase: str, lang: str) -> re.Pattern[str]:
    """The phrase's pattern that must not end inside a word (``_phrase_end``)."""
    return re.compile(rf"{_phrase_rx(phrase, lang).pattern}(?!{LETTER})")


_LETTER = re.compile(LETTER)


def _phrase_end(phrase: str, lang: str, text: str, pos: int) -> int | None:
    """Where the phrase read at ``pos`` of ``text`` ends (not inside a word, except in Chinese, Japanese and
    Korean), or None.

    The same answer as matching ``_phrase_word_rx`` alone, for less: a pattern holding ``LETTER`` took about
    0.3 ms to compile, one without it 0.05 ms, and most phrases tried are compiled for one text's words (26
    of a fresh process's first 32 s understanding 600 texts went to compiling patterns). The engine tries the
    phrase's readings in the same order with or without the check at the end: when its first reading is not
    followed by a letter, that is the answer of both; otherwise another reading may be, and the full pattern
    decides.
    """
    m = _phrase_rx(phrase, lang).match(text, pos)
    if m is None or lang in ("zh", "ja", "ko") or not _LETTER.match(text, m.end()):
        return None if m is None else m.end()
    m = _phrase_word_rx(phrase, lang).match(text, pos)
    return None if m is None else m.end()


#: Languages that write a compound as one word: a phrase is read inside one (``_inside``).
_COMPOUNDING = frozenset({"de", "nl"})
#: Arabic clitics a word may carry in front of a bank phrase (looked past when indexing).
_AR_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل")
_WORD_START = re.compile(rf"(?<!{LETTER})(?={LETTER})")


@dataclass(frozen=True)
class _Index:
    """Bank phrases of some languages, indexed by their first two characters (one for CJK/Hangul)."""

    by_key: dict[str, tuple[tuple[str, str, int], ...]]  # key -> (phrase, lang, concept index), longest first


def _key(s: str) -> str:
    return s[:1] if CJK.match(s[:1]) else s[:2]


@cache
def _index(langs: tuple[str, ...]) -> _Index:
    buckets: dict[str, list[tuple[str, str, int]]] = {}
    for ci, c in enumerate(all_concepts()):
        for lang in langs:
            for p in c.phrases.get(lang, ()):
                if lang == "ko" and len(p) < 2:
                    continue  # one Hangul syllable ("노", oar) starts many other words ("노지")
                folded = fold(p)  # as normalised texts are: NFC, lower case, the optional nukta left out
                buckets.setdefault(_key(folded), []).append((folded, lang, ci))
    return _Index({k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in buckets.items()})


@cache
def _not_items(langs: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Per language of ``langs`` with a ``not_items`` list: the pattern finding its entries, a hyphen read as
    a space (``glosses`` looks in the text so: French "micro-rayures" and "micro rayures" are one entry).
    An entry is read in the inflections a bank phrase is (``_phrase_pattern``: French "micro-rayure" is also
    "micro-rayures"); the entries read only as written (all of Vietnamese's 696) share one trie."""
    out: list[re.Pattern[str]] = []
    for lang in langs:
        literal: list[str] = []
        inflected: list[str] = []  # longest first, as the trie tries a longer entry first
        entries = {fold(str(w)).replace("-", " ") for w in field(lang, "not_items")}
        for entry in sorted(entries, key=len, reverse=True):
            rx = _phrase_pattern(entry, lang)
            if rx == "(?:" + r"\s+".join(re.escape(tok) for tok in entry.split()) + ")":
                literal.append(entry)
            else:
                inflected.append(rx)
        if literal or inflected:
            body = "|".join(([literal_trie(literal)] if literal else []) + inflected)
            out.append(re.compile(wrap(body, lang)))
    return tuple(out)


def glosses(text: str, langs: tuple[str, ...] | None = None) -> list[Gloss]:
    """The bank concepts mentioned in normalised ``text`` (lower case), longest first, non-overlapping.

    Where two phrases overlap ("adult dog" and "dog food" in "adult dog food"), the one a compound's head
    is in wins: the later one in a language whose compounds end with their head (``compound_head`` "last"
    in its table: English, German, Chinese, Japanese, Korean, Turkish, Hindi, Dutch: "牛油果树苗", avocado
    seedling, is a seedling), the earlier one in the rest ("bảo dưỡng xe tay ga" is a service). A phrase
    inside a longer word of the language's ``not_items`` (``lexicon``) is not read: "sách" (books) in "ngân
    sách" (budget).

    Args:
        text: normalised text (``extract.normalise`` or an ``Extraction.rest``).
        langs: languages whose phrases are looked for (every language when None); the first is the text's.

    Returns:
        Glosses in text order.
    """
    first = langs[0] if langs else None
    head_last = first in languages() and field(str(first), "compound_head") == "last"
    langs = tuple(lang for lang in (langs or languages()) if lang in BANK_LANGS) or BANK_LANGS
    index = _index(langs).by_key
    cs = all_concepts()
    spaced = text.replace("-", " ")  # the same length: its spans are the text's
    hidden = [m.span() for rx in _not_items(langs) for m in rx.finditer(spaced)]
    word_starts = {m.start() for m in _WORD_START.finditer(text)}
    starts = sorted(word_starts | {i for i, ch in enumerate(text) if CJK.match(ch)})
    spans: list[tuple[int, int, int]] = []  # (start, end, concept index): the longest phrase at each start
    end = 0
    for pos in starts:
        if pos < end and not head_last:
            continue
        best: tuple[int, int] | None = None
        offsets = [0] + [len(a) for a in _AR_PREFIXES if text.startswith(a, pos)]
        for off in offsets:
            for phrase, lang, ci in index.get(_key(text[pos + off : pos + off + 2]), ()):
                e = _phrase_end(phrase, lang, text, pos + off)
                if e is not None and (best is None or e > best[0]):
                    best = (e, ci)
                    break
        if best is not None and not any(
            a <= pos and best[0] <= b and best[0] - pos < b - a for a, b in hidden
        ):
            spans.append((pos, best[0], best[1]))
            end = max(end, best[0])
    head = "last" if head_last else "either" if first == "ru" else "first"
    if head_last:  # latest end first; a longer phrase first among those ending together
        kept: list[tuple[int, int, int]] = []
        for span in sorted(spans, key=lambda s: (-s[1], s[0])):
            if all(span[1] <= k[0] or k[1] <= span[0] for k in kept):
                kept.append(span)
        spans = sorted(kept)
    start_set = set(starts)
    return [
        Gloss(
            cs[ci].id,
            cs[ci].category,
            cs[ci].english,
            a,
            b,
            _inside(text, (a, b), cs[ci].category, head, start_set, index),
        )
        for a, b, ci in spans
    ]


def _inside(
    text: str,
    span: tuple[int, int],
    category: str,
    head: str,
    starts: set[int],
    index: dict[str, tuple[tuple[str, str, int], ...]],
) -> str:
    """The category of a shorter bank phrase that is the head of ``text[a:b]`` ("stroller" in "dog stroller",
    "mochila" in "mochila de trekking") where it is not ``category``, or "". ``head`` says where the head
    is: "last" in a language whose compounds end with it (``compound_head``), "first" in the others
    ("carriola para mascotas", "thợ sơn", a painter, is no paint), "either" in Russian ("туристический
    рюкзак", "ремонт ноутбуков"); a phrase that only qualifies ("노트" in "노트북", the "车" of "停车场", the
    "su" of "su pompası") is no head. A phrase is read where a word starts (or a CJK
    character), and in German and Dutch inside a compound too ("Hundebuggy": a "Buggy")."""
    a, b = span
    cs = all_concepts()
    for pos in (a,) if head == "first" else range(a, b):
        for phrase, lang, ci in index.get(_key(text[pos : pos + 2]), ()):
            if pos not in starts and lang not in _COMPOUNDING:
                continue
            e = _phrase_end(phrase, lang, text, pos)
            if e is None or e > b or (pos, e) == (a, b) or cs[ci].category == category:
                continue
            if (e == b and head != "first") or (pos == a and head != "last"):
                return cs[ci].category
    return ""
