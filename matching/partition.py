"""One FAISS partition: the vectors and filter columns of the intents of one (action, category).

Rows are appended and never renumbered until ``compact``; a removed or expired row is only marked dead
(the filter bitmap leaves it out), and the partition is rebuilt when dead rows pass a fraction. Layout:
exact ``IndexFlatIP`` below ``approx_threshold`` rows, then IVF-Flat (ids = rows) or HNSW (rows in order).
Filters are numpy columns evaluated into a bitmap handed to FAISS as ``IDSelectorBitmap``; when the bitmap
selects few rows of an approximate partition the search is exact over those rows instead (HNSW with a
narrow filter unrelated to the text loses recall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from wire.intent import Intent

FLAT = "flat"
IVF = "ivf"
HNSW = "hnsw"


@dataclass(frozen=True)
class IndexConfig:
    """Tunables of ``LocalIndex`` (all have safe defaults)."""

    approx_threshold: int = 100_000
    approx_kind: str = IVF  # IVF (supports deletes) or HNSW (rebuild on compaction)
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nprobe: int = 32
    exact_subset_max: int = 20_000
    compact_dead_fraction: float = 0.5
    compact_min_dead: int = 1024
    price_tolerance: float = 0.20
    hard_keys: tuple[str, ...] = ("size", "model", "storage", "screen", "capacity")


class _Column:
    """A growable numpy column."""

    def __init__(self, dtype: Any, fill: Any) -> None:
        self.data = np.full(16, fill, dtype=dtype)
        self.fill = fill
        self.n = 0

    def append(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self.data):
            grown = np.full(max(need, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = values
        self.n = need

    def view(self) -> np.ndarray:
        return self.data[: self.n]


class Partition:
    """Vectors + filter columns of one (action, category)."""

    def __init__(self, dim: int, config: IndexConfig) -> None:
        self.dim = dim
        self.config = config
        self.layout = FLAT
        self.index: Any = faiss.IndexFlatIP(dim)
        self.vectors: _Column | None = None  # kept only for approximate layouts (rebuilds)
        self.intents: list[Intent | None] = []
        self.lat = _Column(np.float64, 0.0)
        self.lon = _Column(np.float64, 0.0)
        self.cell_r = _Column(np.float64, 0.0)
        self.radius = _Column(np.float64, 0.0)
        self.price = _Column(np.float64, np.nan)  # unit price, minor units
        self.currency = _Column(np.int32, -1)
        self.expires = _Column(np.int64, 0)
        self.alive = _Column(np.bool_, False)
        self.author = _Column(np.int64, -1)
        self.attrs: dict[str, _Column] = {k: _Column(np.int32, -1) for k in config.hard_keys}
        self.dead = 0

    @property
    def size(self) -> int:
        return len(self.intents)

    @property
    def live(self) -> int:
        return self.size - self.dead

    def all_vectors(self) -> np.ndarray:
        """Every row's vector (copy for flat, view for approximate layouts)."""
        if self.layout == FLAT:
            n = self.index.ntotal
            if n == 0:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.array(faiss.rev_swig_ptr(self.index.get_xb(), n * self.dim), dtype=np.float32).reshape(
                n, self.dim
            )
        assert self.vectors is not None
        return self.vectors.view().reshape(-1, self.dim)

    def add(self, intents: list[Intent], vectors: np.ndarray, columns: dict[str, np.ndarray]) -> list[int]:
        """Append rows; returns their row numbers. ``columns`` holds the precomputed filter values."""
        first = self.size
        rows = list(range(first, first + len(intents)))
        self.intents.extend(intents)
        for name in ("lat", "lon", "cell_r", "radius", "price", "currency", "expires", "author"):
            getattr(self, name).append(columns[name])
        self.alive.append(np.ones(len(intents), dtype=np.bool_))
        for k, col in self.attrs.items():
            col.append(columns["attr:" + k])
        if self.layout == FLAT:
            self.index.add(vectors)
            if self.size > self.config.approx_threshold:
                self._to_approx()
        else:
            assert self.vectors is not None
            self.vectors.append(vectors.reshape(-1))
            if self.layout == IVF:
                self.index.add_with_ids(vectors, np.asarray(rows, dtype=np.int64))
            else:
                self.index.add(vectors)
        return rows

    def _build_approx(self, vecs: np.ndarray) -> Any:
        n = len(vecs)
        index: Any
        if self.config.approx_kind == HNSW:
            index = faiss.IndexHNSWFlat(self.dim, self.config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.add(vecs)
            return index
        nlist = int(min(65536, max(16, 4 * math.sqrt(n))))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vecs if n <= nlist * 40 else vecs[rng.choice(n, nlist * 40, replace=False)]
        index.train(sample)
        index.add_with_ids(vecs, np.arange(n, dtype=np.int64))
        return index

    def _to_approx(self) -> None:
        vecs = self.all_vectors()
        self.vectors = _Column(np.float32, 0.0)
        self.vectors.append(vecs.reshape(-1))
        self.layout = self.config.approx_kind
        self.index = self._build_approx(vecs)

    def kill(self, row: int) -> Intent | None:
        """Mark ``row`` dead; returns its intent (None if already dead)."""
        intent = self.intents[row]
        if intent is None:
            return None
        self.intents[row] = None
        self.alive.data[row] = False
        self.dead += 1
        if self.layout == IVF:
            self.index.remove_ids(np.asarray([row], dtype=np.int64))
        return intent

    def needs_compaction(self) -> bool:
        return (
            self.dead >= self.config.compact_min_dead
            and self.dead > self.config.compact_dead_fraction * self.size
        )

    def keep_rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive.view())

    def search(self, query: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows among ``mask`` by inner product with ``query`` (1, dim). Returns (sims, rows)."""
        selected = int(mask.sum())
        if selected == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        k = min(k, selected)
        if self.layout != FLAT and selected <= self.config.exact_subset_max:
            rows = np.flatnonzero(mask)
            assert self.vectors is not None
            sims = self.vectors.view().reshape(-1, self.dim)[rows] @ query[0]
            top = np.argsort(-sims)[:k]
            return sims[top].astype(np.float32), rows[top].astype(np.int64)
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        params: Any
        fx: Any = faiss  # the SWIG stubs don't know the SearchParameters keyword constructors
        if self.layout == FLAT:
            params = fx.SearchParameters(sel=sel)
        elif self.layout == IVF:
            params = fx.SearchParametersIVF(sel=sel, nprobe=self.config.ivf_nprobe)
        else:
            params = fx.SearchParametersHNSW(sel=sel, efSearch=max(self.config.hnsw_ef_search, k))
        sims, ids = self.index.search(query, k, params=params)
        keep = ids[0] >= 0
        return sims[0][keep], ids[0][keep]

    def statistics(self) -> dict[str, Any]:
        return {"layout": self.layout, "rows": self.size, "live": self.live, "dead": self.dead}
