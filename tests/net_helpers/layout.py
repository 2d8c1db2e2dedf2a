"""The intents of the network tests: clusters of intents straddling an H3 key-cell border.

Each cluster sits on the border between two res-4 key cells: a searcher stands a few km west of the
border, its intents on both sides, so a search from one key cell must find the intents in the other one.
Clusters are far apart (> 500 km) and clusters ``c`` and ``c + 5`` share a category, so a search with the
right category but the wrong place finds nothing of the other cluster (radius filtering); one intent of each
cluster is filed under a second category, so a search at the same place under the cluster's category must
not return it (category filtering).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dht.keys import cells_within, intent_key
from wire.geo import KEY_RES, MAX_INTENT_RES, cell_at, coarsen, haversine_km

#: Far-apart places (New York, Los Angeles, Chicago, Houston, Seattle, London, Madrid, Mexico City,
#: Sao Paulo, Tokyo).
BASES = [
    (40.0, -74.0), (34.0, -118.2), (41.9, -87.6), (29.8, -95.4), (47.6, -122.3),
    (51.5, -0.1), (40.4, -3.7), (19.4, -99.1), (-23.5, -46.6), (35.7, 139.7),
]  # fmt: skip
CATEGORIES = ["vehicles/tires", "electronics/phones", "home/furniture", "sports/camping", "kids/toys"]
SEARCH_RADIUS_KM = 30
INTENTS_PER_CLUSTER = 5
#: The slot of the intent (across the border) filed under the cluster's *other* category; the rest are
#: filed under the cluster's category. All are SELL intents: with no BUY intent anywhere no agent finds a
#: match, so the test measures the DHT, not the matcher and negotiations.
OTHER_SLOT = 1
SEARCHER_KM = 3.0


def other_category(category: str) -> str:
    """The second category of a cluster whose own category is ``category``."""
    return CATEGORIES[(CATEGORIES.index(category) + 1) % len(CATEGORIES)]


def key_cell(lat: float, lon: float) -> str:
    """The key cell an intent published at (lat, lon) lands in (res-7 cell coarsened to the key res)."""
    return coarsen(cell_at(lat, lon, MAX_INTENT_RES), KEY_RES)


def _east(lat: float, lon: float, km: float) -> tuple[float, float]:
    return lat, lon + km / (111.32 * math.cos(math.radians(lat)))


def border_east_of(lat: float, lon: float) -> tuple[float, float]:
    """A point within ~0.2 km west of the first key-cell border east of (lat, lon)."""
    start = key_cell(lat, lon)
    here = (lat, lon)
    for _ in range(2000):
        nxt = _east(*here, 0.2)
        if key_cell(*nxt) != start:
            return here
        here = nxt
    raise AssertionError("no key-cell border within 400 km")


def _offsets(blat: float, blon: float, slat: float, slon: float) -> list[float]:
    """East offsets (km from the border) of a cluster's 5 intents: 3 in other key cells than the
    searcher's (H3 borders are jagged, so they are sampled), 2 in the searcher's own key cell."""
    here = key_cell(slat, slon)
    samples = [x / 2 for x in range(-20, 41)]  # -10 .. +20 km
    across = [km for km in samples if key_cell(*_east(blat, blon, km)) != here]
    same = [km for km in samples if key_cell(*_east(blat, blon, km)) == here and km != -SEARCHER_KM]
    assert len(across) >= 3 and len(same) >= 2, "no usable key-cell border"
    return [across[0], across[len(across) // 2], across[-1], same[0], same[-1]]


@dataclass(frozen=True)
class Planned:
    """One intent to publish: index (0..49), cluster, author peer index, where, what."""

    index: int
    cluster: int
    author: int
    lat: float
    lon: float
    category: str
    action: str

    @property
    def key(self) -> bytes:
        return intent_key(self.category, cell_at(self.lat, self.lon, MAX_INTENT_RES))


@dataclass(frozen=True)
class Cluster:
    index: int
    category: str
    searcher_lat: float
    searcher_lon: float
    intents: tuple[Planned, ...]


def plan(n_peers: int) -> list[Cluster]:
    """10 clusters x 5 intents; intent i is authored by peer ``i % n_peers``.

    Checks the geometry it promises (raises AssertionError otherwise): in each cluster at least one intent
    lies in another key cell than the searcher, within the search radius, and that key cell is among
    ``cells_within`` the searcher's cell.
    """
    clusters = []
    for c, (lat, lon) in enumerate(BASES):
        blat, blon = border_east_of(lat, lon)
        slat, slon = _east(blat, blon, -SEARCHER_KM)
        category = CATEGORIES[c % len(CATEGORIES)]
        planned = []
        for j, km in enumerate(_offsets(blat, blon, slat, slon)):
            i = c * INTENTS_PER_CLUSTER + j
            ilat, ilon = _east(blat, blon, km)
            cat = other_category(category) if j == OTHER_SLOT else category
            planned.append(Planned(i, c, i % n_peers, ilat, ilon, cat, "SELL"))
        searcher_cell = cell_at(slat, slon, MAX_INTENT_RES)
        reachable = set(cells_within(searcher_cell, SEARCH_RADIUS_KM))
        across = 0
        for p in planned:
            assert haversine_km((slat, slon), (p.lat, p.lon)) < SEARCH_RADIUS_KM
            assert key_cell(p.lat, p.lon) in reachable
            if key_cell(p.lat, p.lon) != key_cell(slat, slon):
                across += 1
        assert across >= 2, f"cluster {c}: no intent across the key-cell border"
        clusters.append(Cluster(c, category, slat, slon, tuple(planned)))
    for a in clusters:
        for b in clusters:
            if a.index < b.index:
                assert haversine_km((a.searcher_lat, a.searcher_lon), (b.searcher_lat, b.searcher_lon)) > 500
    return clusters


def searcher_for(cluster: Cluster, candidates: list[int]) -> int:
    """A peer (from ``candidates``) that authored none of the cluster's intents."""
    authors = {p.author for p in cluster.intents}
    for peer in candidates:
        if peer not in authors:
            return peer
    raise AssertionError(f"every candidate authored an intent of cluster {cluster.index}")
