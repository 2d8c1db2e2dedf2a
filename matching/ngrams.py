"""A lexical vote: character n-grams of a text against the labelled ads and requests of its language.

use-m3 was not trained on Hindi, Vietnamese or Indonesian, and in those languages its vectors of two unrelated
ads are nearly as close as those of two ads for the same thing: the embedding votes say little there. The
words themselves still do ("डम्पलिंग", "lốp", "kulkas"): an ad and a request for the same kind of thing share
word pieces in any language and script. This vote is TF-IDF over character n-grams (2 to 4 characters, inside
word boundaries, sublinear term frequency, smoothed IDF, rows of unit length; the ``char_wb`` analyser of
common text toolkits), fitted per language on ``bank.examples``. A text's score for a category is the mean
of the ``NGRAM_K`` best cosine similarities between the text and that category's examples in the text's
language; ``classify`` adds it with weight ``W_NGRAMS``.

Pure numpy and the standard library: one vocabulary and one inverted list per language, built on the first
text in that language (about 0.15 s and 2 MB a language, measured on this 2-core machine); a text then costs
a few hundred dictionary lookups and one ``bincount`` (about 0.3 ms).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.bank import BANK_LANGS, examples
from matching.knn import slot_table
from wire.taxonomy import taxonomy

#: Shortest and longest character n-gram (a word is padded with one space each side first).
MIN_N = 2
MAX_N = 4
#: Best similarities per category averaged into its score.
NGRAM_K = 3
#: Characters of a text read by the vote (a longer one is cut: the n-grams of a text are bounded).
MAX_NGRAM_CHARS = 2000


def ngrams(text: str) -> Counter[str]:
    """The character n-grams of ``text`` (lower-cased), each word padded with one space each side."""
    out: Counter[str] = Counter()
    for word in text[:MAX_NGRAM_CHARS].lower().split():
        w = f" {word} "
        for n in range(MIN_N, MAX_N + 1):
            if len(w) <= n:  # a word this short counts once, whole
                out[w] += 1
                break
            for i in range(len(w) - n + 1):
                out[w[i : i + n]] += 1
    return out


@dataclass(frozen=True)
class _Model:
    """One language's examples: vocabulary, IDF, and the inverted lists in one compressed-row layout (the
    rows holding term ``t`` are ``rows[starts[t]:starts[t + 1]]``, its weight in each at the same places of
    ``weights``)."""

    vocab: dict[str, int]
    idf: np.ndarray  # (terms,)
    starts: np.ndarray  # (terms + 1,) offsets into rows and weights
    rows: np.ndarray  # example row of each posting, grouped by term
    weights: np.ndarray  # the term's weight in that row (rows of unit length)
    slots: np.ndarray  # (categories, widest) example rows per category (``knn.slot_table``)
    pad: np.ndarray  # (categories, widest) True where ``slots`` is padding
    n_rows: int


def _fit(texts: list[str], cats: list[int], n_cats: int) -> _Model:
    counts = [ngrams(t) for t in texts]
    vocab: dict[str, int] = {}
    df: Counter[int] = Counter()
    for c in counts:
        for g in c:
            df[vocab.setdefault(g, len(vocab))] += 1
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[i])) + 1.0 for i in range(len(vocab))], dtype=np.float64)
    terms: list[int] = []
    rows: list[int] = []
    weights: list[float] = []
    for row, c in enumerate(counts):
        w = {vocab[g]: (1.0 + math.log(k)) * idf[vocab[g]] for g, k in c.items()}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        for term, x in w.items():
            terms.append(term)
            rows.append(row)
            weights.append(x / norm)
    order = np.argsort(np.array(terms, dtype=np.int64), kind="stable")
    starts = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.array(terms, dtype=np.int64), minlength=len(vocab)), out=starts[1:])
    per_cat: list[list[int]] = [[] for _ in range(n_cats)]
    for row, cat in enumerate(cats):
        per_cat[cat].append(row)
    slots, pad = slot_table(per_cat)
    return _Model(
        vocab,
        idf,
        starts,
        np.array(rows, dtype=np.int32)[order],
        np.array(weights, dtype=np.float64)[order],
        slots,
        pad,
        n,
    )


class NgramVote:
    """Per-language n-gram models of the labelled examples, fitted lazily (one language at a time)."""

    def __init__(self) -> None:
        self.codes = tuple(c.code for c in taxonomy().categories)
        self._models: dict[str, _Model] = {}
        self._lock = threading.Lock()

    def _model(self, lang: str) -> _Model:
        with self._lock:
            found = self._models.get(lang)
            if found is None:
                col = {c: i for i, c in enumerate(self.codes)}
                ads = [e for e in examples() if e.lang == lang]
                found = _fit([e.text for e in ads], [col[e.category] for e in ads], len(self.codes))
                self._models[lang] = found
            return found

    def score(self, text: str, lang: str) -> np.ndarray:
        """(categories,): the mean of the ``NGRAM_K`` best similarities to each category's examples in
        ``lang`` (of as many as it has, when fewer; 0 for a category without any)."""
        m = self._model(lang)
        terms = [(m.vocab[g], k) for g, k in ngrams(text).items() if g in m.vocab]
        out = np.zeros(len(self.codes), dtype=np.float32)
        if not terms:
            return out
        ids = np.array([t for t, _ in terms], dtype=np.int64)
        q = np.log(np.array([k for _, k in terms], dtype=np.float64)) + 1.0
        q *= m.idf[ids]
        q /= np.linalg.norm(q)
        # every posting of the text's terms at once: each term's run of positions, laid end to end
        first, lengths = m.starts[ids], m.starts[ids + 1] - m.starts[ids]
        ends = np.cumsum(lengths)
        at = np.arange(ends[-1]) + np.repeat(first - (ends - lengths), lengths)
        weights = m.weights[at] * np.repeat(q, lengths)
        sims = np.bincount(m.rows[at], weights=weights, minlength=m.n_rows)
        best = np.sort(np.where(m.pad, -np.inf, sims[m.slots]), axis=1)[:, -NGRAM_K:]  # padding sorts first
        real = np.isfinite(best)
        out[:] = np.where(real, best, 0.0).sum(axis=1) / np.maximum(real.sum(axis=1), 1)
        return out

    def scores(self, texts: Sequence[str], langs: Sequence[tuple[str, ...] | None]) -> np.ndarray:
        """(rows, categories): each text's ``score`` in its own language (``langs[r][0]``, the detected one);
        a row of zeros when the language is unknown (``langs[r]`` None or every bank language)."""
        out = np.zeros((len(texts), len(self.codes)), dtype=np.float32)
        for r, (text, key) in enumerate(zip(texts, langs, strict=True)):
            if key and len(key) < len(BANK_LANGS) and key[0] in BANK_LANGS:
                out[r] = self.score(text, key[0])
        return out


_VOTE: NgramVote | None = None
_VOTE_LOCK = threading.Lock()


def ngram_vote() -> NgramVote:
    """The process-wide ``NgramVote``."""
    global _VOTE
    with _VOTE_LOCK:
        if _VOTE is None:
            _VOTE = NgramVote()
        return _VOTE
