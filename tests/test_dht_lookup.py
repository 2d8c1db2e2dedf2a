"""The lookup peer iterator, alone and over an in-process network of 200 cores."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dht import (
    AtCapacity,
    Closest,
    ClosestPeersIter,
    DhtConfig,
    Finished,
    PeerState,
    RoutingTable,
    Timeout,
    Waiting,
    contact_id,
)
from dht.keys import ID_ATTR
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
    # the two others pass their peer deadline at t=5: unresponsive, their slots free up
    assert isinstance(it.next(5.0), Waiting)
    assert it.statistics()["unresponsive"] == 2
    # a late answer from an unresponsive peer still counts; one after its failure does not
    assert it.on_success(sent[1].peer.pubkey, []) is True
    assert it.on_failure(sent[2].peer.pubkey) is True
    assert it.on_success(sent[2].peer.pubkey, everyone) is False
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
    net.advance(net.now + asker.config.rpc_timeout)  # the requests themselves fail at their hard deadline
    assert asker.statistics()["failures"] >= 3


# ------------------------------------------------------------------------- paths, deadlines, liars


def fakes_near(target: int, n: int, seed: int) -> list[Contact]:
    """``n`` contacts with ids ground next to ``target`` (closer than any honest peer), nobody runs them."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        c = Contact(rng.randbytes(32), ["/ip4/100.64.0.1/tcp/1"])
        object.__setattr__(c, ID_ATTR, target ^ rng.getrandbits(180))
        out.append(c)
    return out


def test_disjoint_paths_keep_a_liars_contacts_on_its_own_path_and_ask_each_peer_once():
    everyone = peers(150, seed=8)
    known = tables(everyone)
    target = random.Random(9).getrandbits(256)
    seeds = oracle(everyone, target ^ (1 << 255), 6)  # far from the target: a few hops to go
    liar = seeds[0]
    fakes = fakes_near(target, 20, seed=10)
    fake_keys = {c.pubkey for c in fakes}
    it = ClosestPeersIter(target, seeds, 0.0, k=8, alpha=2, paths=3, peer_timeout=1.0)
    asked: list[bytes] = []
    now = 0.0
    while True:
        s = it.next(now)
        if isinstance(s, Finished):
            break
        if isinstance(s, AtCapacity):
            now += 1.0  # the fakes never answer
            continue
        pk = s.peer.pubkey
        asked.append(pk)
        if pk in fake_keys:
            continue
        it.on_success(pk, fakes if pk == liar.pubkey else known[pk].closest(target, 20))
    assert len(asked) == len(set(asked))  # nobody asked twice, whichever path reached it
    liar_path = it.path_of(liar.pubkey)
    assert {it.path_of(pk) for pk in asked if pk in fake_keys} <= {liar_path}
    assert it.closest() == oracle(everyone, target, 8)
    stats = it.statistics()
    assert stats["paths"] == 3 and stats["discredited"] == 1 and stats["discarded"] >= 1
    assert len([pk for pk in asked if pk in fake_keys]) <= 3  # the liar's first suggestions, then discredited


def test_a_single_path_is_todays_lookup():
    everyone = peers(150)
    known = tables(everyone)
    rng = random.Random(11)
    for _ in range(10):
        target = rng.getrandbits(256)
        seeds = rng.sample(everyone, 3)
        one = ClosestPeersIter(target, seeds, 0.0, k=20, alpha=3, paths=1)
        three = ClosestPeersIter(target, seeds, 0.0, k=20, alpha=3, paths=3)
        run_iterator(one, known, 0.0)
        run_iterator(three, known, 0.0)
        assert one.closest() == three.closest() == oracle(everyone, target, 20)
    with pytest.raises(ValueError):
        ClosestPeersIter(1, [], 0.0, k=2, paths=3)


def test_unresponsive_peers_free_their_slot_and_do_not_hold_the_lookup():
    """A straggler is not waited for once k closer peers answered; its late reply still counts."""
    everyone = peers(40, seed=12)
    target = 777
    best = oracle(everyone, target, 6)
    it = ClosestPeersIter(target, best, 0.0, k=4, alpha=2, peer_timeout=0.5, rpc_timeout=5.0)
    assert [it.next(0.0).peer for _ in range(2)] == best[:2]  # type: ignore[union-attr]
    it.on_success(best[1].pubkey, [])  # best[0] is slow
    assert it.next(0.1).peer == best[2]  # type: ignore[union-attr]
    it.on_success(best[2].pubkey, [])
    assert it.next(0.2).peer == best[3]  # type: ignore[union-attr]
    assert isinstance(it.next(0.3), AtCapacity)  # best[0] holds a slot until its deadline
    assert it.next_deadline() == 0.5
    nxt = it.next(0.5)  # best[0] is unresponsive now: its slot frees
    assert isinstance(nxt, Waiting) and nxt.peer == best[4]
    it.on_success(best[3].pubkey, [])
    it.on_success(best[4].pubkey, [])
    assert it.next(0.6) == Finished(False)  # 4 answered; the straggler closer than them is not waited for
    assert it.closest() == best[1:5]
    assert it.on_success(best[0].pubkey, []) is False  # finished: late replies change nothing


