"""Place order: a partition's rows sorted by latitude band and longitude, the runs around a query, the tail,
and the reordering — an index in place order answers exactly what one in arrival order answers."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from matching import partition, place
from matching.embedder import l2_normalise
from matching.index import LocalIndex
from matching.partition import IndexConfig
from matching.place import BAND_DEG, Bands, in_lon_ranges, lon_ranges, place_order
from tests.test_matching_index import NOW, HashEmbedder, mk
from wire.geo import cell_at, cell_radius_km, center, haversine_km
from wire.intent import Action, Price

_points = st.lists(st.tuples(st.floats(-89.9, 89.9), st.floats(-180.0, 180.0)), min_size=1, max_size=60)


def _in_box(lat: float, lon: float, lo: float, hi: float, ranges: list[tuple[float, float]] | None) -> bool:
    return lo <= lat <= hi and (ranges is None or bool(in_lon_ranges(np.array([lon]), ranges)[0]))


@settings(max_examples=200, deadline=None)
@given(_points, st.floats(-89.0, 89.0), st.floats(0.0, 3.0), st.floats(-180.0, 180.0), st.floats(0.0, 200.0))
@example([(0.1, 179.5), (0.2, -179.5), (0.0, 0.0)], 0.0, 0.5, 179.9, 1.0)  # across the antimeridian
@example([(10.0, 5.0), (10.25, 5.0), (10.5, 5.0)], 10.25, 0.25, 5.0, 0.1)  # rows on band edges
def test_runs_hold_every_row_in_the_box(
    points: list[tuple[float, float]], lat: float, half: float, lon: float, dlon: float
) -> None:
    lats = np.array([p[0] for p in points])
    lons = np.array([p[1] for p in points])
    order = place_order(lats, lons)
    lats, lons = lats[order], lons[order]
    bands = np.floor(lats / BAND_DEG)
    assert all(np.diff(bands) >= 0)
    assert all(np.diff(lons)[np.diff(bands) == 0] >= 0)
    ranges = lon_ranges(lon, dlon)
    want = {r for r in range(len(lats)) if _in_box(lats[r], lons[r], lat - half, lat + half, ranges)}
    for gap in (0, 3, place.RUN_MERGE_GAP):  # runs apart, some merged, all merged (at most 60 rows here)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(place, "RUN_MERGE_GAP", gap)
            runs = Bands(lats, lons).runs(lat - half, lat + half, ranges)
        covered: set[int] = set()
        for s, e, inside in runs:
            assert 0 <= s < e <= len(lats)
            assert not covered & set(range(s, e))  # runs do not overlap
            covered |= set(range(s, e))
            if inside:
                assert all(_in_box(lats[r], lons[r], lat - half, lat + half, ranges) for r in range(s, e))
        assert want <= covered
        assert all(b[0] - a[1] > gap for a, b in pairwise(runs))


def test_runs_close_together_are_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four bands, each with rows east and west of a narrow box: one run per band, or one run for all when
    the rows between are few (then not ``inside``: they are outside the box)."""
    lats = np.repeat(np.arange(4) * BAND_DEG + BAND_DEG / 2, 30)
    lons = np.tile(np.linspace(-1.0, 1.0, 30), 4)
    bands = Bands(lats, lons)
    box = (0.0, 4 * BAND_DEG, [(-0.1, 0.1)])
    monkeypatch.setattr(place, "RUN_MERGE_GAP", 0)
    apart = bands.runs(*box)
    assert len(apart) == 4 and all(inside for _, _, inside in apart)
    monkeypatch.setattr(place, "RUN_MERGE_GAP", 30)
    assert bands.runs(*box) == [(apart[0][0], apart[-1][1], False)]


