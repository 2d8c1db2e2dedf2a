"""Keys, ids and key cells within a radius."""

from __future__ import annotations

import hashlib
import math
import random

import h3
import pytest

from dht import bucket_of, cells_within, intent_key
from dht.keys import (
    LOOPBACK_GROUP,
    NO_IP_GROUP,
    id_puzzle_bits,
    ip_group,
    key_for_record,
    keys_for_record,
    profile_key,
    reputation_key,
    subnet_group,
    with_id_work,
)
from tests.test_dht_helpers import identity, multi_record, record
from tests.test_dht_trust_records import profile_record, rating_record
from wire.errors import LocalProtocolError
from wire.geo import EARTH_RADIUS_KM, cell_at, haversine_km
from wire.messages import Contact
from wire.records import open_record


def test_intent_key_is_sha256_of_versioned_prefix_group_and_key_cell():
    cell7 = cell_at(52.52, 13.40, 7)
    key_cell = h3.cell_to_parent(cell7, 4)
    expected = hashlib.sha256(f"metaspace/v2/intents/vehicles/{key_cell}".encode()).digest()
    assert intent_key("vehicles/tires", cell7) == expected
    assert intent_key("vehicles/tires", key_cell) == expected  # already at key resolution
    assert intent_key("vehicles/bicycles", cell7) == expected  # same group, same key (issue 11)
    assert intent_key("vehicles", cell7) == expected
    assert intent_key("electronics/phones", cell7) != expected
    assert intent_key("vehicles/tires", cell7, key_res=5) != expected
    with pytest.raises(LocalProtocolError):
        intent_key("vehicles/tires", "not-a-cell")


def test_keys_for_record_lists_the_key_of_each_group_primary_first():
    author = identity(1)
    _, view = open_record(record(author))  # vehicles/tires, no extra groups: its one key
    cell = view.message.cell  # type: ignore[union-attr]
    assert keys_for_record(view) == (key_for_record(view),) == (intent_key("vehicles", cell),)
    _, view = open_record(multi_record(author, 2, extra_groups=("home", "food")))
    own, home, food = (intent_key(g, cell) for g in ("vehicles", "home", "food"))
    assert keys_for_record(view) == (own, home, food)  # the category's group first, then extra_groups
    assert key_for_record(view) == own  # the primary key is the one it always had
    assert keys_for_record(view, key_res=3) == tuple(
        intent_key(g, cell, 3) for g in ("vehicles", "home", "food")
    )
    # profiles and ratings: their one key
    _, view = open_record(profile_record(author))
    assert keys_for_record(view) == (profile_key(author.pubkey),)
    _, view = open_record(rating_record(author, identity(2)))
    assert keys_for_record(view) == (reputation_key(identity(2).pubkey),)


def test_bucket_of():
    assert bucket_of(1) == 0
    assert bucket_of(2) == bucket_of(3) == 1
    assert bucket_of(2**255) == 255
    assert bucket_of(2**256 - 1) == 255
    with pytest.raises(ValueError):
        bucket_of(0)


def _destination(lat: float, lon: float, dist_km: float, bearing: float) -> tuple[float, float]:
    d = dist_km / EARTH_RADIUS_KM
    la, lo = math.radians(lat), math.radians(lon)
    la2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(bearing))
    lo2 = lo + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(la), math.cos(d) - math.sin(la) * math.sin(la2)
    )
    return math.degrees(la2), (math.degrees(lo2) + 540) % 360 - 180


def _point_near_border(cell: str, km_inside: float) -> tuple[tuple[float, float], str]:
    """A point ``km_inside`` km inside ``cell`` from the middle of an edge, and the cell across that edge."""
    boundary = h3.cell_to_boundary(cell)
    a, b = boundary[0], boundary[1]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    clat, clon = h3.cell_to_latlng(cell)
    # walk from the edge midpoint towards the centre until km_inside km from it
    frac = km_inside / haversine_km(mid, (clat, clon))
    point = (mid[0] + (clat - mid[0]) * frac, mid[1] + (clon - mid[1]) * frac)
    across = (mid[0] - (clat - mid[0]) * frac, mid[1] - (clon - mid[1]) * frac)
    return point, cell_at(across[0], across[1], 4)


def test_search_near_a_key_cell_border_finds_the_cell_across():
    cell = cell_at(52.52, 13.40, 4)
    point, other = _point_near_border(cell, 1.0)
    assert cell_at(point[0], point[1], 4) == cell and other != cell
    cells = cells_within(point, 10.0)
    assert cells[0] == cell
    assert other in cells
    # 1 km from the border with a 0.5 km radius: only its own cell
    assert cells_within(point, 0.5) == [cell]


