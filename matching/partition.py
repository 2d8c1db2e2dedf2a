"""One FAISS partition: the vectors and filter columns of the intents of one (action, category).

Rows are appended and never renumbered until the partition is rebuilt; a removed or expired row is only
marked dead (the filter bitmap leaves it out). The rows an empty partition is given are put in *place order*
(``place.py``: latitude band, then longitude), so the rows around a query are a few contiguous runs; rows
appended later form an unordered tail that every query scans whole. The index rebuilds a partition from its
live rows, in place order, when dead rows pass a fraction (compaction) or the tail does (``needs_reorder``:
``REORDER_MIN_TAIL`` rows and ``REORDER_TAIL_FRACTION`` of the partition, so the rows copied by all the
reorderings of a growing partition stay within a few times its size).

Storage: every row's float32 vector (the master copy: exact similarities, persistence, rebuilds) and a
*scan copy* FAISS reads through the filter bitmap (``IDSelectorBitmap``): int8 codes by default (a quarter
of the bytes: the filtered scan is bound by memory traffic on a busy machine). The codes are the components
times ``INT8_SCALE`` rounded (``IndexScalarQuantizer`` QT_8bit_direct_signed: no training, so a partition of
one row works as well as one of a million; unit vectors' components stay well inside +-0.5: use-m3's largest
seen is 0.29, a larger one is clipped), or float16 (QT_fp16). The shortlist of ``SCAN_SHORTLIST_FACTOR * k +
SCAN_SHORTLIST_EXTRA`` rows is re-ranked on the float32 vectors, so the similarities returned are exact and
only a row whose coded and exact ranks differ by more than the shortlist's slack could be missed (recall@5
against the exact scan is measured in ``bench/matching.py``); ``scan="exact"`` scans float32
(``IndexFlatIP``). Above ``approx_threshold`` rows an approximate
index is added: IVF-Flat (ids = rows, supports deletes) or HNSW (rows in order); a filter that selects at
most ``exact_subset_max`` rows still uses the scan copy (HNSW with a narrow filter unrelated to the text
loses recall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from matching.place import Bands, LonRanges, Runs, place_order
from matching.score import DEFAULT_HARD_KEYS
from wire.intent import Intent

FLAT = "flat"
IVF = "ivf"
HNSW = "hnsw"
#: Scan copies: int8 codes (default) or float16 codes, both re-ranked on float32; or float32 itself.
SCAN_INT8 = "int8"
SCAN_FP16 = "fp16"
SCAN_EXACT = "exact"
#: int8 code = round(component * INT8_SCALE), clipped to [-128, 127]: components within +-0.5 are kept.
INT8_SCALE = 254.0
#: A coded (int8 or float16) scan hands this many times the wanted rows, plus this many, to the re-ranking.
SCAN_SHORTLIST_FACTOR = 2
SCAN_SHORTLIST_EXTRA = 16
#: A partition's rows appended since it was last put in place order (its tail, scanned whole by every query)
#: are put in order (the partition rebuilt) once they are this many and this fraction of its rows.
REORDER_MIN_TAIL = 4096
REORDER_TAIL_FRACTION = 0.25


#: The filter columns ``add`` takes (computed by ``LocalIndex._columns``), and ``attr:<key>`` per hard key.
_COLUMNS = ("lat", "lon", "cell_r", "x", "y", "z", "radius", "price", "currency", "expires", "author")


@dataclass(frozen=True)
class IndexConfig:
    """Tunables of ``LocalIndex`` (all have safe defaults)."""

    approx_threshold: int = 100_000
    approx_kind: str = IVF  # IVF (supports deletes) or HNSW (rebuild on compaction)
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nprobe: int = 32
    exact_subset_max: int = 20_000
    scan: str = SCAN_INT8  # SCAN_INT8, SCAN_FP16 or SCAN_EXACT: what the filtered scan reads
    compact_dead_fraction: float = 0.5
    compact_min_dead: int = 1024
    price_tolerance: float = 0.20
    hard_keys: tuple[str, ...] = DEFAULT_HARD_KEYS
    #: Rows kept in place order (``place.py``); False keeps them in arrival order (the benchmark's baseline).
    place_ordered: bool = True


def _scan_index(dim: int, scan: str) -> Any:
    """An empty scan copy of the ``scan`` kind (none needs training)."""
    if scan == SCAN_EXACT:
        return faiss.IndexFlatIP(dim)
    if scan == SCAN_FP16:
        return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    if scan == SCAN_INT8:
        index = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT
        )
        index.is_trained = True  # direct codes: nothing to learn
        return index
    raise ValueError(f"unknown scan copy {scan!r} (int8, fp16, exact)")


def _scan_codes(vectors: np.ndarray, scan: str) -> np.ndarray:
    """What the scan copy of ``scan`` is given for ``vectors`` (int8 codes as float32, for FAISS)."""
    if scan != SCAN_INT8:
        return vectors
    return np.ascontiguousarray(np.clip(np.rint(vectors * INT8_SCALE), -128, 127), dtype=np.float32)


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
        self.index: Any = None  # the approximate index, above approx_threshold rows
        self.vectors = _Column(np.float32, 0.0)  # every row's vector, flattened (the master copy)
        self.scan_index: Any = _scan_index(dim, config.scan)
        #: The largest cell radius of any row ever added (a conservative bound for the geo band), and the
        #: smallest cell radius and search radius (the bounds of the cap every row within reaches).
        self.max_cell_r = 0.0
        self.min_cell_r = math.inf
        self.min_radius = math.inf
        self.intents: list[Intent | None] = []
        self.lat = _Column(np.float64, 0.0)
        self.lon = _Column(np.float64, 0.0)
        self.cell_r = _Column(np.float64, 0.0)
        self.x = _Column(np.float64, 0.0)  # the cell centre as a unit vector (distances without trigonometry)
        self.y = _Column(np.float64, 0.0)
        self.z = _Column(np.float64, 0.0)
        self.radius = _Column(np.float64, 0.0)
        self.price = _Column(np.float64, np.nan)  # unit price, minor units
        self.currency = _Column(np.int32, -1)
        self.expires = _Column(np.int64, 0)
        self.alive = _Column(np.bool_, False)
        self.author = _Column(np.int64, -1)
        self.attrs: dict[str, _Column] = {k: _Column(np.int32, -1) for k in config.hard_keys}
        self.dead = 0
        #: The band bounds of the rows in place order, [0, ``ordered``) (``place.py``); None: no row is.
        self.bands: Bands | None = None

    @property
    def ordered(self) -> int:
        """Rows [0, ordered) are in place order; the rest is the tail."""
        return self.bands.n if self.bands is not None else 0

    @property
    def size(self) -> int:
        return len(self.intents)

    @property
    def live(self) -> int:
        return self.size - self.dead

    def all_vectors(self) -> np.ndarray:
        """Every row's float32 vector (a view: copy before keeping it across an ``add``)."""
        return self.vectors.view().reshape(-1, self.dim)

    def add(self, intents: list[Intent], vectors: np.ndarray, columns: dict[str, np.ndarray]) -> list[int]:
        """Append rows; returns their row numbers. ``columns`` holds the precomputed filter values. The rows
        given to an empty partition are put in place order; later ones are its tail."""
        if self.size or not intents or not self.config.place_ordered:
            return self._append(intents, vectors, columns)
        order = place_order(columns["lat"], columns["lon"])
        self._append(
            [intents[i] for i in order.tolist()],
            np.ascontiguousarray(vectors[order]),
            {name: col[order] for name, col in columns.items()},
        )
        self.bands = Bands(self.lat.view(), self.lon.view())
        rows = np.empty(len(order), dtype=np.int64)
        rows[order] = np.arange(len(order))  # the partition was empty: the i-th row in place order is row i
        return rows.tolist()

    def _append(
        self, intents: list[Intent], vectors: np.ndarray, columns: dict[str, np.ndarray]
    ) -> list[int]:
        first = self.size
        rows = list(range(first, first + len(intents)))
        self.intents.extend(intents)
        for name in _COLUMNS:
            getattr(self, name).append(columns[name])
        self.alive.append(np.ones(len(intents), dtype=np.bool_))
        for k, col in self.attrs.items():
            col.append(columns["attr:" + k])
        if len(intents):
            self.max_cell_r = max(self.max_cell_r, float(np.max(columns["cell_r"])))
            self.min_cell_r = min(self.min_cell_r, float(np.min(columns["cell_r"])))
            self.min_radius = min(self.min_radius, float(np.min(columns["radius"])))
        self.vectors.append(vectors.reshape(-1))
        self.scan_index.add(_scan_codes(vectors, self.config.scan))
        if self.layout == FLAT:
            if self.size > self.config.approx_threshold:
                self._to_approx()
        else:
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

    def needs_reorder(self) -> bool:
        tail = self.size - self.ordered
        if not self.config.place_ordered:
            return False
        return tail >= REORDER_MIN_TAIL and tail > REORDER_TAIL_FRACTION * self.size

    def runs(self, lat_lo: float, lat_hi: float, ranges: LonRanges | None) -> Runs:
        """Row ranges holding every row in the box (latitudes ``[lat_lo, lat_hi]``, longitudes in ``ranges``,
        None: any): the place-ordered rows' runs in the box (``Bands.runs``), and the tail whole."""
        out = self.bands.runs(lat_lo, lat_hi, ranges) if self.bands is not None else []
        if self.size > self.ordered:
            out.append((self.ordered, self.size, False))
        return out

    def columns_of(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The filter columns of ``rows`` as ``add`` takes them (a rebuild copies them: no recomputing)."""
        out = {name: getattr(self, name).view()[rows] for name in _COLUMNS}
        out.update({"attr:" + k: col.view()[rows] for k, col in self.attrs.items()})
        return out

    def keep_rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive.view())

    def search(self, query: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows among ``mask`` by inner product with ``query`` (1, dim). Returns (sims, rows)."""
        selected = int(np.count_nonzero(mask))
        if selected == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        k = min(k, selected)
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        params: Any
        fx: Any = faiss  # the SWIG stubs don't know the SearchParameters keyword constructors
        if self.layout == FLAT or selected <= self.config.exact_subset_max:
            return self._scan(query, fx.SearchParameters(sel=sel), k, selected)
        if self.layout == IVF:
            params = fx.SearchParametersIVF(sel=sel, nprobe=self.config.ivf_nprobe)
        else:
            params = fx.SearchParametersHNSW(sel=sel, efSearch=max(self.config.hnsw_ef_search, k))
        sims, ids = self.index.search(query, k, params=params)
        keep = ids[0] >= 0
        return sims[0][keep], ids[0][keep]

    def _scan(self, query: np.ndarray, params: Any, k: int, selected: int) -> tuple[np.ndarray, np.ndarray]:
        """The filtered scan of the scan copy; a coded shortlist is re-ranked on the float32 vectors."""
        if self.config.scan == SCAN_EXACT:
            sims, ids = self.scan_index.search(query, k, params=params)
            keep = ids[0] >= 0
            return sims[0][keep], ids[0][keep]
        short = min(selected, SCAN_SHORTLIST_FACTOR * k + SCAN_SHORTLIST_EXTRA)
        coded = query
        if self.config.scan == SCAN_INT8:
            # the query must fit the codes' range too (a component past 127 scrambled the ranking, measured):
            # scaled so its largest component is 127, which leaves the ranking as it was
            peak = float(np.abs(query).max())
            coded = query * np.float32(127.0 / peak) if peak > 0 else query
        _, ids = self.scan_index.search(coded, short, params=params)
        rows = ids[0][ids[0] >= 0]
        exact = self.all_vectors()[rows] @ query[0]
        top = np.argsort(-exact, kind="stable")[:k]
        return exact[top].astype(np.float32), rows[top].astype(np.int64)

    def statistics(self) -> dict[str, Any]:
        return {"layout": self.layout, "rows": self.size, "live": self.live, "dead": self.dead}
