"""Word alignment: how much of a query's wording a candidate covers, word by word, across languages.

Why: the sentence embedding ranks the right ad and its near twin almost alike (the same item, but weekday
evenings against weekends, girls' against boys', front against rear). Where the query names the detail, one of
its words has a close counterpart among the right ad's words and none among the twin's, even in another
language: use-m3 maps single words of its languages into the space it maps sentences to. So
``recall(query, candidate)`` is the mean, over the query's units, of the best cosine against the candidate's
units, each unit embedded alone (and mapped as ``WordVectors`` says). A long ad is not penalised for saying
more (its other words do not count), and a unit the query shares with every candidate moves them all alike.

Units (``units``): the words of the normalised text (``lexicon.WORD``: letters with their combining marks, so
a Devanagari vowel sign stays inside its word) that are not stopwords of any language and have three
characters or more; a run of Han, kana or Hangul (``lexicon.CJK``) longer than two characters gives its
character bigrams instead (Chinese and Japanese don't separate words, Korean glues endings on). At most
``MAX_UNITS`` per text, in order of appearance; the units of the last ``UNITS_CACHE`` texts are remembered.
A query in a language that writes a word as several syllables (Vietnamese) is read with its adjacent syllable
pairs too (``query_units``). A Devanagari word that borrows an English one is read as that word
(``loans.loanword``: "केटलबेल" is "kettlebell"): use-m3 places the English word, not the Hindi spelling, near
its translations. Decided on the three tuning sets (non-English top-1): tune .918 -> .918, tune2 .855 -> .860
(Hindi .795 -> .863), tune3 .857 -> .856 (Hindi .900 -> .883).

Vectors (``WordVectors``): the units not seen before are embedded in one batch; up to ``MAX_WORDS`` are kept
(least recently used dropped first), as float16 (1 KB each at 512 dimensions). One search embeds at most
``(RERANK_K + 1) * MAX_UNITS`` units (352), whatever its candidates' texts hold: ads made of fresh words to
spend a searcher's time are bounded by that.

Decided on the three tuning sets, then measured once on held-out (non-English top-1, one BLAS thread; the
index adds ``score.W_WORDS`` times the recall to the score of its first ``RERANK_K`` candidates): tune .898 ->
.913, tune2 .757 -> .797, tune3 .748 -> .819; held-out .774 -> .843 (top-5 unchanged, .960). On tune /
tune2 the weights .5, 1 and 2 gave .908 / .787, .913 / .797 and .903 / .809 (1 kept); the reverse direction
(how much of the candidate the query covers) made both worse (.888 / .734 at .2); before words kept their
vowel signs, tune's Hindi top-1 fell from .86 to .79.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache, partial
from itertools import zip_longest

import numpy as np

from matching.classify import classifier_for
from matching.cues import stopwords
from matching.embedder import Embedder
from matching.extract import normalise
from matching.lang import detect_language
from matching.lexicon import CJK, WORD, languages, table
from matching.loans import loanword
from matching.score import rank_key, with_words
from wire.intent import Intent

#: Units read from one text (bounds the embedding and the comparison per candidate).
MAX_UNITS = 32
#: Unit vectors kept by one ``WordVectors`` (least recently used dropped first).
MAX_WORDS = 20_000
#: A query unit and its closest candidate unit are told to the human as words in common (``shared``) from this
#: cosine (in the adapted space, see ``WordVectors``): of 25 translation pairs ("weekends"/"周末",
#: "leather"/"cuero") 21 reach it (median .83), of 10 opposites ("girls"/"boys" .63) one
#: ("weekends"/"weekdays" .82), of 8 unrelated pairs none (at most .29).
SHARED_MIN_COSINE = 0.70
#: Word pairs told per candidate.
MAX_SHARED = 5
#: Texts whose units are remembered: a search reads the units of its first candidates, the same ads again
#: at every watch round.
UNITS_CACHE = 4096
_MIN_LETTERS = 3


@lru_cache(maxsize=UNITS_CACHE)
def units(text: str | None) -> tuple[str, ...]:
    """The comparable units of ``text`` (see the module docstring); empty for None or no words."""
    return _read(text, pairs=False) if text else ()


def _word_units(word: str, stop: frozenset[str]) -> list[str]:
    """The units of one ``lexicon.WORD`` match: its character bigrams for a CJK run longer than two, else the
    word itself when it is not a stopword and has ``_MIN_LETTERS`` or more."""
    if CJK.search(word):
        return [word] if len(word) <= 2 else [word[i : i + 2] for i in range(len(word) - 1)]
    return [word] if len(word) >= _MIN_LETTERS and word not in stop else []


@lru_cache(maxsize=UNITS_CACHE)
def query_units(text: str | None, lang: str | None = None) -> tuple[str, ...]:
    """The units a query is compared by: ``units``, and when the text's language (``lang``, else detected)
    writes a word as space-separated syllables (its table's ``syllables``: Vietnamese), each pair of adjacent
    syllables too, after the first of them ("phiên dịch tiếng hàn" -> "phiên", "phiên dịch", "dịch", "dịch
    tiếng", ...), unless both are stopwords; at most ``MAX_UNITS`` in all.

    Only the query: "phiên dịch" (interpreting) and "tiếng hàn" (Korean) mean what the single syllables do
    not, and a query's pair finds its meaning among a candidate's words in any language. Decided on the three
    tuning sets (non-English top-1, after the adapter): tune .913 -> .913, tune2 .801 -> .803 (Vietnamese
    .644 -> .671), tune3 .820 -> .823 (.850 -> .883); giving candidates the pairs too lost tune3 a pair
    (.819), giving every language's query its word pairs lost tune (.908) and tune2 (.800). Held-out,
    measured once with the adapter (``WordVectors``): Vietnamese .75 -> .80.
    """
    if not text:
        return ()
    code = lang or detect_language(text)[0]
    return _read(text, pairs=code in languages() and bool(table(code).get("syllables")))


def _read(text: str, pairs: bool) -> tuple[str, ...]:
    """The units of ``text`` in order of appearance, with ``pairs`` each two adjacent words separated by one
    space (unless both are stopwords) after the first of them; at most ``MAX_UNITS``."""
    stop = stopwords()
    norm = normalise(text)
    words = list(WORD.finditer(norm))
    out: dict[str, None] = {}
    for a, b in zip_longest(words, words[1:]):
        w = a.group()
        out.update(dict.fromkeys(_word_units(loanword(w) or w, stop)))
        spaced = pairs and b is not None and norm[a.end() : b.start()] == " "
        if spaced and not (a.group() in stop and b.group() in stop):
            out[f"{a.group()} {b.group()}"] = None
        if len(out) >= MAX_UNITS:
            break
    return tuple(out)[:MAX_UNITS]


def recall(query: np.ndarray, candidate: np.ndarray) -> float | None:
    """Mean over the rows of ``query`` of their best cosine against the rows of ``candidate`` (both unit
    vectors, one row per unit); None when either has no row."""
    if len(query) == 0 or len(candidate) == 0:
        return None
    return float((query @ candidate.T).max(axis=1).mean())


def recalls(query: np.ndarray, candidates: np.ndarray, lengths: list[int]) -> list[float | None]:
    """``recall`` of ``query`` against each of several candidates at once: their unit rows stacked in
    ``candidates``, ``lengths[i]`` rows for the i-th, in order (one product for all)."""
    out: list[float | None] = [None] * len(lengths)
    filled = [i for i, n in enumerate(lengths) if n]
    if len(query) == 0 or not filled:
        return out
    # each filled candidate's first column; an empty one has no column, so the next start ends the segment
    starts = np.cumsum([0, *lengths[:-1]])[filled]
    best = np.maximum.reduceat(query @ candidates.T, starts, axis=1)
    for i, mean in zip(filled, best.mean(axis=0).tolist(), strict=True):
        out[i] = mean
    return out


#: Candidates (the best by the score without words) whose words are compared with the query's (``by_words``).
RERANK_K = 10
#: Finds the words a candidate has in common with the query, when an explanation asks (``shared``).
Pairs = Callable[[], tuple[tuple[str, str], ...]]
Ranked = list[tuple[float, float, float, Intent]]


def by_words(
    vectors: WordVectors, q_units: tuple[str, ...], ranked: Ranked, k: int
) -> tuple[Ranked, dict[bytes, Pairs]]:
    """The first ``k`` of ``ranked`` (``(score, similarity, distance_km, intent)``, best first) rescored with
    the word alignment (``score.with_words``), best first again: the first ``RERANK_K`` by how well their
    words cover the query's (``recall``; one without words by its similarity instead), the others with no word
    credit, so that they stay behind those. Also, by intent id, how to find the words in common (``shared``)
    of those returned."""
    head = ranked[:RERANK_K]
    c_units = [units(c.text) for *_, c in head]
    rows = vectors.stacked([q_units, *c_units])
    q, c_rows = rows[: len(q_units)], rows[len(q_units) :]
    got = recalls(q, c_rows, [len(us) for us in c_units])
    out = [
        (with_words(score, sim if r is None else r), sim, dist, cand)
        for (score, sim, dist, cand), r in zip(head, got, strict=True)
    ]
    out += [(with_words(score, 0.0), sim, dist, cand) for score, sim, dist, cand in ranked[RERANK_K:k]]
    out.sort(key=rank_key)
    kept = {cand.id for *_, cand in out[:k]}
    ends = np.cumsum([0, *map(len, c_units)]).tolist()
    pairs: dict[bytes, Pairs] = {
        cand.id: partial(shared, q_units, q, us, c_rows[a:b])
        for (*_, cand), us, a, b in zip(head, c_units, ends[:-1], ends[1:], strict=True)
        if cand.id in kept
    }
    return out, pairs


def shared(
    query_units: tuple[str, ...], query: np.ndarray, cand_units: tuple[str, ...], candidate: np.ndarray
) -> tuple[tuple[str, str], ...]:
    """The query's units and their closest candidate units, at least ``SHARED_MIN_COSINE`` apart, closest
    first (at most ``MAX_SHARED``): what an explanation shows of the word alignment."""
    if len(query) == 0 or len(candidate) == 0:
        return ()
    sims = query @ candidate.T
    best = sims.argmax(axis=1)
    top = sims[np.arange(len(best)), best]
    order = [i for i in np.argsort(-top, kind="stable").tolist() if top[i] >= SHARED_MIN_COSINE]
    return tuple((query_units[i], cand_units[int(best[i])]) for i in order[:MAX_SHARED])


class WordVectors:
    """Unit -> unit vector of one embedder, embedding each unit once while it is kept (``MAX_WORDS``).

    The vectors are mapped by the classifier's bank-fitted adapter (``matching.adapter``; none for a model it
    was not fitted for), which shrinks the directions in which one concept's phrases in different languages
    scatter, and an opposite falls further than a translation ("delantero": "front" .76 -> .64, "rear" .65 ->
    .49, a margin of .11 -> .15; "girls": "niñas" .88 -> .83, "boys" .71 -> .63, .17 -> .20). Decided on the
    three tuning sets (non-English top-1, word alignment in the embedder's own space -> adapted): tune .913 ->
    .913, tune2 .797 -> .801, tune3 .819 -> .820. Held-out, measured once with ``query_units``: .843 -> .843
    (languages moved both ways by a pair or two; Vietnamese .75 -> .80, Hindi .75 -> .71).
    """

    def __init__(self, embedder: Embedder, capacity: int = MAX_WORDS) -> None:
        if capacity < MAX_UNITS:
            raise ValueError(f"capacity must be at least {MAX_UNITS}")
        self.embedder = embedder
        self.capacity = capacity
        self._adapt = classifier_for(embedder).adapt
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._vectors)

    def stacked(self, texts: list[tuple[str, ...]]) -> np.ndarray:
        """The vectors of every unit of ``texts`` (tuples of at most ``MAX_UNITS``, from ``units``), one
        float32 row each, tuple after tuple; the units not kept are embedded in one batch."""
        missing = list(dict.fromkeys(u for us in texts for u in us if u not in self._vectors))
        if missing:
            for u, v in zip(missing, self._adapt(self.embedder.embed(missing)), strict=True):
                self._vectors[u] = v.astype(np.float16)
        rows = []
        for us in texts:
            for u in us:
                rows.append(self._vectors[u])
                self._vectors.move_to_end(u)
        while len(self._vectors) > self.capacity:
            self._vectors.popitem(last=False)
        if not rows:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack(rows).astype(np.float32)