def test_max_stragglers_sets_how_many_unresponsive_peers_a_path_may_finish_without():
    """Two of the closest lost their requests: by default (k // 4 = 1) the path waits for them; a get that
    may skip two (its q closest are still among the k replicas) finishes once 4 others answered."""
    everyone = peers(40, seed=15)
    target = 31337
    best = oracle(everyone, target, 10)
    outcomes = []
    for stragglers in (None, 2):
        it = ClosestPeersIter(target, best, 0.0, k=4, alpha=4, peer_timeout=0.5, max_stragglers=stragglers)
        assert [it.next(0.0).peer for _ in range(4)] == best[:4]  # type: ignore[union-attr]
        it.on_success(best[2].pubkey, [])
        it.on_success(best[3].pubkey, [])
        assert [it.next(0.5).peer for _ in range(2)] == best[4:6]  # type: ignore[union-attr]
        it.on_success(best[4].pubkey, [])
        it.on_success(best[5].pubkey, [])
        outcomes.append(it.next(0.6))
    assert isinstance(outcomes[0], AtCapacity)  # waits for best[0] and best[1] to answer or fail
    assert outcomes[1] == Finished(False)


def test_late_reply_of_an_unresponsive_peer_counts_while_the_lookup_runs():
    everyone = peers(30, seed=13)
    target = 4242
    best = oracle(everyone, target, 5)
    it = ClosestPeersIter(target, best[:2], 0.0, k=2, alpha=1, peer_timeout=0.5)
    assert it.next(0.0).peer == best[0]  # type: ignore[union-attr]
    assert it.next(0.6).peer == best[1]  # type: ignore[union-attr]  # best[0] went unresponsive
    assert it.is_waiting(best[0].pubkey)
    assert it.on_success(best[0].pubkey, best[2:]) is True  # late, but the lookup still runs
    assert it.statistics()["succeeded"] == 1 and it.depth_of(best[2].pubkey) == 2


def test_stalled_path_asks_the_remaining_closest_at_once_but_no_further():
    everyone = peers(60, seed=14)
    target = 99
    best = oracle(everyone, target, 30)
    k = 10
    it = ClosestPeersIter(target, best[:1], 0.0, k=k, alpha=2)
    assert it.next(0.0).peer == best[0]  # type: ignore[union-attr]
    it.on_success(best[0].pubkey, best[1:30])  # progress: 10 new peers (max_new = k)
    # two replies that bring nothing closer: the path is stalled
    for _ in range(2):
        w = it.next(0.0)
        assert isinstance(w, Waiting)
        it.on_success(w.peer.pubkey, [])
    handed = []
    while isinstance(s := it.next(0.0), Waiting):
        handed.append(s.peer)
    assert isinstance(s, AtCapacity)
    assert it.statistics()["stalls"] == 1
    assert handed == best[3:k]  # the rest of the k closest together, nothing beyond the k-th
    for p in handed:
        it.on_success(p.pubkey, [])
    assert it.next(0.0) == Finished(False) and it.closest() == best[:k]


def test_one_reply_adds_at_most_max_new_peers_the_closest_ones():
    everyone = peers(60, seed=15)
    target = 5
    order = oracle(everyone, target, 60)
    it = ClosestPeersIter(target, [order[-1]], 0.0, k=20, max_new=4)
    it.next(0.0)
    reply = list(reversed(order[:30]))  # unsorted, closest last
    it.on_success(order[-1].pubkey, reply)
    assert it.statistics()["not_contacted"] == 4
    asked = []
    while isinstance(s := it.next(0.0), Waiting):
        asked.append(s.peer)
        it.on_success(s.peer.pubkey, [])
    assert asked == order[:4]


