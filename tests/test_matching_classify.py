"""The bank classifier's kNN vote scoped to a text's languages (real use-m3 vectors of the real bank)."""

from __future__ import annotations

import numpy as np
import pytest

import matching.classify as classify
import matching.knn as knn
import matching.word_pairs as word_pairs
from matching.bank import BANK_LANGS
from matching.classify import Classifier, classifier_for
from matching.embedder import get_embedder
from matching.knn import KNN_K


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return classifier_for(get_embedder())


def _masked_scores(clf: Classifier, vectors: np.ndarray, langs: tuple[str, ...]) -> np.ndarray:
    """The vote computed the slow way: the whole bank, phrases of other languages left out (``vectors`` as
    the embedder gives them; the classifier's adapter maps them first)."""
    vectors = clf.adapt(vectors)
    bank = clf.bank().whole
    keep = np.zeros(len(bank.vectors), dtype=bool)
    for lang in langs:
        keep[clf.bank().rows_by_lang[lang]] = True
    sims = vectors @ bank.vectors.T
    sims[:, ~keep] = -2.0
    per_cat = sims[:, bank.slots]
    per_cat[:, bank.pad] = -2.0
    return np.sort(per_cat, axis=2)[:, :, -KNN_K:].mean(axis=2)


def test_scoped_vote_is_the_vote_over_that_languages_phrases(clf: Classifier) -> None:
    texts = ["cần mua xe máy cũ", "ищу детскую коляску", "selling my old sofa"]
    langs = [("vi", "en"), ("ru", "en"), ("en",)]
    vectors = clf.embedder.embed(texts)
    got = clf.knn_scores(vectors, langs)  # one batch, three language groups
    for r, scope in enumerate(langs):
        want = _masked_scores(clf, vectors[r : r + 1], scope)
        np.testing.assert_allclose(got[r : r + 1], want, atol=1e-5)
        alone = clf.knn_scores(vectors[r : r + 1], [scope])
        np.testing.assert_allclose(got[r : r + 1], alone, atol=1e-6)


def test_unknown_or_every_language_uses_the_whole_bank(clf: Classifier) -> None:
    vectors = clf.embedder.embed(["bicicleta de montaña"])
    whole = clf.knn_scores(vectors)
    for scope in (None, (), ("xx",), tuple(BANK_LANGS)):
        np.testing.assert_allclose(clf.knn_scores(vectors, [scope]), whole, atol=1e-6)
    assert clf.block(None).vectors is clf.bank().whole.vectors
    scoped = clf.block(("es", "en"))
    assert len(scoped.vectors) < len(clf.bank().whole.vectors) / 3


def test_scoped_views_are_capped_and_reused(clf: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classify, "MAX_LANG_BANKS", 2)
    clf._blocks.clear()
    first = clf.block(("de", "en"))
    assert clf.block(("en", "de")) is first  # the same set of languages, in any order
    clf.block(("fr", "en"))
    clf.block(("ja", "en"))
    assert len(clf._blocks) == 2 and (False, ("de", "en")) not in clf._blocks
    assert clf.block(("de", "en")) is not first  # built again after it was given back
    ads = clf.block(("de", "en"), ads=True)  # the labelled ads' views share the cap
    assert clf.block(("en", "de"), ads=True) is ads and len(clf._blocks) == 2
    assert (False, ("fr", "en")) not in clf._blocks


def test_understanding_scopes_by_the_detected_language(
    clf: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matching.understand import understand

    seen: list[tuple[str, ...] | None] = []
    kinds: set[bool] = set()
    block = Classifier.block

    def spy(self: Classifier, langs: tuple[str, ...] | None, ads: bool = False) -> knn.PhraseBlock:
        seen.append(langs)
        kinds.add(ads)
        return block(self, langs, ads)

    monkeypatch.setattr(Classifier, "block", spy)
    u = understand("Bán tủ lạnh cũ còn chạy tốt")
    assert u.lang == "vi"
    assert u.intent.category == "home/appliances"
    assert seen and all(s is not None and set(s) == {"vi", "en"} for s in seen)
    assert kinds == {False, True}  # the phrases and the labelled ads, both scoped


_KNOWN = (classify.W_ITEM, classify.W_TEXT, classify.W_EXAMPLES, classify.W_NGRAMS, classify.W_LINEAR, 1.0)


def test_a_language_the_embedder_was_not_trained_on_weighs_its_words_more(
    clf: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "hi" not in get_embedder().languages and "es" in get_embedder().languages  # type: ignore[attr-defined]
    w = clf._weights(4, [("hi", "en"), ("es", "en"), None, ("vi", "en")])
    np.testing.assert_allclose(w, [classify.W_UNSEEN, _KNOWN, _KNOWN, classify.W_UNSEEN], rtol=1e-6)
    np.testing.assert_allclose(clf._weights(2, None), [_KNOWN] * 2, rtol=1e-6)  # no texts: the search's
    # W_UNSEEN changes the Hindi row's distribution, not the Spanish one's
    texts = ["ek purani cycle chahiye", "ek purani cycle chahiye"]
    vecs = clf.embedder.embed(texts)
    langs: list[tuple[str, ...] | None] = [("hi", "en"), ("es", "en")]
    probs = clf.probabilities(vecs, vecs, [{}, {}], langs, texts)
    monkeypatch.setattr(classify, "W_UNSEEN", _KNOWN)
    same = clf.probabilities(vecs, vecs, [{}, {}], langs, texts)
    assert not np.allclose(probs[0], same[0]) and np.allclose(probs[1], same[1])


def test_an_embedder_that_names_no_languages_uses_one_set_of_weights() -> None:
    class Plain:
        model_id = "plain"
        dim = 512

        def embed(self, texts: list[str]) -> np.ndarray:
            return get_embedder().embed(texts)

    plain = Classifier(Plain())
    np.testing.assert_allclose(plain._weights(2, [("hi", "en"), ("vi", "en")]), [_KNOWN] * 2, rtol=1e-6)


def test_words_of_renting_or_owning_pick_that_side_of_a_pair(
    clf: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = "căn hộ chung cư 2 phòng ngủ"
    texts = [f"Cần mua {flat}", f"Cần thuê {flat}", flat.capitalize()]
    vecs = clf.embedder.embed(texts)
    langs: list[tuple[str, ...] | None] = [("vi", "en")] * 3
    probs = clf.probabilities(vecs, vecs, [{}, {}, {}], langs, texts)
    pairs = word_pairs.WORD_PAIRS
    monkeypatch.setattr(word_pairs, "WORD_PAIRS", {})
    plain = clf.probabilities(vecs, vecs, [{}, {}, {}], langs, texts)
    col = {c: i for i, c in enumerate(clf.bank().codes)}
    assert {c for kind in pairs.values() for pair in kind for c in pair} <= set(col)  # taxonomy codes
    sale, rent = col["property/sale"], col["property/rent"]
    assert probs[0, sale] >= probs[0, rent] and probs[1, rent] >= probs[1, sale]
    np.testing.assert_allclose(probs[2], plain[2])  # no word of either: as the classifier says
    for r in (0, 1):  # the pair trades places or stays; every other category keeps its probability
        assert sorted(probs[r, [sale, rent]]) == sorted(plain[r, [sale, rent]])
        others = [i for i in range(len(col)) if i not in (sale, rent)]
        np.testing.assert_allclose(probs[r, others], plain[r, others])
    assert any(not np.allclose(probs[r], plain[r]) for r in (0, 1))  # the classifier alone read one wrong
