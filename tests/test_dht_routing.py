"""The routing table: bucket index, closest, pending entry + probe, subnet cap; invariants (hypothesis)."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dht import AddResult, DhtConfig, RoutingTable, contact_id
from dht.keys import id_puzzle_bits, ip_group, subnet_group
from wire.messages import Contact

SELF = b"\0" * 32
SELF_ID = int.from_bytes(hashlib.sha256(SELF).digest(), "big")


def contact(i: int, ip: str | None = None) -> Contact:
    pk = random.Random(i).randbytes(32)
    ip = ip or f"10.{(i >> 8) & 255}.{i & 255}.1"
    return Contact(pk, [f"/ip4/{ip}/tcp/4001"])


def contacts_in_bucket(index: int, n: int, start: int = 0, ip: str | None = None) -> list[Contact]:
    """``n`` contacts whose distance to SELF falls in bucket ``index`` (searching seeds from ``start``)."""
    out = []
    i = start
    while len(out) < n:
        c = contact(i, ip)
        if (contact_id(c) ^ SELF_ID).bit_length() - 1 == index:
            out.append(c)
        i += 1
    return out


def test_bucket_index_and_lazy_buckets():
    table = RoutingTable(SELF_ID, DhtConfig())
    c = contacts_in_bucket(254, 1)[0]
    assert table.add(c) == (AddResult.ADDED, None)
    assert table.bucket_index(c) == 254
    assert table.nonempty_buckets() == [254]
    assert table.bucket(254) == [c] and table.bucket(255) == []
    assert len(table._buckets) == 2  # only as deep as the deepest non-empty bucket
    assert table.add(c) == (AddResult.UPDATED, None)
    assert len(table) == 1
    assert table.add(Contact(SELF, ["/ip4/1.1.1.1/tcp/1"]))[0] is AddResult.SELF
    assert table.remove(c.pubkey) and len(table) == 0 and table._buckets == []


def test_updated_contact_moves_to_the_tail_and_new_instance_replaces_old():
    table = RoutingTable(SELF_ID, DhtConfig())
    cs = contacts_in_bucket(255, 3)
    for c in cs:
        table.add(c)
    moved = Contact(cs[0].pubkey, ["/ip4/10.200.0.1/tcp/9"])
    assert table.add(moved)[0] is AddResult.UPDATED
    assert table.bucket(255) == [cs[1], cs[2], moved] and table.bucket(255)[-1] is moved


def test_full_bucket_keeps_pending_entry_and_probe_result_decides():
    cfg = DhtConfig(k=4)
    table = RoutingTable(SELF_ID, cfg)
    cs = contacts_in_bucket(255, 7)
    for c in cs[:4]:
        assert table.add(c)[0] is AddResult.ADDED
    # full: the newcomer waits, the oldest must be probed
    assert table.add(cs[4]) == (AddResult.PENDING, cs[0])
    assert table.pending(255) is cs[4]
    assert table.add(cs[5]) == (AddResult.FULL, None)  # one probe at a time
    # the oldest answered: it stays (now most recent), the pending entry is dropped
    table.probe_ok(cs[0].pubkey)
    assert table.pending(255) is None
    assert table.bucket(255) == [cs[1], cs[2], cs[3], cs[0]]
    # next newcomer: the oldest is now cs[1]; it fails -> the pending entry replaces it
    assert table.add(cs[6]) == (AddResult.PENDING, cs[1])
    assert table.remove(cs[1].pubkey)
    assert table.bucket(255) == [cs[2], cs[3], cs[0], cs[6]]
    assert table.pending(255) is None and len(table) == 4


def test_subnet_cap_per_bucket_and_loopback_exemption():
    same_net = contacts_in_bucket(255, 3, ip="192.0.2.7")
    table = RoutingTable(SELF_ID, DhtConfig())
    results = [table.add(c)[0] for c in same_net]
    assert results == [AddResult.ADDED, AddResult.ADDED, AddResult.REFUSED_SUBNET]
    other = contacts_in_bucket(254, 1, ip="192.0.2.8")[0]
    assert table.add(other)[0] is AddResult.ADDED  # another bucket: its own count

    loop = contacts_in_bucket(255, 5, start=10_000, ip="127.0.0.1")
    table = RoutingTable(SELF_ID, DhtConfig(allow_loopback_subnet=True))  # the explicit test mode
    assert all(table.add(c)[0] is AddResult.ADDED for c in loop)
    strict = RoutingTable(SELF_ID, DhtConfig())  # loopback is one subnet like any other by default
    assert [strict.add(c)[0] for c in loop].count(AddResult.ADDED) == 2
    unlimited = RoutingTable(SELF_ID, DhtConfig(max_per_subnet=0))
    assert all(unlimited.add(c)[0] is AddResult.ADDED for c in same_net)


def test_closest_matches_brute_force_and_excludes():
    rng = random.Random(3)
    table = RoutingTable(SELF_ID, DhtConfig(k=8))
    for i in range(400):
        table.add(contact(i))
    everyone = table.contacts()
    assert len(everyone) == len(table) > 40
    for _ in range(50):
        target = rng.getrandbits(256) if rng.random() < 0.7 else SELF_ID ^ rng.getrandbits(rng.randint(1, 12))
        got = table.closest(target, 10)
        want = sorted(everyone, key=lambda c: contact_id(c) ^ target)[:10]
        assert got == want
        assert (
            table.closest(target, 10, exclude=want[0].pubkey)
            == sorted(
                everyone[:0] + [c for c in everyone if c is not want[0]], key=lambda c: contact_id(c) ^ target
            )[:10]
        )
    assert table.closest(SELF_ID, 5) == sorted(everyone, key=lambda c: contact_id(c) ^ SELF_ID)[:5]
    # any excluded key (in the table or not, near the target or far), with or without its id, for any n
    outsider = contact(10_000)
    for _ in range(300):
        target = rng.getrandbits(256) if rng.random() < 0.5 else SELF_ID ^ rng.getrandbits(rng.randint(1, 12))
        ranked = sorted(everyone, key=lambda c: contact_id(c) ^ target)
        n = rng.choice([1, 2, 7, 8, 9, 10, 20, len(everyone), len(everyone) + 5])
        ex = rng.choice(
            [ranked[0], ranked[min(n, len(ranked) - 1)], ranked[n // 2], rng.choice(ranked), outsider]
        )
        want = [c for c in ranked if c.pubkey != ex.pubkey][:n]
        assert table.closest(target, n, exclude=ex.pubkey) == want
        assert table.closest(target, n, ex.pubkey, contact_id(ex)) == want


def test_export_import_and_find():
    table = RoutingTable(SELF_ID, DhtConfig())
    for i in range(200):
        table.add(contact(i))
    copy = RoutingTable(SELF_ID, DhtConfig())
    for c in table.contacts():
        copy.add(c)
    assert sorted(c.pubkey for c in copy.contacts()) == sorted(c.pubkey for c in table.contacts())
    some = table.contacts()[5]
    assert table.find(some.pubkey) is some
    assert table.find(b"\x99" * 32) is None


def test_random_id_in_bucket():
    rng = random.Random(1)
    table = RoutingTable(SELF_ID, DhtConfig())
    for index in (0, 1, 7, 100, 255):
        for _ in range(5):
            assert ((table.random_id_in_bucket(index, rng) ^ SELF_ID).bit_length() - 1) == index


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 300)), max_size=300))
def test_table_invariants_under_random_add_remove(ops):
    k = 5
    table = RoutingTable(SELF_ID, DhtConfig(k=k))
    for is_add, i in ops:
        c = contact(i, ip=f"10.0.{i % 7}.1")  # few subnets: the cap bites
        if is_add:
            res, probe = table.add(c)
            if res is AddResult.PENDING:
                assert probe is not None and probe in table.contacts()
        else:
            table.remove(c.pubkey)
    everyone = table.contacts()
    assert len(everyone) == len(table)
    assert len({c.pubkey for c in everyone}) == len(everyone)
    for index in table.nonempty_buckets():
        bucket = table.bucket(index)
        assert 0 < len(bucket) <= k
        assert all(table.bucket_index(c) == index for c in bucket)
        groups = [c.addrs[0].split("/")[2].rsplit(".", 1)[0] for c in bucket]
        assert all(groups.count(g) <= 2 for g in groups)
        pending = table.pending(index)
        assert pending is None or (len(bucket) == k and pending not in bucket)
    assert not table._buckets or table._buckets[-1]  # trimmed to the deepest non-empty bucket


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**256 - 1), st.integers(1, 30), st.integers(0, 40))
def test_closest_and_count_closer_match_brute_force(size, target, n, pick):
    table = RoutingTable(SELF_ID, DhtConfig(k=6, max_per_subnet=0))
    for i in range(size):
        table.add(contact(i))
    everyone = sorted(table.contacts(), key=lambda c: contact_id(c) ^ target)
    assert table.closest(target, n) == everyone[:n]
    distance = (contact_id(everyone[pick % len(everyone)]) ^ target) + (pick % 3) - 1
    closer = sum(1 for c in everyone if contact_id(c) ^ target < distance)
    for cap in (1, 6, 1000):
        assert table.count_closer(target, distance, cap) == min(closer, cap)


def test_probe_cooldown_per_bucket_and_no_probe_for_ping_senders():
    cfg = DhtConfig(k=2, probe_interval=60.0, max_per_subnet=0)
    table = RoutingTable(SELF_ID, cfg)
    cs = contacts_in_bucket(255, 6)
    far = contacts_in_bucket(254, 3)
    for c in (*cs[:2], *far[:2]):
        assert table.add(c, 0.0)[0] is AddResult.ADDED
    assert table.add(cs[2], 0.0, probe=False) == (AddResult.FULL, None)  # a PING sender: never pending
    assert table.add(cs[2], 0.0) == (AddResult.PENDING, cs[0])
    table.probe_ok(cs[0].pubkey)
    assert table.add(cs[3], 59.0) == (AddResult.FULL, None)  # bucket 255 probed at 0: cooling down
    assert table.add(far[2], 59.0) == (AddResult.PENDING, far[0])  # another bucket has its own cooldown
    assert table.add(cs[3], 60.0) == (AddResult.PENDING, cs[1])
    # without ``now`` (no clock) there is no cooldown: the old behaviour
    table.probe_ok(cs[1].pubkey)
    assert table.add(cs[4]) == (AddResult.PENDING, cs[0])
    # probe_interval must not be negative
    try:
        DhtConfig(probe_interval=-1.0)
    except ValueError:
        pass
    else:
        raise AssertionError("negative probe_interval accepted")


def test_observed_group_overrides_claims_and_stays_with_the_contact():
    table = RoutingTable(SELF_ID, DhtConfig())
    cs = contacts_in_bucket(255, 4)  # each claims a /24 of its own
    seen_at = ip_group("198.51.100.1")
    assert table.add(cs[0], group=seen_at)[0] is AddResult.ADDED
    assert table.add(cs[1], group=seen_at)[0] is AddResult.ADDED
    assert table.add(cs[2], group=seen_at)[0] is AddResult.REFUSED_SUBNET  # the real /24 is full
    # cs[1] comes back claiming yet another address (no observation): it keeps the subnet it entered with
    moved = Contact(cs[1].pubkey, ["/ip4/172.16.0.1/tcp/1"])
    assert table.add(moved)[0] is AddResult.UPDATED
    assert table.add(cs[3], group=seen_at)[0] is AddResult.REFUSED_SUBNET
    # observed elsewhere later (it really moved): it counts there from now on
    assert table.add(moved, group=ip_group("192.0.2.1"))[0] is AddResult.UPDATED
    assert table.add(cs[3], group=seen_at)[0] is AddResult.ADDED


def test_remove_only_when_the_failed_addresses_are_the_known_ones():
    table = RoutingTable(SELF_ID, DhtConfig())
    c = contacts_in_bucket(255, 1)[0]
    table.add(c)
    assert table.get(Contact(c.pubkey, ["/ip4/192.0.2.99/tcp/9"])) is c  # known addresses first
    assert not table.remove(c.pubkey, ["/ip4/192.0.2.99/tcp/9"])  # a third party's addresses failed
    assert table.find(c.pubkey) is c
    assert table.remove(c.pubkey, list(c.addrs)) and table.find(c.pubkey) is None
    assert table.get(c) is None


def test_ids_without_puzzle_work_are_refused_when_the_network_requires_it():
    table = RoutingTable(SELF_ID, DhtConfig(id_puzzle_bits=2, max_per_subnet=0))
    results = {}
    for i in range(200):
        c = contact(i)
        res = table.add(c)[0]
        results[id_puzzle_bits(c.pubkey) >= 2] = results.get(id_puzzle_bits(c.pubkey) >= 2, set()) | {res}
    assert results[False] == {AddResult.REFUSED_ID}
    assert AddResult.ADDED in results[True] and AddResult.REFUSED_ID not in results[True]
    with pytest.raises(ValueError):
        DhtConfig(id_puzzle_bits=33)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 5), st.booleans()), max_size=300))
def test_subnet_cap_holds_for_observed_groups(ops):
    """Whatever mix of observed and claimed addresses contacts come with, no bucket holds more than 2
    contacts counted against one subnet."""
    table = RoutingTable(SELF_ID, DhtConfig(k=6))
    for i, net, observed in ops:
        c = contact(i, ip=f"10.{net}.{i % 3}.1")
        table.add(c, group=ip_group(f"198.51.{net}.7") if observed else None)
    for index in table.nonempty_buckets():
        groups = [subnet_group(c) for c in table.bucket(index)]
        assert all(groups.count(g) <= 2 for g in groups)


def test_touch_moves_the_tables_own_contact_to_the_tail_as_add_does():
    table = RoutingTable(SELF_ID, DhtConfig())
    twin = RoutingTable(SELF_ID, DhtConfig())
    cs = contacts_in_bucket(255, 4)
    for c in cs:
        table.add(c)
        twin.add(c)
    for c in (cs[1], cs[3], cs[0]):
        table.touch(c)
        assert twin.add(c) == (AddResult.UPDATED, None)
        assert table.bucket(255) == twin.bucket(255) and table.bucket(255)[-1] is c
    assert len(table) == 4
    with pytest.raises(ValueError):
        table.touch(Contact(cs[2].pubkey, ["/ip4/10.200.0.1/tcp/9"]))  # not the table's own instance
    with pytest.raises(ValueError):
        table.touch(contacts_in_bucket(254, 1)[0])  # not in the table
