"""LocalIndex: a peer's FAISS index of intents, partitioned by (action, top-level group), filtered, persisted.

Theory of operation: ``add`` computes each intent's match vector (``features``: its raw text and its item
rendering, embedded together) and appends it to the partition of its (action, taxonomy group, e.g.
"vehicles") together with its filter columns (cell centre and radius, search radius, unit price and currency,
expiry, author, hard attributes, fine category) and its identifier tokens; an intent with ``extra_groups``
gets a row in each of its groups' partitions (a search that reaches two of them returns it once). ``search``
goes to the partitions of the inverse side (SELL and OFFER_SERVICE for a demand: the goods/service form
follows each intent's own category, which may differ from ours) and the query's group (or the groups it is
given: a query unsure of its category looks at up to five), evaluates the hard filters of ``score.py`` into a
bitmap (on the rows of the latitude/longitude box around the query only: the partition keeps its rows in
place order, ``place.py``, so the box is a few contiguous runs; the live, author, price and attribute columns
there; the great-circle distance last, on the survivors only, from each row's precomputed unit vector), lets
FAISS (``IDSelectorBitmap`` over the partition's int8 scan copy, re-ranked on float32: ``partition.py``) pick
the nearest survivors by inner product, then rescores them: similarity, shared identifiers, the query's
probability for the candidate's fine category, soft-attribute agreement and conflicts, the gap between the
two unit prices (``score.combine_score``). The fine category is a ranking signal, and a filter only for the
unrelated (``RELATED_MIN_P`` / ``RELATED_MIN_SIM``): two sides the classifier put in different but plausible
fine categories still meet. Intents are keyed by their 16-byte id; a higher ``seq`` replaces, a lower or
equal one is ignored; a withdrawn intent removes the old one. One OpenMP thread is used for single queries.

Every vector carries the embedder's ``model_id`` and ``dim``; vectors or saved indexes of another model are
refused with ``EmbedderMismatchError``. ``save(dir)`` and ``load(dir)`` go through ``index_files`` (atomic,
generation-numbered files); ``load`` rebuilds the partitions without re-embedding unless the saved vectors
were made by another match-vector formula.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matching.discovery import MAX_SEARCH_GROUPS, SIDES
from matching.embedder import Embedder, check_compatible, get_embedder
from matching.errors import EmbedderMismatchError
from matching.features import FEATURES_VERSION, features, reading_digest
from matching.index_files import read_index, read_manifest, write_index
from matching.partition import IndexConfig, Partition
from matching.place import distances_km, in_lon_ranges, lon_ranges, lon_reach, unit
from matching.score import (
    PRICE_MISREAD_RATIO,
    Match,
    combine_score,
    explain,
    price_gaps,
    rank_key,
    soft_agreement,
    unit_price,
)
from matching.signals import (
    accessory_conflict,
    conflicts,
    coverage,
    designator_conflict,
    designators,
    generation_conflict,
    generations,
    identifiers,
    key_matches,
)
from matching.words import Pairs, WordVectors, by_words, query_units
from wire.geo import EARTH_RADIUS_KM, cell_radius_km, center
from wire.intent import Intent
from wire.taxonomy import group_of

MAX_SEARCH_K = 1000
#: Candidates FAISS hands to the exact rescoring, per partition: at least this many, or 4 * k.
MIN_RESCORE = 40
#: A candidate of another fine category than the query's is kept only if the query gives that category this
#: much probability, or if the two texts are this similar, or if it is filed here as its second group (its
#: author was unsure of its category; tune2 top-5 .897 -> .917): "related", not merely in the same group (a
#: bicycle is not a match for tires). Mostly a ranking signal; this cut only drops the unrelated. On eval2's
#: tune split, unsure intents filed twice (non-en top-1 / top-5): p < .01 cut .893 / .975, p < .001 (this)
#: .901 / .982, no cut .903 / .985: kept for what the query is sure it is not, loosened for the improbable.
RELATED_MIN_P = 0.001
RELATED_MIN_SIM = 0.45
#: The spherical caps of ``_mask`` (unit vectors' dot product against cos(reach)) are this much wider (the
#: outer one) and narrower (the inner one, whose rows skip the great-circle test) than the exact reach, so
#: rounding never decides a row: one near either edge gets the exact test.
CAP_SLACK = 1e-9
#: Query feature cache entries (own intents are searched again at every watch round).
MAX_QUERY_CACHE = 1024
_DEMAND = ("BUY", "SEEK_SERVICE")
_NO_IDS: frozenset[str] = frozenset()


class LocalIndex:
    """Intents of other peers (and one's own), searchable for inverse matches."""

    def __init__(self, embedder: Embedder | None = None, config: IndexConfig | None = None) -> None:
        self.embedder = embedder if embedder is not None else get_embedder()
        self.config = config or IndexConfig()
        self._dim: int | None = None
        self._parts: dict[tuple[str, str], Partition] = {}
        self._where: dict[bytes, list[tuple[tuple[str, str], int]]] = {}  # id -> (partition, row) per group
        self._interned: dict[str, int] = {}
        self._cell_cache: dict[str, tuple[float, float, float, tuple[float, float, float]]] = {}
        self._ids: dict[bytes, frozenset[str]] = {}
        #: the intents whose identifiers name a model's generation ("X-T30 II"): the few
        #: ``generation_conflict`` is asked about when the query names none
        self._generations: set[bytes] = set()
        self._df: dict[str, int] = {}  # identifier -> how many indexed intents have it
        self._queries: dict[tuple[bytes, int, str], tuple[np.ndarray, dict[str, float]]] = {}
        self._words = WordVectors(self.embedder)
        self._stats = {
            "added": 0,
            "replaced": 0,
            "stale": 0,
            "removed": 0,
            "expired": 0,
            "searches": 0,
            "compactions": 0,
            "reorders": 0,
        }
        self._search_s = 0.0

    # -- helpers -------------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self.embedder.dim
        return self._dim

    def _intern(self, value: str) -> int:
        i = self._interned.get(value)
        if i is None:
            i = len(self._interned)
            self._interned[value] = i
        return i

    def _cell(self, cell: str) -> tuple[float, float, float, tuple[float, float, float]]:
        """A cell's centre (lat, lon), radius in km and centre as a unit vector (cached)."""
        c = self._cell_cache.get(cell)
        if c is None:
            lat, lon = center(cell)
            c = (lat, lon, cell_radius_km(cell), unit(lat, lon))
            if len(self._cell_cache) < 100_000:
                self._cell_cache[cell] = c
        return c

    def _columns(self, intents: list[Intent]) -> dict[str, np.ndarray]:
        cells = [self._cell(i.cell) for i in intents]
        cols: dict[str, np.ndarray] = {
            "lat": np.array([c[0] for c in cells], dtype=np.float64),
            "lon": np.array([c[1] for c in cells], dtype=np.float64),
            "cell_r": np.array([c[2] for c in cells], dtype=np.float64),
            "x": np.array([c[3][0] for c in cells], dtype=np.float64),
            "y": np.array([c[3][1] for c in cells], dtype=np.float64),
            "z": np.array([c[3][2] for c in cells], dtype=np.float64),
            "radius": np.array([i.radius_km for i in intents], dtype=np.float64),
            "expires": np.array([i.expires for i in intents], dtype=np.int64),
            "author": np.array([self._intern("a:" + i.author.hex()) for i in intents], dtype=np.int64),
        }
        prices = [unit_price(i) for i in intents]
        cols["price"] = np.array([np.nan if p is None else float(p[0]) for p in prices], dtype=np.float64)
        cols["currency"] = np.array(
            [-1 if p is None else self._intern("c:" + p[1]) for p in prices], dtype=np.int32
        )
        for k in self.config.hard_keys:
            cols["attr:" + k] = np.array(
                [self._intern(f"{k}:{i.attributes[k]}") if k in i.attributes else -1 for i in intents],
                dtype=np.int32,
            )
        return cols

    # -- mutation ------------------------------------------------------------------------------------
    def add(self, intent: Intent, vector: np.ndarray | None = None, model_id: str | None = None) -> bool:
        """Add or replace one intent. See ``add_many``."""
        vecs = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self.add_many([intent], vecs, model_id)[0]

    def add_many(
        self, intents: Iterable[Intent], vectors: np.ndarray | None = None, model_id: str | None = None
    ) -> list[bool]:
        """Add intents (embedding their canonical renderings in one batch unless ``vectors`` are given).

        Args:
            intents: intents; a withdrawn one removes its earlier version; an equal or lower seq is ignored
                (also within the batch).
            vectors: optional precomputed (n, dim) float32 unit vectors, in the same order.
            model_id: the model that made ``vectors`` (required with them).

        Returns:
            Per intent, True if it was stored (new or replacing), False if ignored.

        Raises:
            EmbedderMismatchError: ``vectors`` come from another model or have another dimension.
        """
        items = list(intents)
        if vectors is not None:
            if model_id is None:
                raise EmbedderMismatchError("precomputed vectors need their model_id")
            check_compatible(model_id, int(vectors.shape[1]) if vectors.ndim == 2 else -1, self.embedder)
            if len(vectors) != len(items):
                raise ValueError("one vector per intent")
        results = [False] * len(items)
        todo: list[int] = []
        latest: dict[bytes, int] = {}  # one intent twice in a batch: the higher seq wins (the first on a tie)
        for n, it in enumerate(items):
            if (m := latest.get(it.id)) is None or it.seq > items[m].seq:
                latest[it.id] = n
        for n, it in enumerate(items):
            if latest[it.id] != n:
                self._stats["stale"] += 1
                continue
            old = self._where.get(it.id)
            if old is not None:
                old_intent = self._parts[old[0][0]].intents[old[0][1]]
                if old_intent is not None and it.seq <= old_intent.seq:
                    self._stats["stale"] += 1
                    continue
                self._kill(it.id)
                self._stats["replaced"] += 1
            if it.withdrawn:
                results[n] = True
                continue
            todo.append(n)
        if not todo:
            return results
        if vectors is None:
            vecs = features([items[n] for n in todo], self.embedder, probs=False).vectors
        else:
            vecs = np.ascontiguousarray(vectors[todo], dtype=np.float32)
        groups: dict[tuple[str, str], list[int]] = {}
        for j, n in enumerate(todo):
            for g in items[n].groups:  # its category's group, then any extra_groups: one row in each
                groups.setdefault((items[n].action.value, g), []).append(j)
            self._set_ids(items[n].id, identifiers(items[n].text))
        for key, js in groups.items():
            part = self._parts.get(key)
            if part is None:
                part = self._parts[key] = Partition(self.dim, self.config)
            batch = [items[todo[j]] for j in js]
            rows = part.add(batch, np.ascontiguousarray(vecs[js]), self._columns(batch))
            for it, row in zip(batch, rows, strict=True):
                self._where.setdefault(it.id, []).append((key, row))
            if part.needs_reorder():
                self._rebuild(key, "reorders")
        for n in todo:
            results[n] = True
        self._stats["added"] += len(todo)
        return results

    def _set_ids(self, intent_id: bytes, ids: frozenset[str]) -> None:
        self._drop_ids(intent_id)
        self._ids[intent_id] = ids
        if generations(ids):
            self._generations.add(intent_id)
        for t in ids:
            self._df[t] = self._df.get(t, 0) + 1

    def _drop_ids(self, intent_id: bytes) -> None:
        self._generations.discard(intent_id)
        for t in self._ids.pop(intent_id, _NO_IDS):
            left = self._df[t] - 1
            if left:
                self._df[t] = left
            else:
                del self._df[t]

    def _kill(self, intent_id: bytes) -> Intent | None:
        self._drop_ids(intent_id)
        intent = None
        for key, row in self._where.pop(intent_id, ()):
            part = self._parts[key]
            intent = part.kill(row) or intent
            if part.needs_compaction():
                self._rebuild(key, "compactions")
        return intent

    def _moved(self, intent_id: bytes, key: tuple[str, str], row: int) -> None:
        """Record that ``intent_id``'s row in partition ``key`` is now ``row`` (after a rebuild)."""
        locs = self._where.get(intent_id)
        if locs is not None:
            self._where[intent_id] = [(k, row if k == key else r) for k, r in locs]

    def remove(self, intent_id: bytes) -> bool:
        """Remove an intent by id; True if it was present."""
        ok = self._kill(intent_id) is not None
        if ok:
            self._stats["removed"] += 1
        return ok

    def expire(self, now: float) -> int:
        """Drop every intent whose ``expires <= now``; returns how many."""
        count = 0
        for key in list(self._parts):
            part = self._parts[key]
            rows = np.flatnonzero(part.alive.view() & (part.expires.view() <= now))
            for row in rows:
                intent = part.intents[int(row)]
                if intent is not None:
                    part.kill(int(row))  # its rows in other groups' partitions go in their own turn
                    if self._where.pop(intent.id, None) is not None:
                        self._drop_ids(intent.id)
                        count += 1
            if part.needs_compaction():
                self._rebuild(key, "compactions")
        self._stats["expired"] += count
        return count

    def _rebuild(self, key: tuple[str, str], why: str) -> None:
        """Rebuild a partition from its live rows, in place order: when dead rows pass a fraction
        (``why`` = "compactions") or its unordered tail does (``why`` = "reorders")."""
        part = self._parts[key]
        kept: list[int] = []
        live: list[Intent] = []
        for r in part.keep_rows().tolist():
            intent = part.intents[r]
            if intent is not None:
                kept.append(r)
                live.append(intent)
        keep = np.asarray(kept, dtype=np.int64)
        fresh = Partition(self.dim, self.config)
        self._parts[key] = fresh
        if live:
            vecs = np.ascontiguousarray(part.all_vectors()[keep])
            rows = fresh.add(live, vecs, part.columns_of(keep))
            for it, row in zip(live, rows, strict=True):
                self._moved(it.id, key, row)
        self._stats[why] += 1

    # -- search --------------------------------------------------------------------------------------
    def _mask(self, part: Partition, q: Intent, now: float | None) -> np.ndarray:
        """The rows of ``part`` that pass every hard filter for ``q``, evaluated on the partition's runs in
        the latitude/longitude box around the query only (``Partition.runs``): the box, the spherical cap
        every row within reach lies in (the unit vectors' dot product), live, expiry, author, price and
        attribute columns, then the great-circle distance to each survivor against its own limit, except for
        those in the inner cap that even the nearest limit of the partition reaches (they pass for sure: with
        one search radius, most survivors)."""
        lat, lon, r, q_xyz = self._cell(q.cell)
        reach = (float(q.radius_km) + r + part.max_cell_r) / EARTH_RADIUS_KM  # radians
        sure_reach = (min(float(q.radius_km), part.min_radius) + r + part.min_cell_r) / EARTH_RADIUS_KM
        band = np.degrees(reach) + 1e-9
        ranges = lon_ranges(lon, lon_reach(lat, reach))
        author = self._interned.get("a:" + q.author.hex(), -2)
        qp = unit_price(q)
        cur = -2 if qp is None else self._interned.get("c:" + qp[1], -2)
        tol = 1.0 + self.config.price_tolerance
        demand = q.action.value in _DEMAND
        wants = [
            (col.view(), self._interned.get(f"{k}:{q.attributes[k]}", -2))
            for k, col in part.attrs.items()
            if k in q.attributes
        ]
        lats, lons, alive, expires = part.lat.view(), part.lon.view(), part.alive.view(), part.expires.view()
        authors, prices, currencies = part.author.view(), part.price.view(), part.currency.view()
        xs, ys, zs = part.x.view(), part.y.view(), part.z.view()
        cap = math.cos(reach) - CAP_SLACK if reach < math.pi else -2.0
        sure = math.cos(sure_reach) + CAP_SLACK if sure_reach < math.pi else 2.0
        mask = np.zeros(part.size, dtype=np.bool_)
        unsure: list[np.ndarray] = []  # the survivors in the annulus between the two caps, per run
        with np.errstate(invalid="ignore"):  # a row without a price holds NaN: compared False, silently
            for s, e, inside in part.runs(lat - band, lat + band, ranges):
                m = alive[s:e].copy()
                if not inside:
                    m &= (lats[s:e] >= lat - band) & (lats[s:e] <= lat + band)
                    if ranges is not None:
                        m &= in_lon_ranges(lons[s:e], ranges)
                dot = xs[s:e] * q_xyz[0] + ys[s:e] * q_xyz[1] + zs[s:e] * q_xyz[2]
                m &= dot >= cap
                if now is not None:
                    m &= expires[s:e] > now
                if author != -2:  # a query whose author has no row here excludes none
                    m &= authors[s:e] != author
                if qp is not None and cur != -2:  # no row in the query's currency: no price to compare
                    low, high = (prices[s:e], qp[0]) if demand else (qp[0], prices[s:e])  # ask, max
                    ok = (low <= high * tol) | (low >= high * PRICE_MISREAD_RATIO)
                    m &= ok | (currencies[s:e] != cur)
                for v, want in wants:
                    m &= (v[s:e] == -1) | (v[s:e] == want)
                mask[s:e] = m
                unsure.append(np.flatnonzero(m & (dot < sure)) + s)
        rows = np.concatenate(unsure) if unsure else np.zeros(0, dtype=np.int64)
        if len(rows):
            d = self._distances(part, rows, q_xyz) - r - part.cell_r.view()[rows]
            mask[rows] = d <= np.minimum(float(q.radius_km), part.radius.view()[rows])
        return mask

    @staticmethod
    def _distances(part: Partition, rows: np.ndarray, q: tuple[float, float, float]) -> np.ndarray:
        return distances_km(part.x.view()[rows], part.y.view()[rows], part.z.view()[rows], q)

    def query_features(self, intent: Intent) -> tuple[np.ndarray, dict[str, float]]:
        """The query's match vector and category distribution (cached per intent id, seq and category)."""
        key = (intent.id, intent.seq, intent.category)
        got = self._queries.get(key)
        if got is None:
            f = features([intent], self.embedder)
            got = (f.vectors[0], {c: float(p) for c, p in zip(f.codes, f.probs[0], strict=True) if p >= 1e-4})
            if len(self._queries) >= MAX_QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[key] = got
        return got

    def search(
        self,
        intent: Intent,
        k: int = 10,
        now: float | None = None,
        vector: np.ndarray | None = None,
        groups: list[str] | None = None,
        category_probs: dict[str, float] | None = None,
    ) -> list[Match]:
        """Inverse intents that pass every hard filter, best first.

        Args:
            intent: the query (the inverse action is searched, in its group unless ``groups`` says otherwise).
            k: at most this many matches (capped at ``MAX_SEARCH_K``).
            now: if given, intents with ``expires <= now`` are left out.
            vector: optional precomputed query match vector (must be of this index's model).
            groups: taxonomy groups to search (at most ``MAX_SEARCH_GROUPS``); default the query's own.
            category_probs: the query's category distribution; computed from its text when None.

        Returns:
            Up to ``k`` ``Match`` objects, highest score first (equal scores: the more similar, then the
            nearer, then the lower id first, so that the order never depends on where rows are stored).
        """
        t0 = time.perf_counter()
        self._stats["searches"] += 1
        k = max(1, min(int(k), MAX_SEARCH_K))
        wanted = list(dict.fromkeys(groups or [group_of(intent.category)]))[:MAX_SEARCH_GROUPS]
        parts = [
            (g, p)
            for g in wanted
            for a in SIDES[not intent.action.demand]
            if (p := self._parts.get((a.value, g))) is not None and p.live > 0
        ]
        masks = [(g, p, m) for g, p in parts if (m := self._mask(p, intent, now)).any()]
        if not masks:
            return []
        if vector is None or category_probs is None:
            qv, probs = self.query_features(intent)
            vector = qv if vector is None else vector
            category_probs = probs if category_probs is None else category_probs
        q = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise EmbedderMismatchError(f"query vector dim {q.shape[1]} != index dim {self.dim}")
        faiss.omp_set_num_threads(1)
        q_xyz = self._cell(intent.cell)[3]
        q_ids = identifiers(intent.text)
        q_weights = self._id_weights(q_ids, self._ids.get(intent.id, _NO_IDS))
        q_models = designators(q_ids)
        q_generation = bool(generations(q_ids))
        q_attrs = intent.attributes
        qp = unit_price(intent)
        q_cur = -2 if qp is None else self._interned.get("c:" + qp[1], -2)
        scored: dict[bytes, tuple[float, float, float, Intent]] = {}  # one per intent filed in two groups
        for group, part, mask in masks:
            sims, rows = part.search(q, mask, min(MAX_SEARCH_K, max(MIN_RESCORE, 4 * k)))
            rows_i = rows.astype(np.int64)
            dists = self._distances(part, rows_i, q_xyz)
            if qp is None:
                gaps = [0.0] * len(rows_i)
            else:
                same = part.currency.view()[rows_i] == q_cur
                gaps = price_gaps(float(qp[0]), np.where(same, part.price.view()[rows_i], np.nan)).tolist()
            for sim, row, dist, gap in zip(sims.tolist(), rows_i.tolist(), dists.tolist(), gaps, strict=True):
                cand = part.intents[row]
                if cand is None:
                    continue
                p_cat = category_probs.get(cand.category, 0.0)
                unrelated = p_cat < RELATED_MIN_P and sim < RELATED_MIN_SIM  # unless filed here second
                if unrelated and cand.category != intent.category and group_of(cand.category) == group:
                    continue
                c_attrs = cand.attributes
                both = bool(q_attrs) and bool(c_attrs)  # no shared attribute: neutral agreement, nothing else
                c_ids = self._ids.get(cand.id, _NO_IDS)
                score = combine_score(
                    sim,
                    soft_agreement(q_attrs, c_attrs) if both else 0.5,
                    coverage(q_ids, c_ids, q_weights) if q_weights else 0.0,
                    p_cat,
                    (len(conflicts(q_attrs, c_attrs)) if both else 0)
                    + (designator_conflict(q_models, c_ids) if q_models else 0)
                    + (accessory_conflict(q_models, c_ids, cand.text) if q_models else 0)
                    + (
                        generation_conflict(q_ids, c_ids)
                        if q_generation or cand.id in self._generations
                        else 0
                    ),
                    key_matches(q_attrs, c_attrs) if both else 0,
                    gap,
                )
                if (seen := scored.get(cand.id)) is None or seen[0] < score:
                    scored[cand.id] = (score, sim, dist, cand)
        # ties: the more similar, then the nearer, then the lower id
        ranked = sorted(scored.values(), key=rank_key)
        pairs: dict[bytes, Pairs] = {}  # the words in common, found when an explanation is read
        if q_units := query_units(intent.text, intent.lang):
            ranked, pairs = by_words(self._words, q_units, ranked, k)
        keys, tol = tuple(self.config.hard_keys), self.config.price_tolerance
        why = partial(explain, intent, hard_keys=keys, tolerance=tol)
        out = [  # each explanation is built when first read
            Match(cand, score, sim, dist, partial(why, cand, dist, shared_words=pairs.get(cand.id)))
            for score, sim, dist, cand in ranked[:k]
        ]
        self._search_s += time.perf_counter() - t0
        return out

    def _id_weights(self, ids: frozenset[str], own: frozenset[str] = _NO_IDS) -> dict[str, float]:
        """The weights of a query's identifiers in ``signals.coverage``: only those some indexed intent has
        count (a word of the buyer's own language that no ad contains cannot tell two ads apart, and diluted
        the share), each by its rarity, ``ln((N + 1) / df)`` over the N indexed intents ("santoku" or
        "global" in three ads outweighs the city name in three hundred). ``own``: the identifiers of the
        query's own intent when it is indexed too (an agent indexes its own), which must not count as an ad
        having them. On eval2's tune split (non-English top-1): plain share .844, only the identifiers some ad
        has .852, weighted by rarity .855."""
        n = len(self._ids) - (1 if own else 0)
        out: dict[str, float] = {}
        for t in ids:
            df = self._df.get(t, 0) - (t in own)
            if df > 0:
                out[t] = math.log((n + 1) / df)
        return out

    def get(self, intent_id: bytes) -> Intent | None:
        where = self._where.get(intent_id)
        return None if not where else self._parts[where[0][0]].intents[where[0][1]]

    def __len__(self) -> int:
        return len(self._where)

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write the index to ``directory`` atomically (``index_files.write_index``)."""
        intents: list[Intent] = []
        vec_parts: list[np.ndarray] = []
        seen: set[bytes] = set()  # an intent filed in two groups is saved once
        for part in self._parts.values():
            rows = []
            for r in part.keep_rows().tolist():
                intent = part.intents[r]
                if intent is not None and intent.id not in seen:
                    seen.add(intent.id)
                    rows.append(r)
                    intents.append(intent)
            if rows:
                vec_parts.append(part.all_vectors()[np.asarray(rows, dtype=np.int64)])
        vecs = np.concatenate(vec_parts) if vec_parts else np.zeros((0, self.dim), dtype=np.float32)
        write_index(directory, intents, vecs, self.embedder.model_id, FEATURES_VERSION, reading_digest())

    @classmethod
    def load(
        cls, directory: str | Path, embedder: Embedder | None = None, config: IndexConfig | None = None
    ) -> LocalIndex:
        """Load an index saved by ``save``. Match vectors made by another ``FEATURES_VERSION`` or from other
        reading data (``features.reading_digest``: bank phrases, word tables, brands) are recomputed.

        Raises:
            IndexFormatError: missing or corrupt files, unknown format.
            EmbedderMismatchError: saved with another model or dimension than ``embedder``.
        """
        index = cls(embedder, config)
        manifest = read_manifest(directory)  # the model is checked before the files are read
        check_compatible(str(manifest["model_id"]), int(manifest["dim"]), index.embedder)
        saved = read_index(directory, manifest)
        if saved.intents:  # vectors of another formula or reading (or none stated) are recomputed
            stale = saved.features != FEATURES_VERSION or saved.reading != reading_digest()
            index.add_many(saved.intents, None if stale else saved.vectors, saved.model_id)
        return index

    def statistics(self) -> dict[str, Any]:
        """Counters and per-layout sizes."""
        layouts: dict[str, int] = {}
        dead = 0
        for part in self._parts.values():
            layouts[part.layout] = layouts.get(part.layout, 0) + 1
            dead += part.dead
        searches = self._stats["searches"]
        return {
            "model_id": self.embedder.model_id,
            "dim": self._dim,
            "intents": len(self._where),
            "partitions": len(self._parts),
            "layouts": layouts,
            "dead_rows": dead,
            **self._stats,
            "mean_search_ms": round(1000 * self._search_s / searches, 3) if searches else 0.0,
        }
