"""A linear category model (multinomial logistic regression) fitted on the labelled ads, one vote of the
classifier.

Theory of operation: the classifier's kNN votes (``classify``) judge a text by its few nearest labelled
phrases and ads, so one odd neighbour can carry it ("bisa bantu angkat ke pickup", *can help lift it onto the
pickup*, put a bed on sale among the cars). A linear model weighs every direction of the space by how well it
separates the categories over all the ads of ``data/examples`` at once (4,504). ``fit`` minimises the mean
cross-entropy of ``softmax(x @ W + b)`` plus ``lam * |W|^2`` on the ads' vectors in the classifier's space
(``Classifier.adapt``), by Nesterov's accelerated gradient from zero for a fixed number of steps (convex, so
the result depends on nothing else; no SciPy). The classifier adds ``W_LINEAR`` times the log-probabilities
of the mean of the logits of the text and of its item rendering (``classify.Classifier.probabilities``).

Chosen on the tuning sets only. First offline, on the category of every side of ``tune``, ``tune2`` and
``tune3`` (2,897 texts) against its gold category: without the model .923 / .828 / .737; with ``lam`` 1e-4
and the weight .04 .932 / .843 / .756, on a plateau (``lam`` 5e-5 .. 2e-4 and weights .03 .. .06 all within
.004 of it overall); fitted on the bank phrases as well (10,000 more rows) .926 / .831 / .744; on the text's
logits alone .919 / .841 / .745; the model alone .795 / .755 / .689 (it corrects the kNN votes, it does not
replace them). Then in the pair evaluation (non-English means, before -> after): category agreement .924 ->
.939, .803 -> .816, .706 -> .732; top-1 .916 -> .918, .851 -> .851, .838 -> .835 (3 pairs of tune3's 840);
top-5 .985 -> .987, .963 -> .964, .979 -> .980. Only where the texts are given (``understand``): in the
search distribution (``features``) as well it made discovery narrower and cost tune2's top-5 .014. It
sharpens the distribution, so ``understand``'s softmax runs at ``classify.TEMPERATURE_TEXTS`` .04 instead of
.03: the agent then asks about as often as before (tune .092 -> .089, tune2 .125 -> .110, tune3 .166 ->
.145) and the expected calibration error of the top category on those 2,897 texts is .053 (.087 at .03;
before the model .060). Held-out, run once after the decision: category = gold .881 -> .902, agreement .866
-> .869, top-1 .858 -> .858.

The same file holds a side model: the same fit with two classes, offer and request, on the same ads' vectors
and sides (2,249 offers, 2,255 requests). ``understand`` asks it when no cue word decides the action
(``classify.Classifier.demand_probability``, where it is combined with the phrase margin and measured).

The weights ship as ``data/linear-use-m3.npz`` with the digest of the ads and of the adapter they were
fitted through; ``python -m matching.linear build`` refits them after an edit, ``check`` tells whether they
are current (a test runs the same check). Another embedder (the tests' hash embedder) gets no linear vote.
"""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from matching.bank import EXAMPLES_FOLDER
from matching.embedder import USE_M3_DIM, USE_M3_ID, Embedder
from matching.shipped import command, files_digest, write_npz

#: The file holding the fitted model of the default embedder.
LINEAR_FILE = "data/linear-use-m3.npz"
#: L2 penalty on the weights (the loss is a mean over the ads).
LAM = 1e-4
#: Gradient steps of the fit (on the ads the loss is then within 3e-4 of its value after 1,200 steps).
STEPS = 600


class LinearError(ValueError):
    """The model file is missing a field or has the wrong shape."""


def examples_digest() -> str:
    """sha256 of the labelled ads' files and of the adapter file (the vectors the model is fitted on pass
    through it)."""
    from matching.adapter import ADAPTER_FILE

    return files_digest([EXAMPLES_FOLDER], [ADAPTER_FILE])


