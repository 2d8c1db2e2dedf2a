"""Action and category by similarity to labelled multilingual prototypes (``data/prototypes.json``).

Category: the item words are embedded and compared with every category's prototypes; a category's score is
the mean of its two best prototype similarities, plus small boosts from extracted attributes (a tire size
points at ``vehicles/tires``, an iPhone model at ``electronics/phones``). Action: lexical cues decide when
they agree; the embedding margin between demand and supply prototypes decides otherwise.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np

from matching.embedder import Embedder

#: attribute -> (category, boost) added to the similarity score.
_ATTR_BOOSTS: dict[str, list[tuple[str, float]]] = {
    "size:tire": [("vehicles/tires", 0.15)],
    "season": [("vehicles/tires", 0.05)],
    "model:iphone": [("electronics/phones", 0.15)],
    "model:galaxy": [("electronics/phones", 0.15)],
    "model:pixel": [("electronics/phones", 0.15)],
    "model:redmi": [("electronics/phones", 0.15)],
    "model:ps": [("electronics/consoles", 0.15)],
    "model:xbox": [("electronics/consoles", 0.15)],
    "model:switch": [("electronics/consoles", 0.1)],
    "model:macbook": [("electronics/laptops", 0.15)],
    "model:ipad": [("electronics/tablets", 0.15)],
    "screen": [("electronics/tv", 0.04)],
    "storage": [("electronics/phones", 0.03), ("electronics/laptops", 0.03), ("electronics/tablets", 0.02)],
}


@dataclass(frozen=True)
class CategoryResult:
    code: str
    score: float
    margin: float  # best minus second best
    runner_up: str


@dataclass(frozen=True)
class Prototypes:
    categories: tuple[str, ...]  # one code per row of cat_vectors
    cat_vectors: np.ndarray
    demand: np.ndarray
    supply: np.ndarray


def load_prototype_texts() -> dict[str, object]:
    """The raw prototype document."""
    text = resources.files("matching").joinpath("data/prototypes.json").read_text(encoding="utf-8")
    doc: dict[str, object] = json.loads(text)
    return doc


class Classifier:
    """Prototype classifier bound to one embedder; prototype vectors are computed once, lazily."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._protos: Prototypes | None = None
        self._lock = threading.Lock()

    def prototypes(self) -> Prototypes:
        with self._lock:
            if self._protos is None:
                doc = load_prototype_texts()
                cats = doc["categories"]
                acts = doc["actions"]
                assert isinstance(cats, dict) and isinstance(acts, dict)
                codes: list[str] = []
                texts: list[str] = []
                for code, phrases in cats.items():
                    for p in phrases:
                        codes.append(code)
                        texts.append(p)
                demand = list(acts["demand"])
                supply = list(acts["supply"])
                vecs = self.embedder.embed(texts + demand + supply)
                n = len(texts)
                self._protos = Prototypes(
                    tuple(codes), vecs[:n], vecs[n : n + len(demand)], vecs[n + len(demand) :]
                )
            return self._protos

    def categories(self, vectors: np.ndarray, boosts: list[dict[str, float]]) -> list[CategoryResult]:
        """Best category for each row of ``vectors`` (item-word embeddings), with attribute boosts."""
        protos = self.prototypes()
        sims = vectors @ protos.cat_vectors.T
        codes = sorted(set(protos.categories))
        col = {c: i for i, c in enumerate(codes)}
        rows = np.array([col[c] for c in protos.categories])
        out: list[CategoryResult] = []
        for r in range(sims.shape[0]):
            scores = np.full(len(codes), -1.0)
            for ci in range(len(codes)):
                s = np.sort(sims[r, rows == ci])[::-1]
                scores[ci] = float(s[:2].mean())
            for code, b in boosts[r].items():
                if code in col:
                    scores[col[code]] += b
            order = np.argsort(-scores)
            best, second = int(order[0]), int(order[1])
            out.append(
                CategoryResult(
                    codes[best], float(scores[best]), float(scores[best] - scores[second]), codes[second]
                )
            )
        return out

    def action_margin(self, vectors: np.ndarray) -> np.ndarray:
        """Per row: mean top-3 similarity to demand prototypes minus the same for supply (> 0 = demand)."""
        protos = self.prototypes()
        d = np.sort(vectors @ protos.demand.T, axis=1)[:, -3:].mean(axis=1)
        s = np.sort(vectors @ protos.supply.T, axis=1)[:, -3:].mean(axis=1)
        return np.asarray(d - s, dtype=np.float32)


def attribute_boosts(attributes: dict[str, str]) -> dict[str, float]:
    """Category boosts implied by extracted attributes."""
    out: dict[str, float] = {}
    keys: list[str] = []
    if "size" in attributes and "/" in attributes["size"]:
        keys.append("size:tire")
    if "model" in attributes:
        keys.append("model:" + attributes["model"].split(" ")[0])
    for k in ("season", "screen", "storage"):
        if k in attributes:
            keys.append(k)
    for k in keys:
        for code, b in _ATTR_BOOSTS.get(k, []):
            out[code] = out.get(code, 0.0) + b
    return out


_CLASSIFIERS: dict[int, Classifier] = {}
_LOCK = threading.Lock()


def classifier_for(embedder: Embedder) -> Classifier:
    """The cached classifier of ``embedder`` (one per embedder object per process)."""
    with _LOCK:
        c = _CLASSIFIERS.get(id(embedder))
        if c is None or c.embedder is not embedder:
            c = Classifier(embedder)
            _CLASSIFIERS[id(embedder)] = c
        return c