def test_cells_within_never_misses_a_cell_sampled_brute_force():
    rng = random.Random(7)
    for _ in range(60):
        lat, lon = rng.uniform(-75, 75), rng.uniform(-180, 180)
        radius = rng.choice([0.3, 3.0, 12.0, 40.0, 120.0])
        cells = set(cells_within((lat, lon), radius))
        for _ in range(150):
            dist = radius * math.sqrt(rng.random())
            p = _destination(lat, lon, dist, rng.uniform(0, 2 * math.pi))
            assert cell_at(p[0], p[1], 4) in cells, (lat, lon, radius, p)
        # and nothing far: every kept cell has its centre within radius + 2 circumradii
        for c in cells:
            assert haversine_km((lat, lon), h3.cell_to_latlng(c)) <= radius + 2 * 30.0


def test_cells_within_a_cell_covers_the_cell_area_and_counts_grow_with_radius():
    cell7 = cell_at(48.85, 2.35, 7)
    small = cells_within(cell7, 0)
    assert small[0] == h3.cell_to_parent(cell7, 4)
    sizes = [len(cells_within((48.85, 2.35), r)) for r in (0, 25, 100, 300)]
    assert sizes == sorted(sizes) and sizes[0] == 1 and sizes[-1] > 100


def test_cells_within_near_a_pentagon_and_bad_input():
    pentagon = next(iter(h3.get_pentagons(4)))
    lat, lon = h3.cell_to_latlng(pentagon)
    cells = cells_within((lat, lon), 60.0)
    assert pentagon in cells and len(cells) > 5
    with pytest.raises(LocalProtocolError):
        cells_within((lat, lon), -1)
    with pytest.raises(LocalProtocolError):
        cells_within("zz", 1)
    with pytest.raises(LocalProtocolError):
        cells_within((91.0, 0.0), 1)


def test_subnet_groups():
    assert subnet_group(Contact(b"\1" * 32, ["/ip4/1.2.3.4/tcp/1"])) == subnet_group(
        Contact(b"\2" * 32, ["/ip4/1.2.3.99/udp/5/quic"])
    )
    assert subnet_group(Contact(b"\3" * 32, ["/ip4/1.2.4.4/tcp/1"])) != subnet_group(
        Contact(b"\4" * 32, ["/ip4/1.2.3.4/tcp/1"])
    )
    a = subnet_group(Contact(b"\5" * 32, ["/ip6/2001:db8:1:2::1/tcp/1"]))
    assert a == subnet_group(Contact(b"\6" * 32, ["/ip6/2001:db8:1:ffff::9/tcp/1"]))
    assert a != subnet_group(Contact(b"\7" * 32, ["/ip6/2001:db8:2::1/tcp/1"]))
    assert subnet_group(Contact(b"\10" * 32, ["/ip4/127.0.0.1/tcp/1"])) == LOOPBACK_GROUP
    assert (
        subnet_group(Contact(b"\11" * 32, ["/dns4/example.org/tcp/1", "/ip4/nonsense/tcp/1"])) == NO_IP_GROUP
    )
    # the first parseable address counts
    assert subnet_group(Contact(b"\12" * 32, ["/dns4/x/tcp/1", "/ip4/9.9.9.9/tcp/1"])) == b"4" + bytes(
        [9, 9, 9]
    )


def test_observed_ip_groups():
    assert ip_group("203.0.113.9") == ip_group("203.0.113.200") == b"4" + bytes([203, 0, 113])
    assert ip_group("203.0.114.9") != ip_group("203.0.113.9")
    assert ip_group("::ffff:203.0.113.9") == ip_group("203.0.113.9")  # IPv4-mapped
    assert ip_group("2001:db8:1:2::1") == ip_group("2001:db8:1:ffff::9") != ip_group("2001:db8:2::1")
    assert ip_group("fe80::1%eth0") == b"6" + bytes.fromhex("fe8000000000")
    assert ip_group("127.0.0.1") == ip_group("::1") == LOOPBACK_GROUP
    assert ip_group("not an ip") == ip_group("") == NO_IP_GROUP


def test_id_puzzle_bits_counts_leading_zero_bits_of_the_hashed_id():
    rng = random.Random(1)
    seen = []
    for _ in range(2000):
        pk = rng.randbytes(32)
        bits = id_puzzle_bits(pk)
        digest = hashlib.sha256(hashlib.sha256(pk).digest()).digest()
        assert bits == 256 - int.from_bytes(digest, "big").bit_length()
        seen.append(bits)
    # about half the keys have 0 bits, a quarter 1, ...: each bit doubles the work
    assert 800 < seen.count(0) < 1200 and 350 < seen.count(1) < 650


def test_with_id_work_keeps_only_contacts_whose_id_carries_the_work():
    rng = random.Random(3)
    cs = [Contact(rng.randbytes(32), ["/ip4/10.0.0.1/tcp/1"]) for _ in range(200)]
    assert with_id_work(cs, 0) is cs
    kept = with_id_work(cs, 2)
    assert kept == [c for c in cs if id_puzzle_bits(c.pubkey) >= 2]
    assert 0 < len(kept) < len(cs)
