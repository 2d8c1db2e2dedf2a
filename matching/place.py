"""Where rows are: the place order of a partition's rows, the box around a query, great-circle distances.

A partition keeps its rows in *place order* (``place_order``): by latitude band of ``BAND_DEG`` degrees, then
by longitude within the band. The rows around a query are then a few contiguous runs (``Bands.runs``), one
per band its box crosses or fewer (runs close together are merged), instead of rows spread over the whole
partition: the hard filters are evaluated on those runs only, and the FAISS scan of the survivors reads
neighbouring memory (measured in ``bench/matching.py``: a scan of the same 6,360 survivors of 50,000 rows took
half the time when they were clustered). Rows appended after the last ordering (the partition's *tail*) are
not in place order and are always scanned whole; the index rebuilds a partition in place order when its tail
grows (``partition.py``).
"""

from __future__ import annotations

import numpy as np

from wire.geo import EARTH_RADIUS_KM

#: Latitude band of the place order, degrees (28 km): a query with a 50 km radius crosses about five.
BAND_DEG = 0.25

#: Two runs at most this many rows apart are one run (the rows between get the box test): each run costs
#: the filters some twenty numpy calls, as much as filtering a few thousand more rows (``bench/matching.py``
#: at 100,000 intents, four runs 2,300 rows apart: p50 2.04 ms as they were, 1.97 ms merged).
RUN_MERGE_GAP = 4096

#: Row ranges ``(start, end, inside)``: ``inside`` if every row of the range is known to be in the box.
Runs = list[tuple[int, int, bool]]
LonRanges = list[tuple[float, float]]


def unit(lat: float, lon: float) -> tuple[float, float, float]:
    """The point at ``lat``, ``lon`` (degrees) as a unit vector (x, y, z)."""
    p, la = np.radians(lat), np.radians(lon)
    return float(np.cos(p) * np.cos(la)), float(np.cos(p) * np.sin(la)), float(np.sin(p))


def distances_km(x: np.ndarray, y: np.ndarray, z: np.ndarray, q: tuple[float, float, float]) -> np.ndarray:
    """Great-circle distances from the unit vector ``q`` to the unit vectors (x, y, z) (the haversine
    formula written with precomputed unit vectors: ``h = chord^2 / 4``, no trigonometry per row but the final
    arcsine)."""
    dx, dy, dz = x - q[0], y - q[1], z - q[2]
    chord = np.sqrt(dx * dx + dy * dy + dz * dz)
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2)))


def lon_reach(lat: float, reach: float) -> float | None:
    """Degrees of longitude within ``reach`` radians of a point at ``lat`` (None when a pole is within reach:
    every longitude then is). The exact bound of the great circle, ``asin(sin(reach) / cos(lat))``."""
    phi = np.radians(lat)
    if abs(phi) + reach >= np.pi / 2 - 1e-9:
        return None
    return float(np.degrees(np.arcsin(min(1.0, np.sin(reach) / np.cos(phi))))) + 1e-9


def lon_ranges(lon: float, dlon: float | None) -> LonRanges | None:
    """The longitudes within ``dlon`` degrees of ``lon`` as one or two closed ranges (two across the
    antimeridian); None: every longitude."""
    if dlon is None or dlon >= 180.0:
        return None
    lo, hi = lon - dlon, lon + dlon
    if lo < -180.0:
        return [(-180.0, hi), (lo + 360.0, 180.0)]
    if hi > 180.0:
        return [(-180.0, hi - 360.0), (lo, 180.0)]
    return [(lo, hi)]


def in_lon_ranges(lons: np.ndarray, ranges: LonRanges) -> np.ndarray:
    """Which of ``lons`` lie in one of ``ranges``."""
    lo, hi = ranges[0]
    ok = (lons >= lo) & (lons <= hi)
    for lo, hi in ranges[1:]:
        ok |= (lons >= lo) & (lons <= hi)
    return np.asarray(ok)


def band_of(lats: np.ndarray) -> np.ndarray:
    """The place-order band of each latitude."""
    return np.floor(np.asarray(lats, dtype=np.float64) / BAND_DEG).astype(np.int64)


def place_order(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """The permutation that puts rows in place order (band, then longitude; ties keep their order)."""
    return np.lexsort((lons, band_of(lats)))


class Bands:
    """The band boundaries of rows ``[0, n)`` in place order: ``runs`` finds the rows in a box."""

    def __init__(self, lats: np.ndarray, lons: np.ndarray) -> None:
        """``lats``, ``lons``: the rows' coordinates, already in place order."""
        band = band_of(lats)
        self.n = len(band)  # the rows [0, n) these bands describe
        starts = np.flatnonzero(np.diff(band, prepend=band[0] - 1)) if self.n else np.zeros(0, np.int64)
        self.bands = band[starts]
        self.bounds = np.append(starts, self.n).astype(np.int64)
        self.lons = np.array(lons, dtype=np.float64)

    def runs(self, lat_lo: float, lat_hi: float, ranges: LonRanges | None) -> Runs:
        """Row ranges holding every row whose latitude is in ``[lat_lo, lat_hi]`` and whose longitude is in
        one of ``ranges`` (None: any). The ranges of the bands at the box's edges may hold rows outside it
        too; those of the bands within it hold none (their ``inside`` is True). Ranges at most
        ``RUN_MERGE_GAP`` rows apart are merged into one that is not ``inside``."""
        first = int(np.searchsorted(self.bands, np.floor(lat_lo / BAND_DEG), "left"))
        last = int(np.searchsorted(self.bands, np.floor(lat_hi / BAND_DEG), "right"))
        out: Runs = []
        for b in range(first, last):
            s, e = int(self.bounds[b]), int(self.bounds[b + 1])
            band = int(self.bands[b])
            inside = bool(band * BAND_DEG >= lat_lo and (band + 1) * BAND_DEG <= lat_hi)
            if ranges is None:
                spans = [(s, e)]
            else:
                seg = self.lons[s:e]
                spans = [
                    (s + int(np.searchsorted(seg, lo, "left")), s + int(np.searchsorted(seg, hi, "right")))
                    for lo, hi in ranges
                ]
            for a, z in spans:
                if z <= a:
                    continue
                if out and a - out[-1][1] <= RUN_MERGE_GAP:
                    start, end, was_inside = out[-1]  # inside only if both are and no row lies between
                    out[-1] = (start, z, was_inside and inside and end == a)
                else:
                    out.append((a, z, inside))
        return out
