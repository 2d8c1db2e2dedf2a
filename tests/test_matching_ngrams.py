"""The character n-gram vote (``matching.ngrams``): n-grams, scores against a dense TF-IDF computed the slow
way, scoping to the text's language, and its share of the classifier's distribution."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import matching.classify as classify
import matching.ngrams as ngrams_module
from matching.bank import Example, examples
from matching.classify import classifier_for
from matching.embedder import get_embedder
from matching.knn import knn_vote
from matching.linear import log_probabilities
from matching.ngrams import MAX_NGRAM_CHARS, NGRAM_K, NgramVote, ngrams


def test_ngrams_pad_each_word_and_count_a_short_word_once() -> None:
    assert ngrams("ab") == Counter({" a": 1, "ab": 1, "b ": 1, " ab": 1, "ab ": 1, " ab ": 1})
    assert ngrams("A") == Counter({" a": 1, "a ": 1, " a ": 1})  # lower-cased; " a " once, not per n
    assert ngrams("ab AB") == Counter({g: 2 for g in ngrams("ab")})
    # a Devanagari word keeps its vowel signs inside the n-grams (no word splitting on marks)
    assert " कि" in ngrams("किताबें") and "ताबें" not in ngrams("किताबें")  # 4 is the longest
    # a text is read up to a bound
    assert ngrams("x" * (3 * MAX_NGRAM_CHARS)) == ngrams("x" * MAX_NGRAM_CHARS)


def _slow_scores(ads: list[Example], text: str, codes: tuple[str, ...]) -> np.ndarray:
    """Dense TF-IDF (sublinear tf, smoothed idf, unit rows), cosine, mean of the K best per category."""
    docs = [ngrams(e.text) for e in ads]
    vocab = sorted({g for d in docs for g in d})
    idf = {g: math.log((1 + len(docs)) / (1 + sum(g in d for d in docs))) + 1 for g in vocab}

    def row(c: Counter[str]) -> np.ndarray:
        v = np.array([(1 + math.log(c[g])) * idf[g] if c[g] else 0.0 for g in vocab])
        n = np.linalg.norm(v)
        return v / n if n else v

    sims = np.array([row(d) for d in docs]) @ row(ngrams(text))
    out = np.zeros(len(codes))
    for i, code in enumerate(codes):
        mine = sorted(s for s, e in zip(sims, ads, strict=True) if e.category == code)
        out[i] = np.mean(mine[-NGRAM_K:]) if mine else 0.0
    return out


def test_scores_equal_the_dense_tf_idf_vote_of_that_languages_examples() -> None:
    vote = NgramVote()
    for text, lang in (
        ("cần mua lốp xe máy cũ, còn gai", "vi"),
        ("पुरानी किताबें और लकड़ी की अलमारी बेचनी है", "hi"),
        ("Vendo bicicleta de montaña rodado 29", "es"),
    ):
        ads = [e for e in examples() if e.lang == lang]
        np.testing.assert_allclose(vote.score(text, lang), _slow_scores(ads, text, vote.codes), atol=1e-6)


def test_the_category_sharing_word_pieces_wins_and_unknown_input_scores_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few = (
        Example("vehicles/tires", "vi", "offer", "bán lốp xe máy cũ còn gai"),
        Example("vehicles/tires", "vi", "seek", "cần mua lốp ô tô"),
        Example("home/furniture", "vi", "offer", "thanh lý tủ quần áo gỗ"),
        Example("home/furniture", "en", "offer", "oak wardrobe, must go"),
    )
    monkeypatch.setattr(ngrams_module, "examples", lambda: few)
    vote = NgramVote()
    got = vote.scores(["tìm lốp xe", "lốp", "§§§"], [("vi", "en"), None, ("vi", "en")])
    col = {c: i for i, c in enumerate(vote.codes)}
    assert int(np.argmax(got[0])) == col["vehicles/tires"]
    assert not got[1].any() and not got[2].any()  # language unknown; no known n-gram
    # scoped to the text's (first) language: the English example counts for an English text only
    en = "oak wardrobe, must go"
    assert vote.score(en, "en")[col["home/furniture"]] == pytest.approx(1.0)
    assert vote.score(en, "vi")[col["home/furniture"]] < 0.5
    # a category with fewer examples than NGRAM_K averages what it has
    alone = vote.score("tủ quần áo", "vi")[col["home/furniture"]]
    slow = _slow_scores(list(few[:3]), "tủ quần áo", vote.codes)
    assert alone == pytest.approx(slow[col["home/furniture"]])
    assert 0 < alone <= 1


def test_the_ngram_vote_counts_in_the_category(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the texts given, the distribution is the softmax (at ``TEMPERATURE_TEXTS``) of the four weighted
    votes, the linear model's log-probabilities and (in a language the embedder was not trained on) the second
    encoder's vote; without them (or with those weights 0 and one temperature) none of the three is in it. The
    text is Indonesian, a language use-m3 was not trained on: with the texts, its votes weigh ``W_UNSEEN``."""
    clf = classifier_for(get_embedder())
    raw = "Dijual kasur busa single, masih layak, ambil sendiri"
    item, text = clf.embedder.embed(["bed", raw])
    langs = [("id", "en")]
    with_ngrams = clf.probabilities(item[None], text[None], [{}], langs, [raw])
    without = clf.probabilities(item[None], text[None], [{}], langs)
    assert not np.allclose(with_ngrams, without, atol=1e-4)
    monkeypatch.setattr(
        classify, "W_UNSEEN", (classify.W_ITEM, classify.W_TEXT, classify.W_EXAMPLES, 0.0, 0.0, 1.0)
    )
    monkeypatch.setattr(classify, "TEMPERATURE_TEXTS", classify.TEMPERATURE)
    monkeypatch.setattr(classify, "W_SECOND", 0.0)
    np.testing.assert_allclose(clf.probabilities(item[None], text[None], [{}], langs, [raw]), without)
    monkeypatch.undo()
    model = clf.linear()
    assert model is not None
    weights, bias = model.w, model.b
    mapped_item, mapped_text = clf.adapt(item[None]), clf.adapt(text[None])
    w_item, w_text, w_ads, w_ngrams, w_linear, _ = classify.W_UNSEEN
    scores = (
        w_item * clf.knn_scores(item[None], langs)
        + w_text * clf.knn_scores(text[None], langs)
        + w_ads * clf.knn_scores(text[None], langs, ads=True)
        + w_ngrams * ngrams_module.ngram_vote().scores([raw], langs)
        + w_linear * log_probabilities(0.5 * ((mapped_item + mapped_text) @ weights) + bias)
    )
    if clf._second is not None:  # the second encoder's kNN over the Indonesian and English phrases
        bank = clf.bank()
        block = clf._second.block(("en", "id"), bank.rows_by_lang, bank.whole, bank.texts)
        scores += classify.W_SECOND * knn_vote(clf._second.embedder.embed([raw]), block)
    logits = scores / classify.TEMPERATURE_TEXTS
    want = np.exp(logits - logits.max())
    np.testing.assert_allclose(with_ngrams, want / want.sum(), atol=1e-4)