def _world(n: int, rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """Sellers around Madrid, around the antimeridian and near the pole, some priced, some sized."""
    centres = [(40.4, -3.7), (10.0, 179.8), (10.0, -179.8), (88.5, 30.0)]
    out = []
    for i in range(n):
        c = centres[i % len(centres)]
        where = (c[0] + rng.uniform(-0.8, 0.8), ((c[1] + rng.uniform(-1.5, 1.5) + 180.0) % 360.0) - 180.0)
        out.append(
            mk(
                i + 1,
                where=(min(89.9, where[0]), where[1]),
                radius=int(rng.integers(5, 200)),
                attrs={"size": f"2{i % 3}5/65R17"} if i % 2 else {},
                price=Price(int(rng.integers(1000, 9000)), "USD") if i % 3 else None,
                ttl=3600 if i % 5 else 10,
            )
        )
    vecs = l2_normalise(rng.standard_normal((n, 64)).astype(np.float32))
    return out, vecs


def _same_answers(a: LocalIndex, b: LocalIndex, rng: np.random.Generator) -> None:
    for j, where in enumerate([(40.4, -3.7), (40.9, -3.0), (10.0, 179.9), (10.1, -179.95), (89.0, 100.0)]):
        for radius in (20, 80, 300):
            q = mk(
                10_000 + j,
                action=Action.BUY,
                where=where,
                radius=radius,
                attrs={"size": "215/65R17"},
                price=Price(6000, "USD"),
            )
            v = l2_normalise(rng.standard_normal((1, 64)).astype(np.float32))[0]
            probs = {"vehicles/tires": 1.0}
            answers = [
                [(m.intent.id, round(m.score, 6)) for m in found]
                for found in (
                    a.search(q, 30, NOW + 100, v, category_probs=probs),
                    b.search(q, 30, NOW + 100, v, category_probs=probs),
                )
            ]
            assert answers[0] == answers[1], (where, radius)


def test_place_order_answers_what_arrival_order_answers() -> None:
    rng = np.random.default_rng(3)
    intents, vecs = _world(400, rng)
    placed = LocalIndex(HashEmbedder(), IndexConfig())
    arrival = LocalIndex(HashEmbedder(), IndexConfig(place_ordered=False))
    for index in (placed, arrival):
        index.add_many(intents[:300], vecs[:300], "hash-test")  # in place order
        for i in range(300, 400):  # the tail
            index.add(intents[i], vecs[i], "hash-test")
        for i in range(0, 400, 9):
            index.remove(intents[i].id)
    part = placed._parts[("SELL", "vehicles")]
    assert part.ordered == 300 and part.size == 400
    assert arrival._parts[("SELL", "vehicles")].ordered == 0
    _same_answers(placed, arrival, np.random.default_rng(5))


def test_a_long_tail_is_put_in_order_and_nothing_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partition, "REORDER_MIN_TAIL", 16)
    rng = np.random.default_rng(4)
    intents, vecs = _world(200, rng)
    placed = LocalIndex(HashEmbedder(), IndexConfig())
    arrival = LocalIndex(HashEmbedder(), IndexConfig(place_ordered=False))
    for index in (placed, arrival):
        for i in range(200):  # one at a time: every row arrives in a tail
            index.add(intents[i], vecs[i], "hash-test")
    stats = placed.statistics()
    assert stats["reorders"] >= 3 and stats["intents"] == 200
    assert arrival.statistics()["reorders"] == 0
    part = placed._parts[("SELL", "vehicles")]
    tail = part.size - part.ordered
    assert tail < 16 or tail <= partition.REORDER_TAIL_FRACTION * part.size
    _same_answers(placed, arrival, np.random.default_rng(6))
    # the rows were renumbered: remove, replace and expire still find them
    for index in (placed, arrival):
        index.remove(intents[7].id)
        newer = mk(12, where=(40.4, -3.7), seq=1, price=Price(100, "USD"))
        assert index.add(newer, vecs[11], "hash-test")
        assert index.get(intents[11].id) == newer
        assert index.expire(NOW + 11) == sum(1 for i, it in enumerate(intents) if i % 5 == 0 and i != 7)
    _same_answers(placed, arrival, np.random.default_rng(7))
    assert len(placed) == len(arrival)


