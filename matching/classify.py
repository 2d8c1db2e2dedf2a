"""Category and action by similarity to the labelled phrase bank, with a calibrated probability per category.

Theory of operation: every phrase of ``data/bank`` is embedded once (on disk: ``cache.embed_cached``)
and, like every text judged, mapped by the bank-fitted ``matching.adapter`` (which shrinks the directions in
which one concept's phrases in different languages scatter). A text's category score is a k-nearest-neighbour
vote: for each category, the mean of the ``KNN_K`` best cosine similarities between the category's phrases
in the text's own languages (its detected language and English, ``Classifier.block``; all of them when
the language is unknown) and (a) the text's item words, (b) the whole text; and (c) the same vote of the
whole text against the labelled ads and requests of ``data/examples`` (``bank.examples``, scoped the same
way): a whole ad is a closer neighbour of another whole ad than of a short phrase; and (d) the text's
character n-grams against the same ads in its own language (``matching.ngrams``), given the texts
(``understand`` does; ``features``, whose distribution also widens a query's search, does not); and (e), given
the texts too, a linear model fitted on the same ads (``matching.linear``, ``W_LINEAR`` times its
log-probabilities; the softmax then runs at ``TEMPERATURE_TEXTS``); and (f), given the texts, for a text
in a language the embedder was not trained on (use-m3: Hindi, Vietnamese, Indonesian), the same kNN vote as
(b) by a second encoder that was (``matching.second``, ``W_SECOND``). Lexical
hits (a bank phrase found verbatim in the text, ``bank.glosses``) and extracted attributes (a tire size
points at ``vehicles/tires``) add fixed amounts. A softmax with temperature ``TEMPERATURE`` turns
the scores into probabilities; the weights and the temperature were fitted on the tuning sets (never on
``heldout``) so that a probability of 0.8 is right about 80% of the time.

The ads' vote (``W_EXAMPLES``) was decided on the three tuning sets, non-English means (``W_ITEM``/``W_TEXT``
.6/.6 without the ads -> .45/.45 with the ads at .3, i.e. a quarter of the score moved to them): top-1 tune
.913 -> .916, tune2 .806 -> .836, tune3 .823 -> .843; category agreement .918 -> .921, .656 -> .718, .668 ->
.692. Adding the ads at .3 or .6 without shrinking the other two (tune2 .820 / .816), half the score (.823),
or the mean of the 5 best (.806) did less. On both sides of tune and tune2 (1,616 texts, gold categories) the
top category's accuracy went from .793 to .818 and the expected calibration error at this temperature from
.064 to .042 (.057 at .025, .052 at .035), so ``TEMPERATURE`` stays.

The n-gram vote (``W_NGRAMS``, session 17) carries what use-m3 misses: in Hindi, Vietnamese and Indonesian,
languages it was not trained on, its vectors of unrelated ads are nearly as close as those of two ads for the
same thing, while the words still share pieces. Decided on the three tuning sets (non-English means; before
-> after): category agreement .921 -> .924, .718 -> .803, .692 -> .706; top-1 .916 -> .916, .836 -> .851, .843
-> .838 (4 pairs of tune3's 840, a third of one concept: adopted on agreement and top-5 rising on all three
and top-1 on their mean); top-5 .982 -> .985, .939 -> .963, .974 -> .979. Weight .3 / .6 gave tune2 agreement
.751 / .770; the vote in the search distribution too (``features``) cost tune3 top-1 .025. On
both sides of tune and tune2 (1,616 texts) the top category's accuracy went from .817 to .863 and the
calibration error at this temperature from .042 to .023 (.036 at .6; .058 at temperature .04), so
``TEMPERATURE`` stays.

How much each vote weighs was then fitted jointly (session 24): the six votes' scores of every text of the
four tuning sets with a gold category (buyers, sellers and negatives, 4,049 texts) as a conditional logit, one
weight per vote. Left out one set at a time, the fit barely changed the category of a text in a language
use-m3 knows (accuracy on the left-out set -.007 / +.007 / +.001 / -.002), so those weights stay; in
Hindi, Vietnamese and Indonesian it moved weight from the embedding votes to the n-grams and the boosts and
raised the left-out accuracy +.011 / +.029 / -.005 / +.028. ``W_UNSEEN`` is the rounded middle of those
four fits. The whole pipeline (non-English means, tune / tune2 / tune3 / tune4): category agreement .936 /
.823 / .751 / .712 -> .941 / .828 / .755 / .738 (tune4, the set whose errors nobody read: Hindi .72 -> .78,
Vietnamese .59 -> .66, Indonesian .73 -> .78); top-1 .924 / .882 / .910 / .817 -> .924 / .884 / .910 /
.817; top-5 unchanged or up. Held-out, read once: agreement .878 -> .880 (Hindi .80 -> .84, Vietnamese .89
-> .91), category .902 -> .906, top-1 .883 -> .881 (one pair). On the 3,771 ads of ``data/eval_ads``, which
nothing is fitted or decided on: category Hindi .738 -> .794, Vietnamese .697 -> .789, Indonesian .900 ->
.892, non-English mean .815 -> .825. The search's distribution (``features``, no n-grams) keeps the one set
of weights.

Action: lexical cues decide when they agree; otherwise the linear model's side vote (``matching.linear``,
fitted on the labelled ads' offers and requests) decides, and an unsure one is reported as uncertain. An
embedder without that model uses the margin between the text's similarity to demand and supply example
phrases (from the language tables). The margin read a long ad without a cue word ("2017 Honda CR-V, 68k
miles, one owner. Asking $17,900 OBO") as a request about one time in three: the phrases are short requests
and offers, and a long description is near neither.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from matching.bank import BANK_LANGS, Gloss, examples, phrases
from matching.brands import BRAND_CATEGORIES, LINES
from matching.cache import embed_cached
from matching.embedder import Embedder, l2_normalise
from matching.knn import PhraseBlock, Views, knn_vote, slot_table
from matching.lexicon import field, languages
from matching.ngrams import ngram_vote
from matching.second import W_SECOND, SecondBank, second_embedder
from matching.word_pairs import follow_words
from wire.taxonomy import taxonomy

if TYPE_CHECKING:
    from matching.linear import LinearModel

#: Language-scoped views of the bank kept per classifier (least recently used first out): one per set of
#: languages seen and kind (phrases, ads), each a contiguous copy of those vectors (3 MB for one language and
#: English; 0.5 MB of ads). Every bank language with English, both kinds: 30.
MAX_LANG_BANKS = 32
#: Weights of the item-word and whole-text kNN scores, of a lexical bank hit, and the softmax temperature.
W_ITEM = 0.45
W_TEXT = 0.45
W_LEXICAL = 0.06
#: Weight of the whole text's kNN score against the labelled ads and requests (``bank.examples``).
W_EXAMPLES = 0.3
#: Weight of the text's character n-gram vote against the examples of its language (``matching.ngrams``).
W_NGRAMS = 1.0
#: Added to every services/* category when the text asks for a person's work ("someone to ...", "repair").
W_SERVICE_HINT = 0.1
#: Added to the category of a bank phrase whose head is a phrase of another category (``Gloss.narrows``: "dog
#: stroller", "туристический рюкзак", "mochila de montaña"): the votes hear the head ("stroller", "рюкзак",
#: "mochila") and the phrase that says otherwise counted ``W_LEXICAL``.
W_NARROW = 0.1
#: Taken from the room to rent when the text counts a home's rooms and names no room apart from that count
#: ("Vendo piso de 3 habitaciones", "Suche 3-Zimmer-Whg", "Eşyalı 1+1 arıyorum": a whole home; "Double room
#: in a 3-bed flatshare" names its room). 0.15 still left "Alquilo piso de 2 habitaciones" a room (.73); of
#: 10,970 readings, three sides move to their gold home (a tune2 buyer, two labelled ads) and two more are no
#: longer asked to pick one (a tune3 buyer, an ad); none leaves property/rooms wrongly.
W_HOME_ROOMS = 0.25
#: Weight of the phrase margin (``Classifier.action_margin``) added to the side model's log-odds when no cue
#: word decides the action (``Classifier.demand_probability``). Every side with a gold action of the tuning
#: sets tune / tune2 / tune3 (eval2 / eval3 / eval4): the margin alone .942 / .965 / .964 (sellers .692 /
#: .708 / .685); the side model alone .966 / .986 / .981; with the margin at 10 .966 / .986 / .985, 25 .966 /
#: .987 / .990, 50 .964 / .984 / .988, 100 .962 / .980 / .983. tune4 (eval5, aggregate only): margin .959,
#: model .968, 25 .971.
W_SIDE_MARGIN = 25.0
#: Added for the categories a recognised brand usually belongs to (half each when it has several).
W_BRAND = 0.15
#: Added instead for the category of a named product line or make ("Galaxy Tab": tablets, not Samsung's
#: phones; ``brands.LINES``), half each when the text names lines of two. With the line glossed as its goods
#: (``canonical.find_glosses``), non-English category agreement on the tuning sets (tune / tune2 / tune3 /
#: tune4) .941 / .847 / .754 / .737 -> .946 / .892 / .771 / .738, top-1 .926 / .888 / .914 / .818 -> .926 /
#: .889 / .914 / .816 (gloss alone, W_LINE 0: agreement .946 / .878 / .768 / .740); held-out agreement .886
#: -> .889, category .906 -> .916, top-1 and top-5 the same (.880, .989). Not in the view that sets filing
#: and search (``canonical.item_view``): there it cost held-out top-1 .010 and top-5 .013.
W_LINE = 0.15
TEMPERATURE = 0.03
#: The temperature when the texts are given (``understand``: the n-gram and linear votes widen the gaps).
TEMPERATURE_TEXTS = 0.04
#: Weight of the linear model's log-probabilities (``matching.linear``), when the texts are given.
W_LINEAR = 0.04
#: The weights of the votes (item words, whole text, ads, n-grams, linear model, fixed boosts) for a text,
#: given, in a language the embedder was not trained on (``Embedder.languages``; use-m3: Hindi, Vietnamese
#: and Indonesian of the bank's 15): its vectors say less there, the text's own words more (module docstring).
W_UNSEEN = (0.15, 0.2, 0.05, 1.3, 0.05, 1.25)
#: attribute -> (category, boost) added to the score.
_ATTR_BOOSTS: dict[str, list[tuple[str, float]]] = {
    "size:tire": [("vehicles/tires", 0.15)],
    "season": [("vehicles/tires", 0.03)],
    "capacity": [("vehicles/parts", 0.04)],
    "model:iphone": [("electronics/phones", 0.12)],
    "model:galaxy": [("electronics/phones", 0.12)],
    "model:pixel": [("electronics/phones", 0.12)],
    "model:redmi": [("electronics/phones", 0.12)],
    "model:ps": [("electronics/consoles", 0.12)],
    "model:xbox": [("electronics/consoles", 0.12)],
    "model:switch": [("electronics/consoles", 0.08)],
    "model:macbook": [("electronics/laptops", 0.12)],
    "model:ipad": [("electronics/tablets", 0.12)],
    "model:galaxy tab": [("electronics/tablets", 0.12)],
    "model:oneplus": [("electronics/phones", 0.12)],
    "model:xiaomi": [("electronics/phones", 0.12)],
    "model:xps": [("electronics/laptops", 0.12)],
    "model:thinkpad": [("electronics/laptops", 0.12)],
    "screen": [("electronics/tv", 0.03)],
    "storage": [("electronics/phones", 0.02), ("electronics/laptops", 0.02), ("electronics/tablets", 0.01)],
}


@dataclass(frozen=True)
class CategoryResult:
    """The classifier's view of one text: best category, its probability, and the next candidates."""

    code: str
    probability: float
    margin: float  # probability of the best minus the second
    candidates: tuple[tuple[str, float], ...]  # the best three (code, probability), best first

    @property
    def runner_up(self) -> str:
        return self.candidates[1][0] if len(self.candidates) > 1 else self.code