def fit(
    vectors: np.ndarray, labels: np.ndarray, classes: int, lam: float = LAM, steps: int = STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: ``(W, b)`` minimising mean cross-entropy + ``lam * |W|^2``.

    Args:
        vectors: (n, dim) rows (unit length in practice).
        labels: (n,) class of each row, 0..classes-1.
        classes: number of classes (a class without rows gets a low bias).
        lam: L2 penalty (> 0).
        steps: gradient steps.

    Raises:
        ValueError: shapes disagree, no rows, a label out of range, or ``lam`` <= 0.
    """
    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 2 or len(x) == 0 or y.shape != (len(x),) or lam <= 0:
        raise ValueError("fit needs (n, dim) vectors, (n,) labels, n > 0 and lam > 0")
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"labels must lie in 0..{classes - 1}")
    n, dim = x.shape
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), y] = 1.0
    # the gradient's Lipschitz constant: softmax curvature <= 1/2, times the largest eigenvalue of x'x/n
    lipschitz = 0.5 * float(np.linalg.eigvalsh(x.T @ x / n)[-1]) + 0.5 + 2.0 * lam
    step = 1.0 / lipschitz
    w, b = np.zeros((dim, classes)), np.zeros(classes)
    w_prev, b_prev = w, b
    for t in range(1, steps + 1):
        momentum = (t - 1) / (t + 2)
        vw, vb = w + momentum * (w - w_prev), b + momentum * (b - b_prev)
        z = x @ vw + vb
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        w_prev, b_prev = w, b
        w = vw - step * (x.T @ g + 2.0 * lam * vw)
        b = vb - step * g.sum(axis=0)
    return w.astype(np.float32), b.astype(np.float32)


def log_probabilities(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    return np.asarray(z - np.log(np.exp(z).sum(axis=1, keepdims=True)), dtype=np.float32)


class LinearModel(NamedTuple):
    """Weights (dim, categories) and biases, columns in the order the classifier asked for; and the side
    model's weights (dim, 2) and biases, columns offer and seek."""

    w: np.ndarray
    b: np.ndarray
    side_w: np.ndarray
    side_b: np.ndarray

    def log_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(rows, categories): the model's log-probabilities of ``vectors`` (the classifier's space)."""
        return log_probabilities(vectors @ self.w + self.b)

    def seek_log_odds(self, vectors: np.ndarray) -> np.ndarray:
        """(rows,): the side model's log-odds that each text asks for something (classifier's space)."""
        z = vectors @ self.side_w + self.side_b
        return np.asarray(z[:, 1] - z[:, 0], dtype=np.float32)


class Shipped(NamedTuple):
    """The contents of the model file: the model (columns in the file's order), category codes, metadata."""

    model: LinearModel
    codes: tuple[str, ...]
    meta: dict[str, str]


def read(path: Path | None = None) -> Shipped:
    """The shipped model, its category codes (columns) and metadata.

    Raises:
        LinearError: missing field or wrong shape.
        OSError: the file can't be read.
    """
    source = path if path is not None else resources.files("matching").joinpath(LINEAR_FILE)
    with source.open("rb") as f, np.load(f, allow_pickle=False) as z:
        try:
            w = np.asarray(z["w"], dtype=np.float32)
            b = np.asarray(z["b"], dtype=np.float32)
            codes = tuple(str(c) for c in json.loads(str(z["codes"])))
            meta = json.loads(str(z["meta"]))
            side = [
                np.asarray(z[k], dtype=np.float32) if k in z.files else None for k in ("side_w", "side_b")
            ]
        except (KeyError, ValueError) as e:
            raise LinearError(f"linear model file: {e}") from e
    if w.shape != (USE_M3_DIM, len(codes)) or b.shape != (len(codes),) or not isinstance(meta, dict):
        raise LinearError(f"linear model file: weights {w.shape}, biases {b.shape}, {len(codes)} categories")
    side_w, side_b = side
    if side_w is None or side_b is None:
        raise LinearError("linear model file: no side model (side_w, side_b)")
    if side_w.shape != (USE_M3_DIM, 2) or side_b.shape != (2,):
        raise LinearError(f"linear model file: side weights {side_w.shape}, biases {side_b.shape}")
    return Shipped(LinearModel(w, b, side_w, side_b), codes, {str(k): str(v) for k, v in meta.items()})


@cache
def _shipped() -> Shipped:
    return read()


def linear_for(embedder: Embedder, codes: tuple[str, ...]) -> LinearModel | None:
    """The shipped model for ``embedder`` with columns in ``codes`` order, or None (another model, or a
    taxonomy the model was not fitted on)."""
    if embedder.model_id != USE_M3_ID or embedder.dim != USE_M3_DIM:
        return None
    m = _shipped()
    if m.meta.get("model_id") != USE_M3_ID or set(m.codes) != set(codes):
        return None
    order = [m.codes.index(c) for c in codes]
    return m.model._replace(w=np.ascontiguousarray(m.model.w[:, order]), b=m.model.b[order])


def build(embedder: Embedder, out: Path, lam: float = LAM) -> dict[str, float | int | str]:
    """Fit the model on the labelled ads with ``embedder`` and write it to ``out``; returns what was done."""
    from matching.bank import examples
    from matching.classify import classifier_for

    t0 = time.perf_counter()
    bank = classifier_for(embedder).bank()
    labels = bank.example_labels
    w, b = fit(bank.examples.vectors, labels, len(bank.codes), lam)
    seeks = np.array([e.side == "seek" for e in examples()], dtype=np.int64)  # the rows' order
    side_w, side_b = fit(bank.examples.vectors, seeks, 2, lam)
    meta = {"model_id": embedder.model_id, "examples_digest": examples_digest(), "lam": str(lam)}
    codes = np.array(json.dumps(list(bank.codes)))
    write_npz(out, meta, w=w, b=b, codes=codes, side_w=side_w, side_b=side_b)
    seconds = round(time.perf_counter() - t0, 1)
    return {"examples": len(labels), "categories": len(bank.codes), "seconds": seconds, "file": str(out)}


def main(argv: list[str] | None = None) -> None:
    """``python -m matching.linear build|check``: refit the shipped model, or tell whether it is current."""
    from matching.embedder import get_embedder

    command(
        "matching.linear",
        argv,
        LINEAR_FILE,
        lambda out: build(get_embedder(), out),
        lambda: read().meta,
        "examples_digest",
        examples_digest,
    )


if __name__ == "__main__":
    main()
