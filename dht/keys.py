"""Keys, ids and distance: the DHT key of an intent, key cells within a radius, XOR distance on ints.

* ``intent_key(category, cell)`` = sha256("metaspace/v2/intents/" + group + "/" + key_cell), where
  ``group`` is the taxonomy's top level of ``category`` ("vehicles" for "vehicles/tires") and the key cell
  is ``cell`` coarsened to the key resolution (default ``wire.geo.KEY_RES``). Keys use the top level so that
  two sides whose fine categories differ (a sofa filed under kids/strollers by one, home/furniture by the
  other) still share keys when their groups agree; the fine category ranks results locally (issue 11). A
  cell already coarser than the key resolution is used as it is (such an intent is found only by a query for
  that exact cell). An intent naming ``extra_groups`` (an author unsure of its category) is stored under the
  key of each of its ``groups`` as well: ``keys_for_record`` lists them, its own group's (the primary key,
  ``key_for_record``) first; a store or a reader accepts it under any of them.
* ``profile_key(agent)`` = sha256("metaspace/v1/profiles/" + agent public key) holds that agent's profile,
  and ``reputation_key(agent)`` = sha256("metaspace/v1/reputation/" + agent public key) the ratings *about*
  it, each signed by its rater: separate namespaces, never sharing a key with intents. ``key_for_record``
  names the primary key of any record, ``keys_for_record`` every key it belongs under (one but for an
  intent with ``extra_groups``).
* ``cells_within(where, radius_km)`` lists every key cell that any point within ``radius_km`` of ``where``
  falls in: a search near a cell border finds the intents across it.
* Node ids are sha256(pubkey); the core keeps them as Python ints and caches the int on the shared ``Contact``
  instance itself (``contact_id``), so 100k simulated nodes don't each hold a copy per routing-table entry.
* Subnet groups (the /24 of an IPv4 address, the /48 of an IPv6 one) bound how many contacts of one network a
  bucket holds. The group that counts is the one of the address a connection really came from
  (``ip_group(observed_ip)``, given by the driver); ``subnet_group(contact)`` falls back to the first
  address a contact *claims* when nothing was observed (persisted contacts, seeds).
* The id puzzle (S/Kademlia's static puzzle, opt-in): ``id_puzzle_bits(pubkey)`` counts the leading zero
  bits of sha256(node id). A network that requires b bits makes every usable identity cost ~2**b key
  generations, and grinding an id next to a chosen key 2**b times more than it costs today.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from functools import lru_cache

import h3

from wire.errors import LocalProtocolError
from wire.geo import EARTH_RADIUS_KM, KEY_RES, cell_at, cell_radius_km, center, coarsen, is_cell
from wire.intent import Intent
from wire.messages import AgentProfile, Contact, ReputationShare
from wire.records import RecordView
from wire.taxonomy import group_of

KEY_PREFIX = "metaspace/v2/intents/"
PROFILE_PREFIX = b"metaspace/v1/profiles/"
REPUTATION_PREFIX = b"metaspace/v1/reputation/"
ID_BITS = 256

ID_ATTR = "_dht_id"
NET_ATTR = "_dht_net"
#: Subnet group of a contact without any parseable IP address (all such contacts share one group).
NO_IP_GROUP = b"?"
#: Subnet group of a loopback contact (exempt from the rule only when ``allow_loopback_subnet``: tests).
LOOPBACK_GROUP = b"lo"


def intent_key(category: str, cell: str, key_res: int = KEY_RES) -> bytes:
    """The DHT key under which intents of ``category`` located in ``cell`` are stored.

    Args:
        category: taxonomy code ("vehicles/tires") or its group ("vehicles"): only the group is hashed.
        cell: H3 cell of the intent (any resolution).
        key_res: resolution of key cells.
    Returns:
        32-byte sha256 digest.
    Raises:
        LocalProtocolError: ``cell`` is not an H3 cell.
    """
    if not is_cell(cell):
        raise LocalProtocolError(f"not an H3 cell: {cell!r}")
    return hashlib.sha256((KEY_PREFIX + group_of(category) + "/" + coarsen(cell, key_res)).encode()).digest()


def profile_key(agent: bytes) -> bytes:
    """The DHT key of ``agent``'s profile record (``agent``: its 32-byte public key)."""
    return hashlib.sha256(PROFILE_PREFIX + agent).digest()


def reputation_key(agent: bytes) -> bytes:
    """The DHT key of the ratings about ``agent`` (``agent``: its 32-byte public key)."""
    return hashlib.sha256(REPUTATION_PREFIX + agent).digest()


#: ``intent_key`` behind a bounded memo for ``key(s)_for_record``: every node that stores or reads a record
#: checks its key, and the same few (category, cell) pairs recur (an error is raised again, never cached).
_intent_key_memo = lru_cache(maxsize=4096)(intent_key)


