"""A linear map of the embedder's space that the classifier compares in, fitted on the phrase banks only.

Theory of operation: the labelled banks (``data/bank`` and ``data/bank_wide``: ~1,100 concepts, ~35,000
phrases in 15 languages) say which phrases name the same thing. The spread of a concept's phrases around their
mean is what the classifier should ignore — the language a phrase is in, its synonyms, its word order — and it
lives in a few directions of the embedding space. ``fit`` computes that within-concept covariance ``S`` and
returns ``W = (S + lam * mean(eig(S)) * I) ** -1/2``: directions in which one concept's phrases scatter are
shrunk, the rest kept (linear discriminant whitening, regularised by ``lam``). The classifier maps the bank
phrases and every text it judges through ``W`` before its kNN vote (``classify.Classifier``); match vectors
(``features``) stay in the embedder's own space.

Chosen on the tuning sets only (non-English means, ``tune`` of ``data/eval2`` / ``tune2`` = ``data/eval3``):
category agreement .883 -> .918 / .621 -> .634, top-1 .901 -> .890 / .620 -> .644, top-5 .982 -> .977
/ .828 -> .861; ``lam`` 0.3 / 1 / 3 on tune2 gave top-1 .655 / .649 / .647 and agreement .628 / .650 / .664
(with the wide glossary), 1 kept. Applied to the match vectors as well it gave nothing more (tune2 top-1
.640).

The matrix ships as ``data/adapter-use-m3.npz`` (float16) with the digest of the bank files it was fitted on;
``python -m matching.adapter build`` refits it after a bank edit (the phrase vectors come from the
classifier's disk cache when present), ``check`` tells whether it is current (a test runs the same check).
"""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from matching.bank import BANK_FOLDERS, BANK_LANGS, base_concepts
from matching.cache import embed_cached
from matching.embedder import USE_M3_DIM, USE_M3_ID, Embedder
from matching.shipped import command, files_digest, write_npz

#: The file holding the fitted map of the default embedder.
ADAPTER_FILE = "data/adapter-use-m3.npz"
#: Ridge added to the within-concept covariance, as a multiple of its mean eigenvalue.
LAM = 1.0


class AdapterError(ValueError):
    """The adapter file is missing a field, has the wrong shape, or does not match the banks."""


def bank_digest() -> str:
    """sha256 of the bank files the adapter is fitted on (``bank.BANK_FOLDERS``: names and contents, in a
    fixed order)."""
    return files_digest(BANK_FOLDERS)


def bank_phrases() -> tuple[list[str], np.ndarray]:
    """Every phrase of the banks (``bank.base_concepts``; a phrase of several concepts once per concept) and
    the number of its concept."""
    pairs = [(p, n) for n, c in enumerate(base_concepts()) for lang in BANK_LANGS for p in c.phrases[lang]]
    return [p for p, _ in pairs], np.asarray([n for _, n in pairs], dtype=np.int64)


def fit(vectors: np.ndarray, concept: np.ndarray, lam: float = LAM) -> np.ndarray:
    """The whitening map of the within-concept covariance of ``vectors`` (rows labelled by ``concept``).

    Args:
        vectors: (n, dim) phrase embeddings.
        concept: (n,) concept number of each row (0..k-1).
        lam: ridge, as a multiple of the covariance's mean eigenvalue (> 0).

    Returns:
        (dim, dim) float32 symmetric matrix; rows are mapped as ``l2_normalise(x @ W)``
        (``classify.Classifier.adapt``).

    Raises:
        ValueError: shapes disagree, no rows, or ``lam`` <= 0.
    """
    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(concept, dtype=np.int64)
    if x.ndim != 2 or len(x) == 0 or y.shape != (len(x),) or lam <= 0:
        raise ValueError("fit needs (n, dim) vectors, (n,) concept numbers, n > 0 and lam > 0")
    k = int(y.max()) + 1
    means = np.zeros((k, x.shape[1]))
    np.add.at(means, y, x)
    means /= np.maximum(np.bincount(y, minlength=k), 1)[:, None]
    d = x - means[y]
    s = d.T @ d / len(d)
    w, v = np.linalg.eigh(s)
    w = np.clip(w, 0.0, None)
    return np.asarray(v @ np.diag(1.0 / np.sqrt(w + lam * w.mean())) @ v.T, dtype=np.float32)


def read(path: Path | None = None) -> tuple[np.ndarray, dict[str, str]]:
    """The shipped map and its metadata (``model_id``, ``bank_digest``, ``lam``).

    Raises:
        AdapterError: missing field or wrong shape.
        OSError: the file can't be read.
    """
    source = path if path is not None else resources.files("matching").joinpath(ADAPTER_FILE)
    with source.open("rb") as f, np.load(f, allow_pickle=False) as z:
        try:
            w = np.asarray(z["w"], dtype=np.float32)
            meta = json.loads(str(z["meta"]))
        except (KeyError, ValueError) as e:
            raise AdapterError(f"adapter file: {e}") from e
    if w.shape != (USE_M3_DIM, USE_M3_DIM) or not isinstance(meta, dict):
        raise AdapterError(f"adapter file: map of shape {w.shape}, want {(USE_M3_DIM, USE_M3_DIM)}")
    return w, {str(k): str(v) for k, v in meta.items()}


@cache
def _shipped() -> tuple[np.ndarray, dict[str, str]]:
    return read()


def adapter_for(embedder: Embedder) -> np.ndarray | None:
    """The map the classifier uses with ``embedder``: the shipped one for use-m3, none for other models."""
    if embedder.model_id != USE_M3_ID or embedder.dim != USE_M3_DIM:
        return None
    w, meta = _shipped()
    return w if meta.get("model_id") == USE_M3_ID else None


def build(embedder: Embedder, out: Path, lam: float = LAM) -> dict[str, float | int | str]:
    """Fit the map on the banks with ``embedder`` and write it to ``out``; returns what was done."""
    t0 = time.perf_counter()
    texts, ids = bank_phrases()
    distinct = sorted(set(texts))
    vecs = embed_cached(embedder, distinct)
    row = {t: i for i, t in enumerate(distinct)}
    w = fit(vecs[[row[t] for t in texts]], ids, lam)
    meta = {"model_id": embedder.model_id, "bank_digest": bank_digest(), "lam": str(lam)}
    write_npz(out, meta, w=w.astype(np.float16))
    seconds = round(time.perf_counter() - t0, 1)
    return {"phrases": len(texts), "concepts": int(ids.max()) + 1, "seconds": seconds, "file": str(out)}


def main(argv: list[str] | None = None) -> None:
    """``python -m matching.adapter build|check``: refit the shipped map, or tell whether it is current."""
    from matching.embedder import get_embedder

    command(
        "matching.adapter",
        argv,
        ADAPTER_FILE,
        lambda out: build(get_embedder(), out),
        lambda: read()[1],
        "bank_digest",
        bank_digest,
    )


if __name__ == "__main__":
    main()