#: The classifier's votes, in the order ``Votes`` holds them and ``Classifier.probabilities`` adds them up.
VOTE_NAMES = (
    "item words",
    "whole text",
    "labelled ads",
    "n-grams",
    "second encoder",
    "linear model",
    "boosts",
)


@dataclass(frozen=True)
class Votes:
    """Each vote of the classifier on some texts, before the softmax: ``scores[v]`` (texts, categories) is
    vote ``VOTE_NAMES[v]`` on its own, ``weights[:, v]`` what it counts for in each text's score (0: not
    heard, as the second encoder in a language the embedder knows). Columns in ``codes`` order."""

    codes: tuple[str, ...]
    weights: np.ndarray  # (texts, votes)
    scores: np.ndarray  # (votes, texts, categories)

    def total(self) -> np.ndarray:
        """(texts, categories): the weighted sum of the votes, added in ``VOTE_NAMES`` order."""
        out = self.weights[:, 0:1] * self.scores[0]
        for v in range(1, len(VOTE_NAMES)):
            out += self.weights[:, v : v + 1] * self.scores[v]
        return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class BankVectors:
    codes: tuple[str, ...]  # category codes, the order of every score row
    whole: PhraseBlock  # every distinct bank phrase, columns of ``slots`` in ``codes`` order
    demand: np.ndarray
    supply: np.ndarray
    rows_by_lang: dict[str, np.ndarray]  # language -> rows of ``whole.vectors`` holding a phrase of it
    examples: PhraseBlock  # every labelled ad and request (``bank.examples``), the same way
    example_rows_by_lang: dict[str, np.ndarray]  # language -> rows of ``examples.vectors`` in it
    example_labels: np.ndarray  # the column in ``codes`` of each row of ``examples.vectors``
    linear: LinearModel | None  # the linear model of the ads for this embedder (``matching.linear``)
    texts: tuple[str, ...]  # the phrase of each row of ``whole.vectors``