def key_for_record(view: RecordView, key_res: int = KEY_RES) -> bytes:
    """The primary key of a verified record: the one key it belongs under, or for an intent with
    ``extra_groups`` the key of its category's own group (``keys_for_record`` lists them all).

    Raises:
        LocalProtocolError: an intent whose cell is not an H3 cell.
    """
    msg = view.message
    if isinstance(msg, Intent):
        return _intent_key_memo(msg.category, msg.cell, key_res)
    if isinstance(msg, AgentProfile):
        return profile_key(view.author)
    if isinstance(msg, ReputationShare):
        return reputation_key(msg.subject)
    raise LocalProtocolError(f"not a DHT record: {type(msg).__name__}")


def keys_for_record(view: RecordView, key_res: int = KEY_RES) -> tuple[bytes, ...]:
    """Every key a verified record belongs under, the primary key (``key_for_record``) first: for an intent,
    the key of each of its ``groups`` (its category's group, then its ``extra_groups``) in its cell; for
    any other record, its one key. A record PUT under a key not listed here is invalid.

    Raises:
        LocalProtocolError: an intent whose cell is not an H3 cell; a record of no DHT type.
    """
    msg = view.message
    if isinstance(msg, Intent) and msg.extra_groups:
        return intent_keys(msg, key_res)
    return (key_for_record(view, key_res),)


def intent_keys(intent: Intent, key_res: int = KEY_RES) -> tuple[bytes, ...]:
    """The keys of ``intent``: its category's group's, then each of its ``extra_groups``' (in its cell).

    Raises:
        LocalProtocolError: the intent's cell is not an H3 cell.
    """
    return tuple(_intent_key_memo(group, intent.cell, key_res) for group in intent.groups)


def id_int(data: bytes) -> int:
    """A 32-byte id or key as an int (big-endian)."""
    return int.from_bytes(data, "big")


def contact_id(contact: Contact) -> int:
    """The DHT id of a contact as an int, computed once and cached on the (shared) Contact instance."""
    try:
        return contact._dht_id  # ID_ATTR
    except AttributeError:
        value = int.from_bytes(hashlib.sha256(contact.pubkey).digest(), "big")
        object.__setattr__(contact, ID_ATTR, value)  # a cache: not a field, not part of equality
        return value


def bucket_of(distance: int) -> int:
    """Bucket index of an XOR distance: 255 for the farthest half of the id space, 0 for distance 1.

    Raises:
        ValueError: distance 0 (the node itself has no bucket).
    """
    if distance <= 0:
        raise ValueError("distance 0 has no bucket")
    return distance.bit_length() - 1


def subnet_group(contact: Contact) -> bytes:
    """The subnet a contact counts against: /24 of its first IPv4 address or /48 of its first IPv6 one.

    Loopback addresses give ``LOOPBACK_GROUP``; contacts without a parseable ``/ip4/`` or ``/ip6/`` multiaddr
    give ``NO_IP_GROUP``. Cached on the Contact instance.
    """
    try:
        return contact._dht_net  # NET_ATTR
    except AttributeError:
        value = _parse_group(contact.addrs)
        object.__setattr__(contact, NET_ATTR, value)
        return value


