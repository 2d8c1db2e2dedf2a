"""The lookup peer iterator, alone and over an in-process network of 200 cores."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dht import (
    AtCapacity,
    Closest,
    ClosestPeersIter,
    DhtConfig,
    Finished,
    RoutingTable,
    Timeout,
    Waiting,
    contact_id,
)
from dht.testing import roundtrip_until_done
from tests.test_dht_helpers import network, shared_network_200
from wire.messages import Contact


def peers(n: int, seed: int = 0) -> list[Contact]:
    rng = random.Random(seed)
    return [Contact(rng.randbytes(32), [f"/ip4/10.0.{i // 250}.{i % 250}/tcp/1"]) for i in range(n)]


def oracle(everyone: list[Contact], target: int, n: int) -> list[Contact]:
    return sorted(everyone, key=lambda c: contact_id(c) ^ target)[:n]


def tables(everyone: list[Contact]) -> dict[bytes, RoutingTable]:
    """A full k-bucket table for each peer, knowing every other peer."""
    out = {}
    for c in everyone:
        t = RoutingTable(contact_id(c), DhtConfig(max_per_subnet=0))
        for other in everyone:
            t.add(other)
        out[c.pubkey] = t
    return out


def run_iterator(
    it: ClosestPeersIter, known: dict[bytes, RoutingTable], now: float, fail: frozenset = frozenset()
):
    """Answer every request at once with the responder's 20 closest to the target; return requests made."""
    asked = 0
    while True:
        st_ = it.next(now)
        if isinstance(st_, Finished):
            return asked
        assert isinstance(st_, Waiting), st_
        asked += 1
        if st_.peer.pubkey in fail:
            it.on_failure(st_.peer.pubkey)
        else:
            it.on_success(st_.peer.pubkey, known[st_.peer.pubkey].closest(it.target, 20))


def test_iterator_finds_the_true_k_closest():
    everyone = peers(150)
    known = tables(everyone)
    rng = random.Random(1)
    for _ in range(20):
        target = rng.getrandbits(256)
        seeds = rng.sample(everyone, 3)
        it = ClosestPeersIter(target, seeds, 0.0, k=20, alpha=3)
        asked = run_iterator(it, known, 0.0)
        assert it.closest() == oracle(everyone, target, 20)
        assert asked < 120 and 1 <= it.hops() <= 10


def test_alpha_parallelism_and_at_capacity_and_timeouts():
    everyone = peers(50)
    target = 12345
    it = ClosestPeersIter(target, everyone[:10], 0.0, k=5, alpha=3, rpc_timeout=5.0, lookup_timeout=30.0)
    sent = [it.next(0.0) for _ in range(3)]
    assert all(isinstance(s, Waiting) for s in sent)
    assert isinstance(it.next(0.0), AtCapacity)
    # the first request ends: a fourth may go out
    it.on_failure(sent[0].peer.pubkey)
    assert isinstance(it.next(1.0), Waiting)
    assert isinstance(it.next(1.0), AtCapacity)
    # the two others time out at t=5: their slots free up
    assert isinstance(it.next(5.0), Waiting)
    # a late answer from a timed-out peer is ignored
    assert it.on_success(sent[1].peer.pubkey, everyone) is False
    # the whole lookup gives up at t=30
    assert it.next(30.0) == Finished(timed_out=True)
    assert it.finished and it.timed_out


def test_no_seeds_finishes_at_once_and_self_is_never_asked():
    it = ClosestPeersIter(1, [], 0.0)
    assert it.next(0.0) == Finished(False) and it.closest() == [] and it.hops() == 0
    everyone = peers(10)
    me = everyone[0]
    it = ClosestPeersIter(contact_id(me), everyone, 0.0, k=3, exclude=me.pubkey)
    asked = []
    while isinstance(s := it.next(0.0), Waiting):
        asked.append(s.peer)
        it.on_success(s.peer.pubkey, everyone)
    assert me not in asked and me not in it.closest(10)


def test_failures_are_skipped_and_results_are_only_responders():
    everyone = peers(100, seed=2)
    known = tables(everyone)
    target = random.Random(3).getrandbits(256)
    best = oracle(everyone, target, 5)
    fail = {best[0].pubkey, best[2].pubkey}
    it = ClosestPeersIter(target, everyone[:5], 0.0, k=5, alpha=2)
    run_iterator(it, known, 0.0, frozenset(fail))
    alive = [c for c in everyone if c.pubkey not in fail]
    assert it.closest() == oracle(alive, target, 5)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**256 - 1),
    st.lists(st.integers(0, 2), min_size=1, max_size=400),
    st.integers(1, 6),
    st.integers(1, 4),
)
def test_lookups_always_terminate(target, script, k, alpha):
    """Whatever peers answer (success, failure, silence), a lookup finishes within its step budget."""
    everyone = peers(60, seed=4)
    it = ClosestPeersIter(
        target, everyone[:4], 0.0, k=k, alpha=min(alpha, k), rpc_timeout=1.0, lookup_timeout=10.0
    )
    now = 0.0
    waiting: list[Contact] = []
    for step in range(10_000):
        s = it.next(now)
        if isinstance(s, Finished):
            break
        if isinstance(s, Waiting):
            waiting.append(s.peer)
            continue
        action = script[step % len(script)]
        peer = waiting.pop(0) if waiting else None
        if peer is None or action == 2:
            now += 0.5  # silence: time passes
        elif action == 0:
            it.on_success(peer.pubkey, oracle(everyone, contact_id(peer), 20))
        else:
            it.on_failure(peer.pubkey)
    else:
        raise AssertionError("lookup did not terminate")
    assert now <= 10.5


# ---------------------------------------------------------------------------- over a network of cores


def test_find_node_over_200_cores_finds_the_true_closest():
    net = shared_network_200()
    nodes = list(net.nodes.values())
    everyone = [n.contact for n in nodes]
    rng = random.Random(5)
    for i in range(10):
        asker = nodes[rng.randrange(200)]
        target = rng.randbytes(32)
        res = roundtrip_until_done(net, asker, asker.find_node(target, net.now))
        assert isinstance(res, Closest)
        want = [c for c in oracle(everyone, int.from_bytes(target, "big"), 21) if c is not asker.contact][:20]
        assert res.peers == want, i
        assert res.messages >= 20 and 1 <= res.hops <= 8
    # an exact node lookup returns that node first
    res = roundtrip_until_done(net, nodes[3], nodes[3].find_node(nodes[150].node_id, net.now))
    assert res.peers[0] is nodes[150].contact


def test_find_node_when_every_peer_is_silent_times_out():
    net = network(30, seed=12)
    nodes = list(net.nodes.values())
    asker = nodes[5]
    net.silent.update(n.pubkey for n in nodes if n is not asker)
    start = net.now
    res = roundtrip_until_done(net, asker, asker.find_node(b"\x42" * 32, net.now))
    assert isinstance(res, Timeout)
    assert net.now - start <= asker.config.lookup_timeout + asker.config.rpc_timeout
    assert asker.statistics()["failures"] >= 3
