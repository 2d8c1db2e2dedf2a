"""The labelled ads and requests (``data/examples``): shape, coverage, no overlap with any evaluation set, and
their place in the classifier's vote (real use-m3 vectors).

Overlap rule (issue 11): labelled data must not contain the evaluation items or phrasings. Checked against
every evaluation text (``data/eval.jsonl``, eval2's ``tune`` and ``heldout``, eval3, eval4) without printing
any of them: a failure names example texts only. An example is not an evaluation text, does not make up most
of one, names no evaluation brand or model, and shares less than ``NEAR_JACCARD`` of its character 5-grams
(Jaccard) with every evaluation text. That last check removed 12 of the 3,780 texts as written (common
phrasings such as "vendo 2 entradas para el concierto ..."); it was applied to all evaluation texts alike.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

import matching.classify as classify
from matching.bank import BANK_LANGS, EXAMPLE_SIDES, BankFormatError, examples, read_examples
from matching.classify import classifier_for
from matching.embedder import get_embedder
from matching.knn import KNN_K
from tests.test_matching_bank import _eval_texts_and_brands, _generic_and_apart, _norm
from wire.taxonomy import category_codes

#: An example sharing this share of its character 5-grams with an evaluation text is a copied phrasing.
NEAR_JACCARD = 0.4


def _grams(text: str, n: int = 5) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def test_examples_cover_every_category_language_and_side() -> None:
    ex = examples()
    assert len(ex) >= 3700
    count = Counter((e.category, e.lang, e.side) for e in ex)
    missing = [
        (c, lang, side)
        for c in category_codes()
        for lang in BANK_LANGS
        for side in EXAMPLE_SIDES
        if count[(c, lang, side)] == 0
    ]
    assert not missing, missing[:10]
    assert len({_norm(e.text) for e in ex}) == len(ex)  # no text twice


def test_examples_never_overlap_the_evaluations() -> None:
    ex = [e.text for e in examples()]
    _generic_and_apart(ex, digits=True)  # the bank's rules, prices allowed
    texts, _brands, old = _eval_texts_and_brands()
    evals = sorted(texts | set(old))
    grams = [_grams(t) for t in evals]
    holders: defaultdict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(grams):
        for x in g:
            holders[x].append(i)
    near = []
    for e in map(_norm, ex):
        mine = _grams(e)
        shared = Counter(i for x in mine for i in holders.get(x, ()))
        if any(k / (len(mine) + len(grams[i]) - k) >= NEAR_JACCARD for i, k in shared.items()):
            near.append(e)
    assert not near, f"examples close to an evaluation text's phrasing: {near}"


def test_a_malformed_example_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import matching.bank as bank

    good = "home/furniture|en|offer|Solid oak bunk bed, must go"
    for bad, why in (
        ("home/furniture|en|offer", "3 cells"),
        ("home/sofas|en|offer|a sofa", "unknown category"),
        ("home/furniture|xx|offer|a sofa", "language"),
        ("home/furniture|en|sell|a sofa", "side"),
        ("home/furniture|en|offer| ", "empty text"),
    ):
        monkeypatch.setattr(bank, "_lines", lambda folder, bad=bad: [("x.txt", 1, good), ("x.txt", 2, bad)])
        with pytest.raises(BankFormatError, match=f"x.txt:2: .*{why}"):
            read_examples("data/examples")


def test_the_ads_vote_is_the_vote_over_that_languages_examples() -> None:
    clf = classifier_for(get_embedder())
    bank = clf.bank()
    assert len(bank.examples.vectors) == len(examples())
    text = "cần mua xe máy cũ để đi làm"
    v = clf.embedder.embed([text])
    got = clf.knn_scores(v, [("vi", "en")], ads=True)
    # the slow way: every example, those of other languages left out
    keep = np.zeros(len(bank.examples.vectors), dtype=bool)
    for lang in ("vi", "en"):
        keep[bank.example_rows_by_lang[lang]] = True
    sims = clf.adapt(v) @ bank.examples.vectors.T
    sims[:, ~keep] = -2.0
    per_cat = sims[:, bank.examples.slots]
    per_cat[:, bank.examples.pad] = -2.0
    want = np.sort(per_cat, axis=2)[:, :, -KNN_K:].mean(axis=2)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert clf.block(None, ads=True) is bank.examples
    assert clf.block(("vi", "en"), ads=True) is not clf.block(("vi", "en"))


def test_the_ads_vote_counts_in_the_category(monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples' share of the score (``W_EXAMPLES``) is in the distribution: without it the same text
    gets another distribution, and the full score is the weighted sum of the three votes."""
    clf = classifier_for(get_embedder())
    item, text = clf.embedder.embed(["bed", "Dijual kasur busa single, masih layak, ambil sendiri"])
    langs = [("id", "en")]
    with_ads = clf.probabilities(item[None], text[None], [{}], langs)
    monkeypatch.setattr(classify, "W_EXAMPLES", 0.0)
    without = clf.probabilities(item[None], text[None], [{}], langs)
    assert not np.allclose(with_ads, without, atol=1e-4)
    monkeypatch.undo()
    scores = (
        classify.W_ITEM * clf.knn_scores(item[None], langs)
        + classify.W_TEXT * clf.knn_scores(text[None], langs)
        + classify.W_EXAMPLES * clf.knn_scores(text[None], langs, ads=True)
    )
    logits = scores / classify.TEMPERATURE
    want = np.exp(logits - logits.max())
    np.testing.assert_allclose(with_ads, want / want.sum(), atol=1e-4)