def test_reordering_is_bounded_by_the_tail_fraction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows added one at a time are rebuilt a bounded number of times: each reordering waits for a tail of a
    quarter of the partition, so the rows copied in all the reorderings stay within a few times the rows."""
    monkeypatch.setattr(partition, "REORDER_MIN_TAIL", 16)
    index = LocalIndex(HashEmbedder(), IndexConfig())
    rng = np.random.default_rng(8)
    vecs = l2_normalise(rng.standard_normal((2000, 64)).astype(np.float32))
    copied = 0
    part_size_before = 0
    for i in range(2000):
        before = index.statistics()["reorders"]
        index.add(mk(i + 1, where=(40.0 + (i % 50) / 50, -3.0)), vecs[i], "hash-test")
        if index.statistics()["reorders"] > before:
            copied += part_size_before + 1
        part_size_before = index._parts[("SELL", "vehicles")].size
    assert index.statistics()["reorders"] <= 25
    assert copied <= 6 * 2000


def test_equal_scores_keep_one_order_whatever_the_layout() -> None:
    """Scores are capped at 1.0, so strong matches tie: the order among them is similarity, distance, id —
    never where the rows happen to be stored."""
    emb = HashEmbedder()
    v = emb.embed(["tires"])[0]
    ads = [mk(i + 1, where=(40.9 - 0.1 * i, -3.7), price=Price(5000, "USD")) for i in range(8)]  # north first
    q = mk(99, action=Action.BUY, where=(40.5, -3.7), radius=100)
    got = []
    for config in (IndexConfig(place_ordered=False), IndexConfig()):
        index = LocalIndex(HashEmbedder(), config)
        index.add_many(ads, np.tile(v, (len(ads), 1)), "hash-test")
        got.append([m.intent.id for m in index.search(q, 3, None, v, category_probs={"vehicles/tires": 1.0})])
    assert got[0] == got[1] == [ads[4].id, ads[3].id, ads[5].id]  # the nearest three, nearest first


def test_one_intent_twice_in_a_batch_is_stored_once() -> None:
    index = LocalIndex(HashEmbedder(), IndexConfig())
    old, new, older = mk(1, seq=1, text="tires old"), mk(1, seq=2, text="tires new"), mk(1, seq=0)
    vecs = l2_normalise(np.random.default_rng(9).standard_normal((4, 64)).astype(np.float32))
    assert index.add_many([old, new, older, mk(2)], vecs, "hash-test") == [False, True, False, True]
    assert len(index) == 2 and index.get(old.id) == new
    index._rebuild(("SELL", "vehicles"), "compactions")  # a rebuild writes back every live row: one each
    assert len(index) == 2 and index.get(old.id) == new and index.statistics()["stale"] == 2


_sellers = st.lists(
    st.tuples(
        st.floats(-1.5, 1.5),  # degrees of latitude from the query
        st.floats(-1.5, 1.5),  # of longitude
        st.integers(1, 300),  # search radius, km
        st.integers(3, 7),  # cell resolution
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_sellers, st.floats(-70.0, 70.0), st.floats(-179.0, 179.0), st.integers(1, 300), st.integers(3, 7))
@example([(0.3, 0.0, 50, 7), (0.5, 0.0, 50, 7), (0.9, 0.0, 50, 7)], 40.0, -3.7, 50, 7)  # one radius
def test_the_distance_filter_is_the_great_circle_rule(
    sellers: list[tuple[float, float, int, int]], lat: float, lon: float, radius: int, res: int
) -> None:
    """A row passes when the great-circle distance between the two cells' centres, less both cells' radii,
    is within both search radii: the caps of ``_mask`` (the rows certainly out, and those certainly in, whose
    exact test is skipped) decide exactly what the exact test would."""
    intents = [
        replace(mk(i + 1, radius=r), cell=cell_at(lat + dlat, ((lon + dlon + 180) % 360) - 180, cres))
        for i, (dlat, dlon, r, cres) in enumerate(sellers)
    ]
    q = replace(mk(999, action=Action.BUY, radius=radius), cell=cell_at(lat, lon, res))
    index = LocalIndex(HashEmbedder(), IndexConfig())
    index.add_many(intents, l2_normalise(np.ones((len(intents), 64), dtype=np.float32)), "hash-test")
    part = index._parts[("SELL", "vehicles")]
    got = {it.id: ok for it, ok in zip(part.intents, index._mask(part, q, None).tolist(), strict=True) if it}
    qc = center(q.cell)
    for it in intents:
        margin = haversine_km(qc, center(it.cell)) - cell_radius_km(q.cell) - cell_radius_km(it.cell)
        limit = min(radius, it.radius_km)
        if abs(margin - limit) > 1e-6:  # not on the edge itself, where two formulas may round apart
            assert got[it.id] == (margin <= limit), (it.cell, it.radius_km, margin, limit)


def test_rows_surely_within_reach_skip_the_exact_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    """With one search radius and one cell size, only rows near the edge of the reach get the exact test."""
    measured: list[int] = []
    exact = LocalIndex._distances

    def counted(part: partition.Partition, rows: np.ndarray, q: tuple[float, float, float]) -> np.ndarray:
        measured.append(len(rows))
        return exact(part, rows, q)

    monkeypatch.setattr(LocalIndex, "_distances", staticmethod(counted))
    ads = [mk(i + 1, where=(40.0 + 0.01 * i, -3.7)) for i in range(100)]  # 0 to 110 km north of the query
    index = LocalIndex(HashEmbedder(), IndexConfig())
    index.add_many(ads, l2_normalise(np.ones((len(ads), 64), dtype=np.float32)), "hash-test")
    part = index._parts[("SELL", "vehicles")]
    mask = index._mask(part, mk(999, action=Action.BUY, where=(40.0, -3.7)), None)
    assert 40 < int(mask.sum()) < 60  # 50 km and the two cells' radii
    assert sum(measured) < 5  # none at all when no row is near the edge