def action_examples() -> tuple[list[str], list[str]]:
    """Demand and supply example phrases of every language table."""
    demand: list[str] = []
    supply: list[str] = []
    for lang in languages():
        demand += [str(x) for x in field(lang, "action_examples.demand")]
        supply += [str(x) for x in field(lang, "action_examples.supply")]
    return demand, supply


class Classifier:
    """Bank classifier bound to one embedder; the bank vectors are computed (or loaded) once, lazily."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        from matching.adapter import adapter_for  # not at import: ``python -m matching.adapter`` runs it

        self._map = adapter_for(embedder)
        self._bank: BankVectors | None = None
        self._blocks = Views()
        self._lock = threading.Lock()
        second = second_embedder() if getattr(embedder, "languages", None) is not None else None
        self._second = SecondBank(second) if second is not None else None

    def adapt(self, vectors: np.ndarray) -> np.ndarray:
        """Embedder vectors mapped into the space the vote compares in (``matching.adapter``)."""
        if self._map is None:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        return l2_normalise(np.asarray(vectors, dtype=np.float32) @ self._map)

    def linear(self) -> LinearModel | None:
        """The linear model of the ads for this embedder, columns in ``bank().codes`` order, or None."""
        return self.bank().linear

    def bank(self) -> BankVectors:
        """The bank phrases' and action examples' vectors, in the vote's space (computed once)."""
        with self._lock:
            if self._bank is None:
                codes = tuple(c.code for c in taxonomy().categories)
                col = {c: i for i, c in enumerate(codes)}
                ordered = sorted(phrases(), key=lambda p: col[p.category])
                texts = sorted({p.text for p in ordered})
                where = {t: i for i, t in enumerate(texts)}
                demand, supply = action_examples()
                vecs = self.adapt(embed_cached(self.embedder, texts + demand + supply))
                n = len(texts)
                per_cat: list[dict[int, None]] = [{} for _ in codes]
                by_lang: dict[str, dict[int, None]] = {lang: {} for lang in BANK_LANGS}
                for p in ordered:
                    row = where[p.text]
                    per_cat[col[p.category]][row] = None
                    by_lang[p.lang][row] = None
                ads = examples()
                ex_cat: list[list[int]] = [[] for _ in codes]
                ex_lang: dict[str, list[int]] = {lang: [] for lang in BANK_LANGS}
                for row, e in enumerate(ads):
                    ex_cat[col[e.category]].append(row)
                    ex_lang[e.lang].append(row)
                ex_vecs = self.adapt(embed_cached(self.embedder, [e.text for e in ads]))
                from matching.linear import linear_for  # not at import: ``python -m matching.linear`` runs it

                self._bank = BankVectors(
                    codes,
                    PhraseBlock(np.ascontiguousarray(vecs[:n]), *slot_table([list(r) for r in per_cat])),
                    vecs[n : n + len(demand)],
                    vecs[n + len(demand) :],
                    {lang: np.array(sorted(r), dtype=np.int64) for lang, r in by_lang.items()},
                    PhraseBlock(ex_vecs, *slot_table(ex_cat)),
                    {lang: np.array(r, dtype=np.int64) for lang, r in ex_lang.items()},
                    np.array([col[e.category] for e in ads], dtype=np.int64),
                    linear_for(self.embedder, codes),
                    tuple(texts),
                )
            return self._bank

    def block(self, langs: tuple[str, ...] | None, ads: bool = False) -> PhraseBlock:
        """The phrases (with ``ads``: the labelled ads) a text in ``langs`` is compared with: those of its
        languages (its detected language and English, ``lexicon.scope``), or all of them when the languages
        are unknown or cover every bank language. Cross-language similarity of a sentence to a short phrase is
        the noisiest part of the vote, and the scoped scan reads ~2/15 of the bank. On eval2's tune split
        (non-English mean), scoped against the whole bank: category agreement .880 / .875, top-1 .844 /
        .847, top-5 .949 / .947."""
        bank = self.bank()
        whole, by_lang = (
            (bank.examples, bank.example_rows_by_lang) if ads else (bank.whole, bank.rows_by_lang)
        )
        key = bank_languages(langs, by_lang)
        if not key or len(key) == len(by_lang):
            return whole
        with self._lock:
            found = self._blocks.recent((ads, key))
        if found is not None:
            return found
        made = whole.scope(by_lang, key)
        with self._lock:
            self._blocks.keep((ads, key), made, MAX_LANG_BANKS)
        return made

    def knn_scores(
        self,
        vectors: np.ndarray,
        langs: Sequence[tuple[str, ...] | None] | None = None,
        ads: bool = False,
    ) -> np.ndarray:
        """(rows, categories): mean of the ``KNN_K`` best similarities to each category's phrases (with
        ``ads``: to its labelled ads and requests).

        Args:
            vectors: one row per text (the embedder's vectors; ``adapt`` maps them).
            langs: per row, the text's languages (``block``); None: every row against the whole bank.
            ads: compare with the labelled ads and requests (``bank.examples``) instead of the phrases.
        """
        return self._vote(self.adapt(vectors), langs, ads)

    def _vote(
        self, vectors: np.ndarray, langs: Sequence[tuple[str, ...] | None] | None, ads: bool
    ) -> np.ndarray:
        """``knn_scores`` of vectors already mapped by ``adapt``."""
        keys = list(langs) if langs is not None else [None] * len(vectors)
        out = np.empty((len(vectors), len(self.bank().codes)), dtype=np.float32)
        groups: dict[tuple[str, ...] | None, list[int]] = {}
        for r, key in enumerate(keys):
            groups.setdefault(key, []).append(r)
        for key, rows in groups.items():
            out[rows] = knn_vote(vectors[rows], self.block(key, ads))
        return out

    def votes(
        self,
        item_vectors: np.ndarray,
        text_vectors: np.ndarray,
        boosts: list[dict[str, float]],
        langs: Sequence[tuple[str, ...] | None] | None = None,
        texts: Sequence[str] | None = None,
    ) -> Votes:
        """Every vote on each text, each on its own with its weight (``Votes``): what ``probabilities`` sums
        before its softmax, and what ``metaspace understand --explain`` shows.

        Args:
            item_vectors: embeddings of the item renderings (one row per text).
            text_vectors: embeddings of the whole texts.
            boosts: per text, category -> amount added to the score (lexical hits, attributes, hints).
            langs: per text, its languages (``block``); None: the whole bank for every text.
            texts: the texts themselves, for the n-gram vote (``matching.ngrams``, needs ``langs``); None:
                no n-gram vote.
        """
        bank = self.bank()
        rows, cats = len(text_vectors), len(bank.codes)
        text = self.adapt(text_vectors)  # once for both of the whole text's votes
        item = self.adapt(item_vectors)
        w = self._weights(rows, langs if texts is not None else None)
        weights = np.zeros((rows, len(VOTE_NAMES)), dtype=np.float32)
        scores = np.zeros((len(VOTE_NAMES), rows, cats), dtype=np.float32)
        weights[:, 0:3] = w[:, 0:3]
        scores[0] = self._vote(item, langs, ads=False)
        scores[1] = self._vote(text, langs, ads=False)
        scores[2] = self._vote(text, langs, ads=True)
        if texts is not None and langs is not None:
            weights[:, 3] = w[:, 3]
            scores[3] = ngram_vote().scores(texts, langs)
            self._second_vote(weights, scores, texts, langs)
        if texts is not None and bank.linear is not None:
            weights[:, 5] = w[:, 4]
            scores[5] = bank.linear.log_probabilities(0.5 * (text + item))
        weights[:, 6] = w[:, 5]
        col = {c: i for i, c in enumerate(bank.codes)}
        for r, b in enumerate(boosts):
            for code, amount in b.items():
                if code in col:
                    scores[6, r, col[code]] += amount
        return Votes(bank.codes, weights, scores)

    def _second_vote(
        self,
        weights: np.ndarray,
        scores: np.ndarray,
        texts: Sequence[str],
        langs: Sequence[tuple[str, ...] | None],
    ) -> None:
        """In place: the second encoder's kNN vote against the bank phrases of the text's languages
        (``matching.second``) at ``W_SECOND``, for each text in a language the embedder was not trained on."""
        if self._second is None:
            return
        bank = self.bank()
        groups: dict[tuple[str, ...], list[int]] = {}
        for r in map(int, np.flatnonzero(self._unseen(langs))):
            groups.setdefault(bank_languages(langs[r], bank.rows_by_lang), []).append(r)
        for key, rows in groups.items():
            if key:
                block = self._second.block(key, bank.rows_by_lang, bank.whole, bank.texts)
                weights[rows, 4] = W_SECOND
                scores[4, rows] = knn_vote(self._second.embedder.embed([texts[r] for r in rows]), block)

    def probabilities(
        self,
        item_vectors: np.ndarray,
        text_vectors: np.ndarray,
        boosts: list[dict[str, float]],
        langs: Sequence[tuple[str, ...] | None] | None = None,
        texts: Sequence[str] | None = None,
    ) -> np.ndarray:
        """(rows, categories): the calibrated category distribution of each text (columns: ``bank().codes``):
        the softmax of the votes' sum (``votes``, same arguments), then the word pairs
        (``word_pairs.WORD_PAIRS``)."""
        votes = self.votes(item_vectors, text_vectors, boosts, langs, texts)
        logits = votes.total() / (TEMPERATURE if texts is None else TEMPERATURE_TEXTS)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs = np.asarray(probs / probs.sum(axis=1, keepdims=True), dtype=np.float32)
        if texts is not None and langs is not None:
            follow_words(probs, texts, langs, {c: i for i, c in enumerate(votes.codes)})
        return probs

    def _weights(self, rows: int, langs: Sequence[tuple[str, ...] | None] | None) -> np.ndarray:
        """(rows, 6): per text, the weights of its votes: ``W_UNSEEN`` for a text in a language the embedder
        was not trained on (given ``langs``), else ``W_ITEM`` ... ``W_LINEAR`` and 1 for the boosts."""
        known = np.array([W_ITEM, W_TEXT, W_EXAMPLES, W_NGRAMS, W_LINEAR, 1.0], dtype=np.float32)
        w = np.tile(known, (rows, 1))
        if langs is not None:
            w[self._unseen(langs)] = W_UNSEEN
        return w

    def _unseen(self, langs: Sequence[tuple[str, ...] | None]) -> np.ndarray:
        """(texts,) bool: whether each text's first language is one the embedder was not trained on (all False
        for an embedder that names no languages)."""
        trained: frozenset[str] | None = getattr(self.embedder, "languages", None)
        return np.array(
            [bool(trained is not None and key and key[0] not in trained) for key in langs], dtype=bool
        )

    def categories(
        self,
        item_vectors: np.ndarray,
        text_vectors: np.ndarray,
        boosts: list[dict[str, float]],
        langs: Sequence[tuple[str, ...] | None] | None = None,
        texts: Sequence[str] | None = None,
    ) -> list[CategoryResult]:
        """Per text: the best three categories of ``probabilities`` (same arguments)."""
        bank = self.bank()
        probs = self.probabilities(item_vectors, text_vectors, boosts, langs, texts)
        out: list[CategoryResult] = []
        for r in range(probs.shape[0]):
            order = np.argsort(-probs[r])[:3]
            cands = tuple((bank.codes[int(i)], float(probs[r, int(i)])) for i in order)
            out.append(CategoryResult(cands[0][0], cands[0][1], cands[0][1] - cands[1][1], cands))
        return out

    def action_margin(self, vectors: np.ndarray) -> np.ndarray:
        """Per row: mean top-3 similarity to demand examples minus the same for supply (> 0 = demand)."""
        return self._margin(self.adapt(vectors))

    def _margin(self, adapted: np.ndarray) -> np.ndarray:
        bank = self.bank()
        d = np.sort(adapted @ bank.demand.T, axis=1)[:, -3:].mean(axis=1)
        s = np.sort(adapted @ bank.supply.T, axis=1)[:, -3:].mean(axis=1)
        return np.asarray(d - s, dtype=np.float32)

    def demand_probability(self, vectors: np.ndarray) -> np.ndarray:
        """Per row of embedder vectors: how likely the text asks for something rather than offers it, from its
        wording alone (``understand`` asks this when no cue word decides). The linear model's side vote where
        the embedder has one (``matching.linear``: fitted on the 4,504 labelled ads, offers and requests,
        where the margin compares with a few short phrases per language: "for sale", "looking for"), its
        log-odds plus ``W_SIDE_MARGIN`` times the margin (``action_margin``); else the margin as a
        probability, .5 + 4 x margin."""
        bank = self.bank()
        adapted = self.adapt(vectors)
        margin = self._margin(adapted)
        if bank.linear is not None:
            z = bank.linear.seek_log_odds(adapted) + W_SIDE_MARGIN * margin
            return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)
        return np.asarray(np.clip(0.5 + 4.0 * margin, 0.0, 1.0), dtype=np.float32)


