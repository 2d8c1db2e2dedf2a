"""English loanwords written in Devanagari, read back as the English words of the labelled bank.

Why: Hindi ads take most item names from English and write them in Devanagari ("केटलबेल" kettlebell,
"कार्पेट क्लीनिंग" carpet cleaning, "रेडिएटर" radiator). use-m3 was not trained on Hindi and does not place
such a word near its English original, and the bank's Hindi phrases name only some of them.

How: a word is reduced to its consonant skeleton, in both scripts alike: Devanagari consonants by sound class
(क and ख "k", ट and त "t", फ and फ़ "f", the nasal sign "n"; vowel signs, vowels and य dropped), Latin words by
the same classes after the usual English spellings ("ph" "f", "ck" "k", "c" before e/i/y "s", "g" before e/i
"j", "z" "j", "x" "ks"; vowels, "h", "w"->"v", "y" dropped), doubled classes once. "केटलबेल" and "kettlebell"
are both "ktlbl". A Devanagari word whose skeleton has ``MIN_CONSONANTS`` or more and belongs to exactly one
English word of the bank's English phrases (``vocabulary``) reads as that word. Shorter skeletons collide with
native words ("रंग", colour, "rng", would read "ring"); a skeleton two English words share is dropped.

What it feeds (``canonical``): the English words join the item words (what is embedded), and the bank phrases
they form are glosses (``loan_glosses``), as if the text had named them in English.
"""

from __future__ import annotations

import re
from functools import cache

from matching.bank import Gloss, all_concepts, glosses
from matching.lexicon import WORD

#: Consonants a skeleton needs before it is read as an English word (three collide with native words).
MIN_CONSONANTS = 4
#: English words of the bank shorter than this are not in the vocabulary ("bed", "car": skeletons too short).
MIN_ENGLISH_LETTERS = 4
#: Loanwords read per text, at most (bounds the work on long texts).
MAX_LOANS = 16
#: A Devanagari character (a word with one is read by ``loans``).
DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_NUKTA = "\u093c"
_CLASSES = {
    **dict.fromkeys("कख", "k"),
    **dict.fromkeys("गघ", "g"),
    **dict.fromkeys("चछ", "c"),
    **dict.fromkeys("जझ", "j"),
    **dict.fromkeys("टठतथ", "t"),
    **dict.fromkeys("डढदध", "d"),
    **dict.fromkeys("ङञणनंँ", "n"),
    "प": "p",
    "फ": "f",
    **dict.fromkeys("बभ", "b"),
    "म": "m",
    "र": "r",
    **dict.fromkeys("लळ", "l"),
    "व": "v",
    **dict.fromkeys("शषस", "s"),
}
#: A consonant with a nukta that changes its class: ड़ and ढ़ are flapped r's (ज़ stays "j": "z" is "j" in
#: English words too; फ़ and क़ keep their class).
_NUKTA_CLASSES = {"ड": "r", "ढ": "r"}
_LATIN_RULES = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"ch"), "c"),
    (re.compile(r"sh"), "s"),
    (re.compile(r"th"), "t"),
    (re.compile(r"q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"g(?=[ei])"), "j"),
)
_LATIN_CLASSES = {"c": "k", "w": "v", "z": "j"}
_LATIN_KEPT = frozenset("bdfgjklmnprstvk")


def devanagari_skeleton(word: str) -> str:
    """The consonant skeleton of a Devanagari word (see the module docstring): "केटलबेल" -> "ktlbl"."""
    out: list[str] = []
    for i, ch in enumerate(word):
        cls = _CLASSES.get(ch)
        if cls is None:
            continue
        if i + 1 < len(word) and word[i + 1] == _NUKTA:
            cls = _NUKTA_CLASSES.get(ch, cls)
        if not out or out[-1] != cls:
            out.append(cls)
    return "".join(out)


def latin_skeleton(word: str) -> str:
    """The consonant skeleton of an English word: "kettlebell" -> "ktlbl", "calculator" -> "klkltr"."""
    w = word.lower()
    for rx, repl in _LATIN_RULES:
        w = rx.sub(repl, w)
    out: list[str] = []
    for ch in w:
        cls = _LATIN_CLASSES.get(ch, ch)
        if cls in _LATIN_KEPT and (not out or out[-1] != cls):
            out.append(cls)
    return "".join(out)


@cache
def vocabulary() -> dict[str, str]:
    """Skeleton -> the one English word of the bank's English phrases that has it (a shared skeleton is
    dropped)."""
    words: dict[str, set[str]] = {}
    for c in all_concepts():
        for phrase in c.phrases.get("en", ()):
            for w in re.findall(r"[a-z]+", phrase.lower()):
                if len(w) >= MIN_ENGLISH_LETTERS:
                    words.setdefault(latin_skeleton(w), set()).add(w)
    return {s: next(iter(ws)) for s, ws in words.items() if len(ws) == 1 and len(s) >= MIN_CONSONANTS}


def loanword(word: str) -> str | None:
    """The English word a Devanagari ``word`` borrows ("केटलबेल" -> "kettlebell"), or None."""
    return vocabulary().get(devanagari_skeleton(word)) if DEVANAGARI.match(word) else None


def loans(text: str, skip: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """The Devanagari words of ``text`` read as English words: ``(start, end, english)`` in text order.

    Args:
        text: normalised text (cue phrases blanked, as ``cues.strip_cues`` leaves them).
        skip: words never read (the text's stopwords).
    """
    if not DEVANAGARI.search(text):
        return []
    vocab = vocabulary()
    out: list[tuple[int, int, str]] = []
    for m in WORD.finditer(text):
        w = m.group(0)
        if w in skip or not DEVANAGARI.match(w):
            continue
        english = vocab.get(devanagari_skeleton(w))
        if english is not None:
            out.append((m.start(), m.end(), english))
            if len(out) >= MAX_LOANS:
                break
    return out


def loan_glosses(text: str, found: list[tuple[int, int, str]]) -> list[Gloss]:
    """The bank phrases the loanwords ``found`` in ``text`` (``loans``) form in English, placed on the words
    they came from ("कार्पेट क्लीनिंग" -> "carpet cleaning", a phrase of ``services/cleaning``). Only words side
    by side in the text form a phrase together."""
    if not found:
        return []
    english, spans = "", []
    prev_end: int | None = None
    for start, end, word in found:
        if prev_end is not None:
            english += " " if not text[prev_end:start].strip() else " . "
        prev_end = end
        spans.append((len(english), len(english) + len(word), start, end))
        english += word
    out = []
    for g in glosses(english, ("en",)):
        first = next(s for s in spans if s[1] > g.start)
        last = [s for s in spans if s[0] < g.end][-1]
        out.append(Gloss(g.concept, g.category, g.english, first[2], last[3]))
    return out
