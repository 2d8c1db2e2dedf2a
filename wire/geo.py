"""Location as H3 cells — never coordinates on the wire.

An intent carries one H3 cell at the resolution its owner allowed (never finer than
``MAX_INTENT_RES``) and a radius in km. DHT keys use the coarser ``KEY_RES``.
"""

from __future__ import annotations

import math

import h3

from wire.errors import LocalProtocolError

#: Finest resolution an intent may disclose (res 7: ~5 km² cells).
MAX_INTENT_RES = 7
#: Resolution of DHT key cells (res 4: ~1,770 km²).
KEY_RES = 4
EARTH_RADIUS_KM = 6371.0088
_HEX = frozenset("0123456789abcdef")


def is_cell(text: object) -> bool:
    """True if ``text`` is a valid H3 cell index in its one canonical spelling.

    h3 parses with ``int(text, 16)``, which also takes upper case, leading zeros, "0x", "_",
    spaces and non-ASCII digits; each of those would name the same cell under another DHT key,
    so only the form ``h3`` itself prints (lower-case hex, no padding) is a cell here.
    """
    if not isinstance(text, str) or not 0 < len(text) <= 16 or not _HEX.issuperset(text):
        return False  # also keeps "-1" (OverflowError inside h3) away from h3
    return bool(h3.is_valid_cell(text)) and h3.int_to_str(h3.str_to_int(text)) == text


def resolution(cell: str) -> int:
    return int(h3.get_resolution(cell))


def cell_at(lat: float, lon: float, res: int) -> str:
    """The H3 cell of a point at ``res``.

    Raises:
        LocalProtocolError: coordinates out of range or resolution out of [0, 15].
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or math.isnan(lat) or math.isnan(lon):
        raise LocalProtocolError(f"coordinates out of range: {lat}, {lon}")
    if not 0 <= res <= 15:
        raise LocalProtocolError(f"H3 resolution out of range: {res}")
    return str(h3.latlng_to_cell(lat, lon, res))


def coarsen(cell: str, res: int) -> str:
    """The parent of ``cell`` at ``res`` (the cell itself if it is already that coarse)."""
    r = resolution(cell)
    return cell if r <= res else str(h3.cell_to_parent(cell, res))


def center(cell: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return float(lat), float(lon)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def cell_distance_km(a: str, b: str) -> float:
    """Great-circle distance between two cells' centres."""
    return haversine_km(center(a), center(b))


def cell_radius_km(cell: str) -> float:
    """An upper bound on the distance from a cell's centre to any point in it (circumradius)."""
    lat, lon = center(cell)
    return max(haversine_km((lat, lon), (float(v[0]), float(v[1]))) for v in h3.cell_to_boundary(cell))