def ip_group(ip: str) -> bytes:
    """The subnet group of an observed remote address: ``"4"`` + its /24, ``"6"`` + its /48,
    ``LOOPBACK_GROUP`` for loopback, ``NO_IP_GROUP`` for something that is not an IP address (an IPv4-mapped
    IPv6 address counts as the IPv4 one)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return NO_IP_GROUP
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return LOOPBACK_GROUP
    return b"4" + addr.packed[:3] if addr.version == 4 else b"6" + addr.packed[:6]


def loopback_only(addrs: list[str]) -> bool:
    """Whether every address is a loopback one (and there is one): a node on loopback only (tests, the demo)
    talks only to processes of its own machine."""
    return bool(addrs) and all(_parse_group([a]) == LOOPBACK_GROUP for a in addrs)


def id_puzzle_bits(pubkey: bytes) -> int:
    """Leading zero bits of sha256(sha256(pubkey)): the work an identity carries (S/Kademlia's puzzle)."""
    digest = hashlib.sha256(hashlib.sha256(pubkey).digest()).digest()
    value = int.from_bytes(digest, "big")
    return ID_BITS - value.bit_length()


def with_id_work(contacts: list[Contact], bits: int) -> list[Contact]:
    """The contacts whose identity carries ``bits`` of puzzle work (all of them when ``bits`` is 0). A lookup
    follows only these from a reply, so each fake contact a liar lists costs it what an identity costs."""
    if bits <= 0:
        return contacts
    return [c for c in contacts if id_puzzle_bits(c.pubkey) >= bits]


def _parse_group(addrs: list[str]) -> bytes:
    for addr in addrs:
        parts = addr.split("/")
        if len(parts) < 3 or parts[0] != "" or parts[1] not in ("ip4", "ip6"):
            continue
        try:
            ip = ipaddress.ip_address(parts[2])
        except ValueError:
            continue
        if ip.version != (4 if parts[1] == "ip4" else 6):
            continue
        if ip.is_loopback:
            return LOOPBACK_GROUP
        return b"4" + ip.packed[:3] if ip.version == 4 else b"6" + ip.packed[:6]
    return NO_IP_GROUP


# ------------------------------------------------------------------------------------------ geo cells


def cells_within(where: str | tuple[float, float], radius_km: float, key_res: int = KEY_RES) -> list[str]:
    """Every key cell that some point within ``radius_km`` of ``where`` lies in.

    When ``where`` is a cell, the area of the cell itself is covered too (its circumradius is added).
    The grid disk around the centre's key cell is grown until its outermost ring holds no kept cell; the cells
    meeting a disc form a connected set, so no cell beyond that ring can meet it either.

    Args:
        where: an H3 cell (any resolution) or ``(lat, lon)`` in degrees.
        radius_km: search radius (>= 0).
        key_res: resolution of key cells.
    Returns:
        Key cells, the one containing the centre first, then sorted.
    Raises:
        LocalProtocolError: bad cell, coordinates or radius.
    """
    if radius_km < 0 or math.isnan(radius_km) or radius_km > 5000:
        raise LocalProtocolError(f"radius out of range: {radius_km}")
    if isinstance(where, str):
        if not is_cell(where):
            raise LocalProtocolError(f"not an H3 cell: {where!r}")
        lat, lon = center(where)
        radius_km = radius_km + cell_radius_km(where)
    else:
        lat, lon = where
    origin = cell_at(lat, lon, key_res)
    # adjacent key-cell centres are about sqrt(3) edges apart; start there and grow while the edge is reached
    spacing = math.sqrt(3) * float(h3.average_hexagon_edge_length(key_res, "km"))
    k = max(1, math.ceil(radius_km / spacing) + 1)
    rad = radius_km / EARTH_RADIUS_KM
    limit = math.tan(min(rad, 1.5))  # gnomonic distance of the radius
    frame = _Gnomonic(lat, lon)
    kept: dict[str, bool] = {origin: True}
    while True:
        disk = h3.grid_disk(origin, k)
        for cell in disk:
            if cell not in kept:
                kept[cell] = frame.polygon_within(h3.cell_to_boundary(cell), limit)
        outermost = set(disk).difference(h3.grid_disk(origin, k - 1))
        if not any(kept[c] for c in outermost):
            break
        k *= 2
    rest = sorted(c for c, hit in kept.items() if hit and c != origin)
    return [origin, *rest]


class _Gnomonic:
    """Gnomonic projection centred on a point: great circles are straight lines and planar distance from
    the origin grows monotonically with the angular distance (r = tan(theta)), so the nearest point of a
    great-circle edge is the planar nearest point of a segment."""

    __slots__ = ("cos0", "lat0", "lon0", "sin0")

    def __init__(self, lat: float, lon: float) -> None:
        self.lat0 = math.radians(lat)
        self.lon0 = math.radians(lon)
        self.sin0 = math.sin(self.lat0)
        self.cos0 = math.cos(self.lat0)

    def project(self, lat: float, lon: float) -> tuple[float, float] | None:
        phi, dl = math.radians(lat), math.radians(lon) - self.lon0
        cphi = math.cos(phi)
        cos_c = self.sin0 * math.sin(phi) + self.cos0 * cphi * math.cos(dl)
        if cos_c <= 1e-9:
            return None  # the far hemisphere: no point there is within range
        x = cphi * math.sin(dl) / cos_c
        y = (self.cos0 * math.sin(phi) - self.sin0 * cphi * math.cos(dl)) / cos_c
        return x, y

    def polygon_within(self, boundary: tuple[tuple[float, float], ...], limit: float) -> bool:
        """True if some point of the polygon's boundary (or interior) is within gnomonic distance
        ``limit``."""
        pts = [self.project(float(a), float(b)) for a, b in boundary]
        if any(p is None for p in pts):
            return False
        xy = [p for p in pts if p is not None]
        n = len(xy)
        inside = False
        lim2 = limit * limit * (1.0 + 1e-9)
        for i in range(n):
            (x1, y1), (x2, y2) = xy[i], xy[(i + 1) % n]
            if _seg_dist2(x1, y1, x2, y2) <= lim2:
                return True
            if (y1 > 0) != (y2 > 0) and (x2 - x1) * (0 - y1) / (y2 - y1) + x1 > 0:
                inside = not inside
        return inside


def _seg_dist2(x1: float, y1: float, x2: float, y2: float) -> float:
    """Squared distance from the origin to segment (x1, y1)-(x2, y2)."""
    dx, dy = x2 - x1, y2 - y1
    den = dx * dx + dy * dy
    t = 0.0 if den == 0 else max(0.0, min(1.0, -(x1 * dx + y1 * dy) / den))
    px, py = x1 + t * dx, y1 + t * dy
    return px * px + py * py
