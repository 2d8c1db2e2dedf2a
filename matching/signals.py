"""Language-neutral match signals beside the embedding: identifier tokens and soft attribute conflicts.

* **Identifiers**: brand and model tokens survive translation ("Bowflex 552", "GA-2100", "S23 256GB" read the
  same in a Hindi, Japanese or Spanish text). ``identifiers(text)`` keeps every Latin-script token that
  carries a digit (split at letter/digit boundaries, so "552s" gives "552") and every Latin word of three
  letters or more that is not a stopword of any language, and a word and a number written next to each other
  joined ("AirPods Pro 2" has "pro2", as "Pro2" has; "256 GB" has "256gb"): a model designator reads the same
  written apart or together, and a short word of it ("pro", a stopword in Portuguese) still tells "Pro 2"
  from "3rd gen". Two Latin words joined by a hyphen, one of them shorter than three letters, are joined too
  ("FZ-S" has "fzs", "CR-V" "crv"). A Japanese era year ("H30年式") gives its Gregorian year ("2018") too.
  ``coverage(query, candidate, weights)`` is the
  weighted share of the query's identifiers the candidate also has: a long ad is not penalised for saying
  more. The index gives the weights (``LocalIndex._id_weights``): only identifiers some indexed intent has,
  each by its rarity.
* **Soft conflicts**: both sides state a colour, dimensions, a weight or a length, and they differ ("black"
  vs "white", "200x300" vs "80x150"): the candidate stays (a human may not care) but ranks lower.
"""

from __future__ import annotations

import re
import unicodedata

from matching.cues import stopwords
from matching.extract import normalise

#: Attributes whose disagreement lowers a candidate's score (each one counts once).
SOFT_CONFLICT_KEYS = ("color", "dimensions", "weight", "length")
#: At most this many identifiers are kept per text (bounds the work on long texts).
MAX_IDENTIFIERS = 48
_WORD = re.compile(r"[a-z0-9]+")
_PARTS = re.compile(r"[a-z]+|\d+")
#: What may stand between a word and a number that are read as one identifier too ("GA-2100", "RTX 3080").
_JOINERS = (" ", "-")
#: A Latin word is an identifier alone from this many letters; a shorter one only joined to its neighbour by a
#: hyphen ("FZ-S", "CR-V", "N-BOX"). Decided on the three tuning sets (non-English top-1, with the hyphen
#: names): tune .913 -> .913, tune2 .803 -> .806, tune3 .823 -> .823.
_MIN_WORD = 3
#: A Japanese era year ("H30年式", "平成30年", "令和元年": 2018, 2018, 2019), read as the Gregorian year
#: too, so that "2018" in another language finds it. Era -> the year before its first.
_ERAS = {"s": 1925, "昭和": 1925, "h": 1988, "平成": 1988, "r": 2018, "令和": 2018}
_ERA_YEAR = re.compile(r"(?<![a-z0-9])([shr])(\d{1,2})年|(昭和|平成|令和)\s?(\d{1,2}|元)\s?年")


def identifiers(text: str | None) -> frozenset[str]:
    """Brand/model-like tokens of ``text`` (see the module docstring); empty for None."""
    if not text:
        return frozenset()
    stop = stopwords()
    out: dict[str, None] = {}
    folded = _fold(normalise(text))
    prev: re.Match[str] | None = None
    for m in _WORD.finditer(folded):
        w = m.group(0)
        if prev is not None and (sep := folded[prev.end() : m.start()]) in _JOINERS:
            a = prev.group(0)
            if (a.isalpha() and w.isdigit()) or (a.isdigit() and w.isalpha()):
                out[a + w] = None  # "Pro 2" -> "pro2", "256 GB" -> "256gb": written apart or together alike
            elif sep == "-" and a.isalpha() and w.isalpha() and min(len(a), len(w)) < _MIN_WORD:
                out[a + w] = None  # "FZ-S" -> "fzs", "CR-V" -> "crv": a name whose parts are too short alone
        prev = m
        parts = _PARTS.findall(w)
        for p in parts:
            if p.isdigit():
                if len(p) >= 2 or len(parts) > 1:
                    out[p] = None
            elif len(p) >= _MIN_WORD and p not in stop:
                out[p] = None
        if len(parts) > 1:
            out[w] = None
        if len(out) >= MAX_IDENTIFIERS:
            break
    for era in _ERA_YEAR.finditer(folded):
        if len(out) >= MAX_IDENTIFIERS:
            break
        name, n = (era.group(1), era.group(2)) if era.group(1) else (era.group(3), era.group(4))
        out[str(_ERAS[name] + (1 if n == "元" else int(n)))] = None
    return frozenset(out)


def _fold(text: str) -> str:
    """Latin letters without their accents ("batería" -> "bateria", "experiência" one word, not two)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def coverage(
    query: frozenset[str], candidate: frozenset[str], weights: dict[str, float] | None = None
) -> float:
    """Weighted share of the query's identifiers found in the candidate's (0 when none counts). ``weights``:
    the identifiers that count and their weights (the index's ``_id_weights``); None: every identifier of
    ``query``, alike."""
    counted = weights if weights is not None else dict.fromkeys(query, 1.0)
    total = sum(counted.values())
    return sum(w for t, w in counted.items() if t in candidate) / total if total > 0 else 0.0


def conflicts(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """The soft attributes both sides state and that share no value ("4x4,147x147" vs "2x4": a conflict)."""
    out = []
    for k in SOFT_CONFLICT_KEYS:
        if k in a and k in b and not _same(k, a[k], b[k]):
            out.append(k)
    return out


#: Attributes that name the thing precisely: when both sides state one and it is the same (a tire size, a
#: model, a capacity, dimensions), that is strong evidence of the right counterpart.
KEY_MATCH_KEYS = ("size", "model", "storage", "screen", "capacity", *SOFT_CONFLICT_KEYS)


def key_matches(a: dict[str, str], b: dict[str, str]) -> int:
    """How many of ``KEY_MATCH_KEYS`` both sides state with the same value ("4x4" matches "4x4,147x147")."""
    return sum(1 for k in KEY_MATCH_KEYS if k in a and k in b and _same(k, a[k], b[k]))


def _same(key: str, a: str, b: str) -> bool:
    if key == "length":  # "320cm" vs "330cm": within 10% is the same boat
        try:
            x, y = float(a.removesuffix("cm")), float(b.removesuffix("cm"))
        except ValueError:
            return a == b
        return abs(x - y) <= 0.1 * max(x, y)
    return bool(set(a.split(",")) & set(b.split(",")))
