"""The simulator's engine and latency model, driven by a tiny stand-in core (ping with an RPC timeout)."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine import HORIZON_S, Engine
from sim.latency import LatencyModel
from sim.metrics import percentile
from sim.network import LightRng, node_addrs


@dataclass(frozen=True)
class _Contact:
    pubkey: bytes
    addrs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Ping:
    rid: int


@dataclass(frozen=True)
class _Pong:
    rid: int


@dataclass(frozen=True)
class _Send:
    peer: _Contact
    msg: object


@dataclass(frozen=True)
class _Done:
    op_id: int
    result: object


class PingCore:
    """Stand-in sans-IO core: ``ping(peer)`` sends one request, done on reply, failure or a 1 s timeout."""

    TIMEOUT = 1.0

    def __init__(self, pubkey: bytes) -> None:
        self.contact = _Contact(pubkey)
        self.out: list[object] = []
        self.waiting: dict[int, tuple[int, float]] = {}  # rid -> (op id, deadline)
        self.next_rid = 1
        self.served = 0
        self.failures_seen: list[tuple[bytes, int]] = []

    def ping(self, peer: _Contact, now: float) -> int:
        rid = self.next_rid
        self.next_rid += 1
        self.waiting[rid] = (rid, now + self.TIMEOUT)
        self.out.append(_Send(peer, _Ping(rid)))
        return rid

    def handle_request(self, sender: _Contact, msg: _Ping, now: float) -> _Pong:
        self.served += 1
        return _Pong(msg.rid)

    def handle_response(self, peer_pubkey: bytes, reply: _Pong, now: float) -> None:
        entry = self.waiting.pop(reply.rid, None)
        if entry is not None:
            self.out.append(_Done(entry[0], ("ok", now)))

    def handle_failure(self, peer_pubkey: bytes, rid: int, now: float) -> None:
        self.failures_seen.append((peer_pubkey, rid))
        entry = self.waiting.pop(rid, None)
        if entry is not None:
            self.out.append(_Done(entry[0], ("failed", now)))

    def poll(self) -> list[object]:
        out, self.out = self.out, []
        return out

    def next_timer(self) -> float | None:
        return min((d for _, d in self.waiting.values()), default=None)

    def handle_timer(self, now: float) -> None:
        for rid, (op, deadline) in list(self.waiting.items()):
            if deadline <= now:
                del self.waiting[rid]
                self.out.append(_Done(op, ("timeout", now)))


def _engine(n: int, rtt_ms: float = 50.0, loss: float = 0.0, dead_mode: str = "refused", seed: int = 1):
    eng = Engine(
        LatencyModel(random.Random(seed), rtt_ms, 0.0), random.Random(seed + 1), loss, dead_mode, 100.0
    )
    for i in range(n):
        eng.add_node(PingCore(bytes([i]) * 32))
    return eng


def _ping(eng: Engine, src: int, dst: int, results: list) -> None:
    peer = eng.nodes[dst].contact
    eng.start_op(src, lambda node, now: node.ping(peer, now), lambda i, res, t0: results.append((i, res, t0)))


def test_round_trip_takes_the_model_rtt():
    eng = _engine(2, rtt_ms=80.0)
    results: list = []
    _ping(eng, 0, 1, results)
    eng.run()
    assert len(results) == 1
    (_i, (status, t_done), t0) = results[0]
    assert status == "ok"
    assert t_done - t0 == pytest.approx(eng.latency.base_rtt(0, 1), rel=1e-9)
    assert eng.nodes[1].served == 1
    # the armed RPC timer went stale once the reply arrived: it is skipped, not fired
    assert eng.timers_fired == 0 and eng.stale_timers == 1


def test_dead_node_refuses_after_one_rtt_or_times_out_when_silent():
    for mode, expect in (("refused", "failed"), ("silent", "timeout")):
        eng = _engine(2, dead_mode=mode)
        eng.kill(1)
        results: list = []
        _ping(eng, 0, 1, results)
        eng.run()
        status, t_done = results[0][1]
        assert status == expect
        assert eng.nodes[1].served == 0
        if mode == "refused":
            assert t_done - 100.0 == pytest.approx(eng.latency.base_rtt(0, 1))
        else:
            assert t_done == pytest.approx(100.0 + PingCore.TIMEOUT)


def test_loss_is_only_seen_through_the_core_timer():
    eng = _engine(2, loss=0.5, seed=3)
    results: list = []
    for _ in range(200):
        _ping(eng, 0, 1, results)
    eng.run()
    statuses = [r[1][0] for r in results]
    assert len(statuses) == 200
    assert set(statuses) == {"ok", "timeout"}
    # P(ok) = P(request and reply both delivered) = 0.25
    assert 25 <= statuses.count("ok") <= 75
    assert eng.lost > 0 and eng.nodes[0].failures_seen == []


def test_same_seed_same_event_sequence():
    def trace(seed: int) -> list:
        eng = _engine(30, loss=0.1, seed=seed)
        rng = random.Random(seed)
        results: list = []
        for _ in range(300):
            _ping(eng, rng.randrange(30), rng.randrange(30), results)
        eng.run()
        return [(i, r, t) for i, r, t in results]

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_actions_and_run_until():
    eng = _engine(1)
    seen: list = []
    eng.schedule(105.0, seen.append, "b")
    eng.schedule(101.0, seen.append, "a")
    eng.run(until=103.0)
    assert seen == ["a"] and eng.now == 103.0
    eng.run()
    assert seen == ["a", "b"] and eng.now == 105.0


def test_latency_model_median_and_zero():
    model = LatencyModel(random.Random(9), rtt_ms=50.0, jitter_sigma=0.2)
    for _ in range(400):
        model.add_node()
    rng = random.Random(1)
    rtts = [2 * model.one_way(rng.randrange(400), rng.randrange(400)) for _ in range(4000)]
    median = percentile(rtts, 50)
    assert median is not None and 44.0 <= 1000 * median <= 56.0
    zero = LatencyModel(random.Random(1), rtt_ms=0.0)
    zero.add_node()
    zero.add_node()
    assert zero.one_way(0, 1) == 0.0
    with pytest.raises(ValueError):
        LatencyModel(random.Random(1), rtt_ms=-1.0)


def test_light_rng_is_deterministic_and_in_range():
    a, b = LightRng(42), LightRng(42)
    xs = [a.random() for _ in range(1000)]
    assert xs == [b.random() for _ in range(1000)]
    assert all(0.0 <= x < 1.0 for x in xs)
    assert 0.45 < sum(xs) / len(xs) < 0.55
    bits = [a.getrandbits(130) for _ in range(200)]
    assert all(0 <= v < 2**130 for v in bits) and max(bits) > 2**128
    assert len(a.randbytes(33)) == 33
    assert LightRng(1).random() != LightRng(2).random()


def test_addresses_are_distinct_per_subnet():
    subnets = {node_addrs(i)[0].rsplit(".", 1)[0] for i in range(0, 200_000, 97)}
    assert len(subnets) == len(range(0, 200_000, 97))


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 100) == 4
    with pytest.raises(ValueError):
        percentile([1], 101)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 100))
def test_percentile_matches_numpy(values, q):
    got = percentile(values, q)
    assert got is not None
    assert got == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-6)


@given(st.integers(0, 2**64 - 1), st.integers(1, 300))
def test_light_rng_getrandbits_bounds(seed, k):
    rng = LightRng(seed)
    for _ in range(5):
        assert 0 <= rng.getrandbits(k) < 2**k
        assert 0 <= rng.randrange(k) < k


def test_events_across_the_horizon_run_in_time_then_schedule_order():
    """Near and far events (past ``HORIZON_S``), ties at one instant included, run as one heap would run them:
    by time, then in the order they were scheduled; ``run(until)`` stops between them."""
    eng = _engine(1)
    rng = random.Random(3)
    times = [100.0 + rng.choice([0.5, 1.0, HORIZON_S, HORIZON_S + 1.0, 3 * HORIZON_S]) for _ in range(40)]
    times += [100.0 + rng.uniform(0.0, 10 * HORIZON_S) for _ in range(60)]
    seen: list[int] = []

    def later(i: int) -> None:  # an event scheduled while running, near and far from it
        seen.append(i)
        if i < 5:
            eng.schedule(eng.now + (i + 1) * HORIZON_S / 2, later, 1000 + i)

    for i, t in enumerate(times):
        eng.schedule(t, later, i)
    eng.run(until=100.0 + 2 * HORIZON_S)
    assert eng.now == 100.0 + 2 * HORIZON_S
    eng.run()
    # one plain heap, as the engine had before its horizon
    heap = [(t, i, i) for i, t in enumerate(times)]
    heapq.heapify(heap)
    seq = len(times)
    expected: list[int] = []
    while heap:
        t, _, i = heapq.heappop(heap)
        expected.append(i)
        if i < 5:
            heapq.heappush(heap, (t + (i + 1) * HORIZON_S / 2, seq, 1000 + i))
            seq += 1
    assert seen == expected
    assert expected[: len(times)] != sorted(expected[: len(times)])  # the times really were out of order
    assert eng.statistics()["queued"] == 0
