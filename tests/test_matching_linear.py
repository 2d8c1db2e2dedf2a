"""The classifier's linear category model (``matching.linear``): the fit, the shipped file, its use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching import linear
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
    w, b, codes, meta = linear.read()
    assert w.shape == (USE_M3_DIM, len(codes)) and np.isfinite(w).all() and np.isfinite(b).all()
    assert meta["model_id"] == USE_M3_ID
    assert meta["examples_digest"] == linear.examples_digest(), "ads changed: python -m matching.linear build"


def test_the_shipped_model_reads_the_labelled_ads() -> None:
    """Fitted on the ads, it puts most of them in their own category (it is a weak model alone: the held-back
    check of what it adds is the tuning sets', in the module docstring)."""
    clf = Classifier(get_embedder())
    model = clf.linear()
    assert model is not None
    w, b = model
    bank = clf.bank()
    assert float(np.mean((bank.examples.vectors @ w + b).argmax(axis=1) == bank.example_labels)) > 0.8


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
    w, _ = linear.read()[:2]
    np.testing.assert_array_equal(got[0][:, ::-1], w)  # columns follow the codes asked for


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "l.npz"
    np.savez(bad, w=np.zeros((3, 2)), b=np.zeros(2), codes=np.array('["a", "b"]'), meta=np.array("{}"))
    with pytest.raises(linear.LinearError, match="weights"):
        linear.read(bad)
    np.savez(bad, w=np.zeros((USE_M3_DIM, 2)), b=np.zeros(2), codes=np.array('["a", "b"]'))
    with pytest.raises(linear.LinearError, match="meta"):
        linear.read(bad)