def bank_languages(langs: tuple[str, ...] | None, by_lang: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The languages of ``langs`` the bank has phrases in (``by_lang``'s keys), sorted: a scoped view's
    key."""
    return tuple(sorted({lang for lang in langs or () if lang in by_lang}))


def text_boosts(attributes: dict[str, str], glosses: Sequence[Gloss], service_hint: bool) -> dict[str, float]:
    """Every fixed category boost of one text: attributes and brand, bank phrases found (``W_LEXICAL``, and
    ``W_NARROW`` more where a phrase narrows another category's: ``Gloss.narrows``), "someone to ..."."""
    b = attribute_boosts(attributes)
    gloss_categories = [g.category for g in glosses]
    for code, w in lexical_weights(gloss_categories).items():
        b[code] = b.get(code, 0.0) + w
    for code in dict.fromkeys(g.category for g in glosses if g.narrows):
        b[code] = b.get(code, 0.0) + W_NARROW
    if service_hint:
        for code in taxonomy().codes:
            if code.startswith("services/"):
                b[code] = b.get(code, 0.0) + W_SERVICE_HINT
    if "bedrooms" in attributes and "property/rooms" not in gloss_categories:
        b["property/rooms"] = b.get("property/rooms", 0.0) - W_HOME_ROOMS
    return b


def lexical_weights(categories: list[str]) -> dict[str, float]:
    """Boosts for the categories of the bank phrases a text mentions, in text order: the first named item is
    most likely the thing itself ("tangerines ..., delivery possible"): later mentions count half as much."""
    out: dict[str, float] = {}
    weight = W_LEXICAL
    for c in categories:
        if c not in out:
            out[c] = weight
            weight /= 2
    return out


def attribute_boosts(attributes: dict[str, str]) -> dict[str, float]:
    """Category boosts implied by extracted attributes (tire size, model, brand, ...)."""
    out: dict[str, float] = {}
    lines = list(dict.fromkeys(LINES[s][0] for s in attributes.get("line", "").split(",") if s in LINES))
    cats = lines or BRAND_CATEGORIES.get(attributes.get("brand", ""), [])
    w = W_LINE if lines else W_BRAND
    for code in cats:
        out[code] = out.get(code, 0.0) + (w if len(cats) == 1 else w / 2)
    keys: list[str] = []
    if "size" in attributes and "/" in attributes["size"]:
        keys.append("size:tire")
    if "model" in attributes:  # its family: two words ("galaxy tab s9") or one ("galaxy s23")
        words = attributes["model"].split(" ")
        two = "model:" + " ".join(words[:2])
        keys.append(two if two in _ATTR_BOOSTS else "model:" + words[0])
    for k in ("season", "screen", "storage", "capacity"):
        if k in attributes:
            keys.append(k)
    for k in keys:
        for code, b in _ATTR_BOOSTS.get(k, []):
            out[code] = out.get(code, 0.0) + b
    return out


_CLASSIFIERS: dict[int, Classifier] = {}
_LOCK = threading.Lock()


def classifier_for(embedder: Embedder) -> Classifier:
    """The cached classifier of ``embedder`` (one per embedder object per process)."""
    with _LOCK:
        c = _CLASSIFIERS.get(id(embedder))
        if c is None or c.embedder is not embedder:
            c = Classifier(embedder)
            _CLASSIFIERS[id(embedder)] = c
        return c
