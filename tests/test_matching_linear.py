"""The classifier's linear category model (``matching.linear``): the fit, the shipped file, its use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching import linear
from matching.bank import examples
from matching.classify import Classifier
from matching.embedder import USE_M3_DIM, USE_M3_ID, get_embedder, l2_normalise


def _loss(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray, lam: float) -> float:
    lp = linear.log_probabilities(x @ w + b)
    return float(-lp[np.arange(len(y)), y].mean() + lam * (w.astype(np.float64) ** 2).sum())


def test_fit_finds_the_minimum_of_the_penalised_cross_entropy() -> None:
    rng = np.random.default_rng(3)
    centres = l2_normalise(rng.normal(size=(5, 16)))
    y = np.repeat(np.arange(5), 40)
    x = l2_normalise(centres[y] + 0.15 * rng.normal(size=(200, 16)))
    lam = 1e-3
    w, b = linear.fit(x, y, 6, lam)  # class 5 has no rows
    assert w.shape == (16, 6) and b.shape == (6,) and w.dtype == np.float32
    assert float(np.mean((x @ w + b).argmax(axis=1) == y)) > 0.9
    assert b[5] < b[:5].min()  # a class nobody has is never the best guess
    # a minimum: every small step away from it costs (the gradient is ~0)
    best = _loss(x, y, w, b, lam)
    for _ in range(5):
        dw = 1e-2 * rng.normal(size=w.shape).astype(np.float32)
        assert _loss(x, y, w + dw, b, lam) > best
        assert _loss(x, y, w - dw, b, lam) > best
    # deterministic: the same data give the same model
    w2, b2 = linear.fit(x, y, 6, lam)
    np.testing.assert_array_equal(w, w2)
    np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize(
    ("vectors", "labels", "classes", "lam", "match"),
    [(np.zeros((0, 4)), np.zeros(0, dtype=int), 2, 1e-4, "fit needs"),
     (np.ones((3, 4)), np.zeros(2, dtype=int), 2, 1e-4, "fit needs"),
     (np.ones((3, 4)), np.zeros(3, dtype=int), 2, 0.0, "fit needs"),
     (np.ones((3, 4)), np.array([0, 1, 2]), 2, 1e-4, "labels must lie"),
     (np.ones((3, 4)), np.array([0, -1, 1]), 2, 1e-4, "labels must lie")],
)  # fmt: skip
def test_fit_refuses_bad_input(
    vectors: np.ndarray, labels: np.ndarray, classes: int, lam: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        linear.fit(vectors, labels, classes, lam)


def test_the_shipped_model_is_current_for_the_labelled_ads() -> None:
    m = linear.read()
    w, b = m.model.w, m.model.b
    assert w.shape == (USE_M3_DIM, len(m.codes)) and np.isfinite(w).all() and np.isfinite(b).all()
    assert np.isfinite(m.model.side_w).all() and np.isfinite(m.model.side_b).all()
    assert m.meta["model_id"] == USE_M3_ID
    assert m.meta["examples_digest"] == linear.examples_digest(), (
        "ads changed: python -m matching.linear build"
    )


def test_the_shipped_model_reads_the_labelled_ads() -> None:
    """Fitted on the ads, it puts most of them in their own category (it is a weak model alone: the held-back
    check of what it adds is the tuning sets', in the module docstring)."""
    clf = Classifier(get_embedder())
    model = clf.linear()
    assert model is not None
    bank = clf.bank()
    guessed = (bank.examples.vectors @ model.w + model.b).argmax(axis=1)
    assert float(np.mean(guessed == bank.example_labels)) > 0.8
    # and the side of most: an offer or a request
    seeks = np.array([e.side == "seek" for e in examples()])
    assert float(np.mean((model.seek_log_odds(bank.examples.vectors) > 0) == seeks)) > 0.9


@pytest.mark.parametrize(
    ("text", "seek"),
    [
        (
            "Bosch washing machine, 8 kg, 4 years old, spins and drains fine, small dent on the side. £90",
            False,
        ),
        ("Sofá de tres plazas gris, tela, muy cómodo, sin manchas. 150 €, recogida en Valencia", False),
        ("Canapé d'angle convertible, très bon état, à récupérer sur place, 200 €", False),
        ("Mountainbike 29 Zoll, Rahmen L, Shimano Deore, kaum gefahren. 350 €", False),
        ("Preciso de um sofá de dois lugares barato para a sala", True),
        ("Cherche un vélo pour enfant de 6 ans, pas trop cher", True),
    ],
)
def test_the_side_model_tells_an_offer_from_a_request(text: str, seek: bool) -> None:
    clf = Classifier(get_embedder())
    assert (float(clf.demand_probability(get_embedder().embed([text]))[0]) > 0.5) == seek


def test_only_the_default_model_gets_the_linear_vote() -> None:
    class Other:
        model_id = "st:other"
        dim = USE_M3_DIM

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), USE_M3_DIM), dtype=np.float32)

    codes = Classifier(get_embedder()).bank().codes
    assert linear.linear_for(Other(), codes) is None
    assert linear.linear_for(get_embedder(), codes[:-1]) is None  # not the taxonomy it was fitted on
    got = linear.linear_for(get_embedder(), codes[::-1])
    assert got is not None
    np.testing.assert_array_equal(got.w[:, ::-1], linear.read().model.w)  # columns follow the codes asked for
    np.testing.assert_array_equal(got.side_w, linear.read().model.side_w)  # the side model has no categories


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "l.npz"
    np.savez(bad, w=np.zeros((3, 2)), b=np.zeros(2), codes=np.array('["a", "b"]'), meta=np.array("{}"))
    with pytest.raises(linear.LinearError, match="weights"):
        linear.read(bad)
    np.savez(bad, w=np.zeros((USE_M3_DIM, 2)), b=np.zeros(2), codes=np.array('["a", "b"]'))
    with pytest.raises(linear.LinearError, match="meta"):
        linear.read(bad)
    fields = {"w": np.zeros((USE_M3_DIM, 2)), "b": np.zeros(2), "codes": np.array('["a", "b"]')}
    np.savez(bad, **fields, meta=np.array("{}"))  # a file of the category model alone
    with pytest.raises(linear.LinearError, match="side_w"):
        linear.read(bad)
    np.savez(bad, **fields, meta=np.array("{}"), side_w=np.zeros((USE_M3_DIM, 3)), side_b=np.zeros(2))
    with pytest.raises(linear.LinearError, match="side weights"):
        linear.read(bad)