def test_a_discredited_referrers_suggestions_come_back_when_another_vouches():
    everyone = peers(40, seed=16)
    target = 31337
    best = oracle(everyone, target, 12)
    a, b = best[10], best[11]
    fakes = fakes_near(target, 3, seed=17)
    it = ClosestPeersIter(target, [a, b], 0.0, k=3, alpha=1, paths=1, peer_timeout=1.0, max_new=4)
    assert it.next(0.0).peer == a  # type: ignore[union-attr]
    it.on_success(a.pubkey, [*fakes, best[0]])  # a liar: three fakes and one honest peer
    assert it.next(0.0).peer in fakes  # type: ignore[union-attr]
    assert isinstance(it.next(0.5), AtCapacity)  # a's suggestions are asked one at a time
    second = it.next(1.0)  # the first fake went unresponsive
    assert isinstance(second, Waiting) and second.peer in fakes
    it.on_failure(second.peer.pubkey)  # two strikes: a is discredited, its last fake and best[0] dropped
    assert it.statistics()["discredited"] == 1 and it.statistics()["discarded"] == 2
    nxt = it.next(1.0)
    assert isinstance(nxt, Waiting) and nxt.peer == b
    it.on_success(b.pubkey, [best[0], best[1]])  # b vouches for best[0]: it is asked after all
    asked = []
    while isinstance(s := it.next(1.0), Waiting):
        asked.append(s.peer)
        it.on_success(s.peer.pubkey, [])
    assert best[0] in asked and best[1] in asked


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**256 - 1),
    st.lists(st.integers(0, 3), min_size=1, max_size=300),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(1, 4),
)
def test_disjoint_lookups_terminate_and_keep_their_invariants(target, script, k, alpha, paths):
    """Whatever peers do (answer honestly, lie with fakes, fail, stay silent), a lookup over any number of
    paths finishes by its deadline, asks nobody twice, and every path's in-flight count matches."""
    paths = min(paths, k)
    everyone = peers(50, seed=18)
    it = ClosestPeersIter(
        target, everyone[:5], 0.0, k=k, alpha=alpha, paths=paths, rpc_timeout=2.0, lookup_timeout=10.0,
        peer_timeout=0.5, max_new=5,
    )  # fmt: skip
    now = 0.0
    waiting: list[Contact] = []
    asked: set[bytes] = set()
    for step in range(5_000):
        s = it.next(now)
        assert sum(it._inflight) == sum(1 for p in it._peers if p.state == PeerState.WAITING)
        assert it._dead == sum(1 for p in it._peers if p.state in (PeerState.FAILED, PeerState.DISCARDED))
        if isinstance(s, Finished):
            break
        if isinstance(s, Waiting):
            assert s.peer.pubkey not in asked
            asked.add(s.peer.pubkey)
            waiting.append(s.peer)
            continue
        action = script[step % len(script)]
        peer = waiting.pop(0) if waiting else None
        if peer is None or action == 2:
            now += 0.25
        elif action == 0:
            it.on_success(peer.pubkey, oracle(everyone, contact_id(peer) ^ 1, 20))
        elif action == 1:
            it.on_failure(peer.pubkey)
        else:
            it.on_success(peer.pubkey, fakes_near(target, 8, seed=step))
    else:
        raise AssertionError("lookup did not terminate")
    assert now <= 10.25
    assert all(c.pubkey not in {p.pubkey for p in it.closest(50)} for c in waiting) or it.finished


def test_dead_peers_make_room_before_honest_candidates_and_never_come_back():
    """Regression (issue 10, liar): a liar's failed and discarded fakes used to keep their places in a full
    list while the next liar's fakes evicted the honest peers not yet asked; a get (its list sized for q)
    then ran out of honest candidates. Dead peers now make room first and are not re-added."""
    everyone = peers(40, seed=21)
    target = 4242
    best = oracle(everyone, target, 40)
    liar1, liar2, h1, h2 = best[0], best[1], best[20], best[21]
    f1, f2, f3, f4 = fakes_near(target, 4, seed=22)
    it = ClosestPeersIter(
        target, [liar1, liar2, h1, h2], 0.0, k=4, alpha=1, paths=1, peer_timeout=1.0, max_new=2, capacity=6
    )
    assert it.next(0.0).peer == liar1  # type: ignore[union-attr]
    it.on_success(liar1.pubkey, [f1, f2])  # 6 peers: the list is full
    first = it.next(0.0)
    assert isinstance(first, Waiting) and first.peer in (f1, f2)
    second = it.next(1.0)  # the first fake went unresponsive (one strike)
    assert isinstance(second, Waiting) and second.peer in (f1, f2)
    it.on_failure(second.peer.pubkey)  # two strikes: liar1 is discredited, both fakes dead
    assert it.statistics()["discredited"] == 1
    assert it.next(1.0).peer == liar2  # type: ignore[union-attr]
    it.on_success(liar2.pubkey, [f3, f4])  # the full list makes room from the dead fakes, not from h1, h2
    stats = it.statistics()
    assert stats["failed"] == 0 and stats["not_contacted"] == 4  # f3, f4, h1, h2
    asked = []
    while isinstance(s := it.next(1.0), Waiting):
        asked.append(s.peer)
        if s.peer in (f3, f4):
            it.on_failure(s.peer.pubkey)
        else:  # h1 lists the dropped fakes again: they are not asked a second time
            it.on_success(s.peer.pubkey, [f1, f2] if s.peer == h1 else [])
    assert asked[-2:] == [h1, h2] and f1 not in asked and f2 not in asked
    assert it.closest() == [liar1, liar2, h1, h2]  # (the liars did answer)


