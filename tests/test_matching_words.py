"""Word alignment (matching.words) and its use in LocalIndex.search: units, recall, vector cache, rerank."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import matching.words as words_module
from matching.classify import Classifier
from matching.embedder import get_embedder, l2_normalise
from matching.index import LocalIndex
from matching.score import W_WORDS, with_words
from matching.words import (
    MAX_SHARED,
    MAX_UNITS,
    RERANK_K,
    SHARED_MIN_COSINE,
    WordVectors,
    query_units,
    recall,
    recalls,
    shared,
    units,
)
from tests.test_matching_index import NOW, HashEmbedder, Recording, mk
from wire.intent import Action


def test_units_keep_a_devanagari_word_whole_with_its_vowel_signs() -> None:
    # [^\W\d_]+ alone cuts at the vowel signs (marks, not letters): "किताबें" would be five pieces
    assert units("पुरानी किताबें सप्ताहांत") == ("पुरानी", "किताबें", "सप्ताहांत")


def test_units_drop_stopwords_short_words_and_numbers() -> None:
    # "sell" and "vendo" are action cues, stopwords of the identifiers and of the units alike
    assert units("I sell the red sofa, 2 seats, 300 EUR") == ("red", "sofa", "seats", "eur")
    assert units("Vendo el sofá de cuero") == ("sofá", "cuero")


def test_units_read_unspaced_scripts_as_bigrams_and_short_runs_whole() -> None:
    assert units("周末兼职") == ("周末", "末兼", "兼职")
    assert units("求 沙发") == ("求", "沙发")
    assert units("주말 알바구합니다") == ("주말", "알바", "바구", "구합", "합니", "니다")


def test_a_vietnamese_query_is_also_read_as_syllable_pairs() -> None:
    text = "Cần phiên dịch tiếng Hàn, gặp đối tác"
    got = query_units(text, "vi")
    assert got == (
        "cần phiên", "phiên", "phiên dịch", "dịch", "dịch tiếng", "tiếng", "tiếng hàn", "hàn", "gặp",
        "gặp đối", "đối", "đối tác", "tác",
    )  # fmt: skip
    assert set(units(text)) < set(got)  # the single syllables stay; no pair across the comma ("hàn gặp")
    assert query_units(text) == got  # the language detected when the intent does not say
    assert query_units(text, "es") == units(text)  # a language written in whole words: the units alone
    assert query_units(text, "zz") == units(text) and query_units(None, "vi") == ()  # unknown, nothing
    assert query_units("12 34 !!", "vi") == ()  # no word at all (this raised ValueError before 13b2648's fix)
    assert query_units("cần mua xe máy", "vi") == ("mua xe", "xe máy", "máy")  # "cần mua": two stopwords
    assert len(query_units(" ".join(["phiên dịch"] * 40 + [f"từ{i}" for i in range(60)]), "vi")) <= MAX_UNITS


def test_units_are_bounded_and_empty_for_nothing() -> None:
    assert units(None) == () and units("") == () and units("12 34 !!") == ()
    long = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(200))
    assert len(units(long)) == MAX_UNITS
    assert len(units("字" * 5000)) == 1  # one repeated bigram


def test_recall_is_the_mean_best_cosine_of_the_query_units() -> None:
    a, b, c = np.eye(3, dtype=np.float32)
    q = np.stack([a, b])
    assert recall(q, np.stack([a, b, c])) == pytest.approx(1.0)
    assert recall(q, np.stack([a, c])) == pytest.approx(0.5)  # b has no counterpart
    assert recall(q, np.stack([c])) == pytest.approx(0.0)
    half = l2_normalise(np.array([[1.0, 1.0, 0.0]]))
    assert recall(np.stack([a]), half) == pytest.approx(2**-0.5)
    assert recall(q, np.zeros((0, 3), dtype=np.float32)) is None
    assert recall(np.zeros((0, 3), dtype=np.float32), q) is None


def test_recalls_equal_recall_per_candidate_including_empty_ones() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        q = l2_normalise(rng.standard_normal((int(rng.integers(0, 5)), 8)))[: int(rng.integers(0, 5))]
        cands = [l2_normalise(rng.standard_normal((int(rng.integers(0, 4)), 8))) for _ in range(6)]
        cands = [c[: int(rng.integers(0, len(c) + 1))] for c in cands]  # some candidates have no rows
        stacked = np.concatenate(cands) if any(len(c) for c in cands) else np.zeros((0, 8), np.float32)
        got = recalls(q, stacked, [len(c) for c in cands])
        want = [recall(q, c) for c in cands]
        assert [g is None for g in got] == [w is None for w in want]
        filled = [w for w in want if w is not None]
        assert [g for g in got if g is not None] == pytest.approx(filled, abs=1e-6)


def test_shared_tells_the_close_pairs_closest_first() -> None:
    a, b, c = np.eye(3, dtype=np.float32)
    near_a = l2_normalise(np.array([[0.9, 0.1, 0.0]]))[0]  # cosine .994 with a
    far = l2_normalise(np.array([[1.0, 1.0, 1.0]]))[0]  # .577 with each: under SHARED_MIN_COSINE
    assert far @ a < SHARED_MIN_COSINE
    q = np.stack([a, b, c])
    got = shared(("uno", "dos", "tres"), q, ("one", "two", "x"), np.stack([near_a, b, far]))
    assert got == (("dos", "two"), ("uno", "one"))  # b: cosine 1, a: .994; c has nothing close
    assert shared(("uno",), q[:1], (), np.zeros((0, 3), np.float32)) == ()
    many = tuple(f"w{i}" for i in range(MAX_SHARED + 3))
    rows = l2_normalise(np.random.default_rng(0).standard_normal((len(many), 16)))
    assert len(shared(many, rows, many, rows)) == MAX_SHARED


def test_word_vectors_embed_each_unit_once_and_forget_the_least_recent() -> None:
    emb = Recording()
    wv = WordVectors(emb, capacity=MAX_UNITS)
    first = wv.stacked([("sofa", "red"), ("red", "chair")])
    assert emb.texts == ["sofa", "red", "chair"]  # one batch, each unit once
    assert first.shape == (4, emb.dim) and first.dtype == np.float32
    np.testing.assert_allclose(first[1], first[2])  # "red" twice, the same vector
    again = wv.stacked([("sofa",)])
    assert emb.texts == ["sofa", "red", "chair"]  # kept: not embedded again
    np.testing.assert_allclose(again[0], first[0], atol=1e-3)  # stored as float16
    np.testing.assert_allclose(again[0], emb.embed(["sofa"])[0], atol=1e-3)
    filler = tuple(f"w{i}" for i in range(MAX_UNITS - 1))
    wv.stacked([filler])
    assert len(wv) == MAX_UNITS  # "sofa" was used last of the three: "red" and "chair" went first
    seen = len(emb.texts)
    wv.stacked([("sofa", "red")])
    assert emb.texts[seen:] == ["red"]
    assert wv.stacked([()]).shape == (0, emb.dim)
    with pytest.raises(ValueError):
        WordVectors(emb, capacity=1)


def test_use_m3_word_vectors_are_adapted_and_tell_a_translation_from_an_opposite_better() -> None:
    emb = get_embedder()
    raw = emb.embed(["delantero", "front", "rear"])
    got = WordVectors(emb).stacked([("delantero", "front", "rear")])
    # the classifier's map, then unit length (float16 storage)
    np.testing.assert_allclose(got, Classifier(emb).adapt(raw), atol=2e-3)
    assert not np.allclose(got, raw, atol=0.05)

    def margin(v: np.ndarray) -> float:  # "delantero" to "front" minus "delantero" to "rear"
        return float(v[0] @ v[1] - v[0] @ v[2])

    assert margin(raw) > 0 and margin(got) > margin(raw) + 0.02
    # the explanation's cut in that space: a translation is told as a word in common, an opposite is not
    w = WordVectors(emb).stacked([("niñas", "girls", "boys")])
    assert shared(("niñas",), w[:1], ("girls",), w[1:2]) == (("niñas", "girls"),)
    assert shared(("niñas",), w[:1], ("boys",), w[2:]) == ()


def test_with_words_stays_in_the_unit_interval() -> None:
    assert with_words(0.6, 0.8) == pytest.approx((0.6 + W_WORDS * 0.8) / (1 + W_WORDS))
    assert with_words(0.6, -0.3) == pytest.approx(0.6 / (1 + W_WORDS))  # no credit for a negative recall
    assert with_words(1.0, 1.0) == 1.0 and with_words(0.0, 0.0) == 0.0


class Topic(Recording):
    """Every text of more than one word gets the same vector (the sentence level can't tell ads apart);
    a single word gets its own, as with HashEmbedder."""

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return HashEmbedder.embed(self, [t if len(t.split()) == 1 else "topic" for t in texts])


def _twins() -> tuple[LocalIndex, Recording]:
    emb = Topic()
    idx = LocalIndex(emb)
    # two ads of the same item whose sentence vectors tie with the query's: only one names its weekends
    # (Cyrillic: no identifier tokens, which would tell them apart on their own)
    idx.add(mk(1, text="уборщица будни вечер кафе", category="services/cleaning",
               action=Action.OFFER_SERVICE))  # fmt: skip
    idx.add(mk(2, text="уборщица выходные кафе вечер", category="services/cleaning",
               action=Action.OFFER_SERVICE))  # fmt: skip
    return idx, emb


def test_search_ranks_first_the_ad_whose_words_cover_the_query() -> None:
    idx, _ = _twins()
    q = mk(10, action=Action.SEEK_SERVICE, category="services/cleaning", text="уборщица выходные")
    got = idx.search(q, k=2, now=NOW)
    assert [m.intent.id[-1] for m in got] == [2, 1]
    assert got[0].score > got[1].score
    assert all(0.0 <= m.score <= 1.0 for m in got)


def test_the_explanation_tells_the_words_in_common() -> None:
    idx, _ = _twins()
    q = mk(10, action=Action.SEEK_SERVICE, category="services/cleaning", text="уборщица выходные")
    best, other = idx.search(q, k=2, now=NOW)
    reason = [r for r in best.explanation.reasons if r.code == "shared_words"]
    # the same words on both sides (the order of equal cosines is left to float16 rounding)
    same = [["выходные", "выходные"], ["уборщица", "уборщица"]]
    assert reason and sorted(reason[0].params["pairs"]) == same
    assert "words in common: " in best.explanation.text and "выходные" in best.explanation.text
    assert [r.params["pairs"] for r in other.explanation.reasons if r.code == "shared_words"] == [
        [["уборщица", "уборщица"]]
    ]


def test_search_without_the_word_term_would_rank_the_other_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # the test above depends on the words: with no query units the sentence score puts the twin first
    monkeypatch.setattr(words_module, "units", lambda text: ())
    idx, _ = _twins()
    q = mk(10, action=Action.SEEK_SERVICE, category="services/cleaning", text="уборщица выходные")
    assert [m.intent.id[-1] for m in idx.search(q, k=2, now=NOW)] == [1, 2]


def test_only_the_query_is_read_as_syllable_pairs() -> None:
    emb = Recording()
    idx = LocalIndex(emb)
    cat = "services/tutoring"
    idx.add(mk(1, text="nhận phiên dịch tiếng hàn", category=cat, action=Action.OFFER_SERVICE))
    q = mk(10, action=Action.SEEK_SERVICE, category=cat, text="cần phiên dịch tiếng hàn")
    idx.search(replace(q, lang="vi"), k=1, now=NOW)
    assert {"phiên dịch", "tiếng hàn"} <= set(emb.texts)  # the query's pairs were embedded
    assert "nhận phiên" not in emb.texts  # the candidate's were not


def test_only_the_first_candidates_words_are_compared_and_the_rest_stay_behind() -> None:
    emb = Recording()
    idx = LocalIndex(emb)
    n = RERANK_K + 5
    names = [f"set{chr(97 + i)}" for i in range(n)]
    for i, name in enumerate(names):
        idx.add(mk(i + 1, text=f"tires winter {name}"))
    emb.texts.clear()
    q = mk(100, action=Action.BUY, text="winter tires")
    got = idx.search(q, k=n, now=NOW)
    assert len(got) == n
    compared = {t for t in emb.texts if t in names}
    assert len(compared) == RERANK_K  # the others' words were never embedded
    scores = [m.score for m in got]
    assert scores == sorted(scores, reverse=True)
    assert {names[m.intent.id[-1] - 1] for m in got[:RERANK_K]} == compared


def test_a_query_without_words_keeps_the_plain_score() -> None:
    idx, emb = _twins()
    q = mk(10, action=Action.SEEK_SERVICE, category="services/cleaning", text="12 34")
    before = len(emb.texts)
    got = idx.search(q, k=2, now=NOW)
    assert len(got) == 2
    assert not [t for t in emb.texts[before:] if t in ("уборщица", "выходные", "будни")]
