"""The classifier's bank-fitted adapter (``matching.adapter``): the fit, the shipped file, its use."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from matching import adapter
from matching.classify import Classifier
from matching.embedder import USE_M3_DIM, USE_M3_ID, get_embedder, l2_normalise


def test_fit_shrinks_the_directions_a_concepts_phrases_scatter_in() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, 8))
    concept = np.repeat(np.arange(20), 10)
    x = centres[concept] + 0.05 * rng.normal(size=(200, 8))
    x[:, 0] += 3.0 * rng.normal(size=200)  # the "language" axis: large spread inside every concept
    w = adapter.fit(x, concept)
    assert w.shape == (8, 8) and w.dtype == np.float32
    np.testing.assert_allclose(w, w.T, atol=1e-5)
    inside = np.linalg.norm(np.eye(8)[0] @ w)
    across = np.linalg.norm(np.eye(8)[1] @ w)
    assert inside < across / 2  # the ridge (lam x the mean eigenvalue) bounds how far a direction shrinks
    # after the map, a phrase's nearest concept centre is its own far more often
    mapped = l2_normalise(x @ w)
    centre = l2_normalise(np.stack([mapped[concept == c].mean(axis=0) for c in range(20)]))
    raw_centre = l2_normalise(np.stack([x[concept == c].mean(axis=0) for c in range(20)]))
    hit = float(np.mean((mapped @ centre.T).argmax(axis=1) == concept))
    raw_hit = float(np.mean((l2_normalise(x) @ raw_centre.T).argmax(axis=1) == concept))
    assert hit > raw_hit + 0.3


@pytest.mark.parametrize(
    ("vectors", "concept", "lam"),
    [(np.zeros((0, 4)), np.zeros(0, dtype=int), 1.0), (np.ones((3, 4)), np.zeros(2, dtype=int), 1.0),
     (np.ones((3, 4)), np.zeros(3, dtype=int), 0.0), (np.ones(4), np.zeros(4, dtype=int), 1.0)],
)  # fmt: skip
def test_fit_refuses_bad_input(vectors: np.ndarray, concept: np.ndarray, lam: float) -> None:
    with pytest.raises(ValueError, match="fit needs"):
        adapter.fit(vectors, concept, lam)


def test_the_shipped_map_is_current_for_the_banks() -> None:
    w, meta = adapter.read()
    assert w.shape == (USE_M3_DIM, USE_M3_DIM) and np.isfinite(w).all()
    assert meta["model_id"] == USE_M3_ID
    assert meta["bank_digest"] == adapter.bank_digest(), "a bank changed: python -m matching.adapter build"


def test_only_the_default_model_is_mapped() -> None:
    class Other:
        model_id = "st:other"
        dim = USE_M3_DIM

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), USE_M3_DIM), dtype=np.float32)

    assert adapter.adapter_for(Other()) is None
    assert adapter.adapter_for(get_embedder()) is not None
    v = np.eye(USE_M3_DIM, dtype=np.float32)[:3]
    np.testing.assert_array_equal(Classifier(Other()).adapt(v), v)
    mapped = Classifier(get_embedder()).adapt(v)
    np.testing.assert_allclose(np.linalg.norm(mapped, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(mapped, v)


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "a.npz"
    np.savez(bad, w=np.zeros((3, 3)), meta=np.array("{}"))
    with pytest.raises(adapter.AdapterError, match="shape"):
        adapter.read(bad)
    np.savez(bad, w=np.zeros((USE_M3_DIM, USE_M3_DIM)))
    with pytest.raises(adapter.AdapterError, match="meta"):
        adapter.read(bad)


def test_build_fits_every_bank_phrase_and_writes_a_readable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METASPACE_CACHE", str(tmp_path / "cache"))

    class Hashed:  # deterministic vectors: the test is about the plumbing, not the model
        model_id = "test-hashed"
        dim = USE_M3_DIM

        def embed(self, texts: list[str]) -> np.ndarray:
            seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big") for t in texts]
            return l2_normalise(np.stack([np.random.default_rng(s).normal(size=USE_M3_DIM) for s in seeds]))

    out = tmp_path / "adapter.npz"
    done = adapter.build(Hashed(), out)
    texts, ids = adapter.bank_phrases()
    assert done["phrases"] == len(texts) > 30_000 and done["concepts"] == int(ids.max()) + 1 > 1_000
    w, meta = adapter.read(out)
    assert meta == {"model_id": "test-hashed", "bank_digest": adapter.bank_digest(), "lam": str(adapter.LAM)}
    assert w.shape == (USE_M3_DIM, USE_M3_DIM) and np.isfinite(w).all()
    assert not list(tmp_path.glob("*.tmp"))


def test_the_command_line_checks_and_tells_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        adapter.main(["check"])
    assert e.value.code == 0 and '"current": true' in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        adapter.main(["refit"])
    assert e.value.code == 2 and "usage: python -m matching.adapter build|check" in capsys.readouterr().err