def test_colluding_liars_vouching_for_each_others_fakes_prove_nothing():
    """Regression (issue 10, liar): every liar lists the same ground fakes, so the second listing used to
    'vouch' for them: asked all at once, waited for as stragglers (their requests time out only at the RPC
    timeout) and brought back after their referrer was discredited. A second source counts once proven."""
    everyone = peers(40, seed=23)
    target = 777
    best = oracle(everyone, target, 40)
    liar1, liar2, h1 = best[0], best[1], best[20]
    fakes = fakes_near(target, 3, seed=24)
    it = ClosestPeersIter(target, [liar1, liar2, h1], 0.0, k=3, alpha=3, paths=1, peer_timeout=1.0, max_new=3)
    assert {it.next(0.0).peer.pubkey for _ in range(3)} == {liar1.pubkey, liar2.pubkey, h1.pubkey}  # type: ignore[union-attr]
    it.on_success(liar1.pubkey, fakes)
    it.on_success(liar2.pubkey, fakes)  # the same fakes again: a voucher, not a proof
    it.on_success(h1.pubkey, [])
    first = it.next(0.0)
    assert isinstance(first, Waiting) and first.peer in fakes
    assert isinstance(it.next(0.0), AtCapacity)  # still one at a time
    second = it.next(1.0)  # the first fake is past its deadline: failed, not a straggler to wait for
    assert isinstance(second, Waiting) and second.peer in fakes
    assert it.statistics()["unresponsive"] == 0 and it.statistics()["failed"] == 1
    assert isinstance(it.next(2.0), Finished)  # the second fails too: both liars struck twice
    stats = it.statistics()
    assert stats["discredited"] == 2 and stats["discarded"] == 1 and stats["failed"] == 2
    assert it.closest() == [liar1, liar2, h1]


def test_seeds_enter_as_one_insertion_after_another_would_put_them():
    """The seeds are sorted at once (ties keep their order, repeats and ``exclude`` left out): the list, the
    per-path counts and closest distances are those of inserting them one by one."""
    everyone = peers(30, seed=7)
    target = contact_id(everyone[0]) ^ 0xFFFF  # everyone[0] and a twin at the same distance would tie
    twin = Contact(everyone[0].pubkey, ["/ip4/10.9.9.9/tcp/1"])  # the same key again: left out
    seeds = [*reversed(everyone[1:]), twin, everyone[0], everyone[3]]
    me = everyone[5].pubkey
    it = ClosestPeersIter(target, seeds, 0.0, k=8, paths=2, exclude=me, capacity=40)
    one_by_one = ClosestPeersIter(target, [], 0.0, k=8, paths=2, exclude=me, capacity=40)
    for c in seeds:
        if c.pubkey != me and c.pubkey not in one_by_one._by_key:
            one_by_one._insert(c, contact_id(c) ^ target, 1, 0b11, None)
    assert [p.contact for p in it._peers] == [p.contact for p in one_by_one._peers]
    assert it._peers[0].contact is twin  # the first of the two listings of that key
    assert it._dists == one_by_one._dists == sorted(it._dists)
    assert it._known == one_by_one._known == [29, 29]
    assert it._first == one_by_one._first
    assert me not in it._by_key and len(it._by_key) == 29


def test_more_seeds_than_room_keep_the_closest():
    everyone = peers(12, seed=3)
    target = 12345
    it = ClosestPeersIter(target, everyone, 0.0, k=4, capacity=4)  # room for max(capacity, k) = 4
    assert [p.contact for p in it._peers] == oracle(everyone, target, 4)
