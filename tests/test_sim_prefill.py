"""The numpy prefill (sim/prefill.py): exact bucket contents against brute force, and the same table quality
and lookup success as the protocol join at small N."""

from __future__ import annotations

import statistics

import pytest

from dht import DhtConfig
from dht.keys import bucket_of, contact_id
from dht.routing import RoutingTable
from sim import SimConfig
from sim.engine import Engine
from sim.latency import LatencyModel
from sim.network import derive_rng, engine_for, join_network
from sim.population import Population
from sim.prefill import chunk_buckets, prefill_tables, top64
from sim.runner import START_TIME
from sim.workload import IntentFactory, Looker, Publisher


def _network(config: SimConfig) -> tuple[Engine, Population, IntentFactory]:
    """The nodes of ``config`` joined as ``config.join`` says (the runner's set-up, without the workload)."""
    config.validate()
    engine = engine_for(config, START_TIME)
    factory = IntentFactory(derive_rng(config.seed, "workload"), config.region)
    pop = Population.build(config, engine, factory)
    join_network(config, engine, pop.ids)
    return engine, pop, factory


def _bucket_counts(engine: Engine, i: int) -> dict[int, int]:
    table = engine.nodes[i].table
    return {b: len(table.bucket(b)) for b in table.nonempty_buckets()}


def _success(engine: Engine, pop: Population, factory: IntentFactory, lookups: int) -> float:
    rng = derive_rng(7, "test-workload")
    pub = Publisher(engine, factory, pop.identities, 20, rng)
    pub.start()
    engine.run(stop=pub.finished)
    looker = Looker(engine, pub.published, pop.honest_live(), lookups, rng)
    looker.start()
    engine.run(stop=looker.finished)
    assert len(pub.published) == 20
    return looker.stats.found / lookups


def test_prefilled_buckets_are_what_global_knowledge_gives():
    """Every bucket holds min(fill, n_i) distinct members of its own distance range (brute force)."""
    fill = 6
    cfg = SimConfig(nodes=260, publishes=1, lookups=1, seed=9, join="fast", fast_fill=fill, fast_bootstraps=1)
    engine = Engine(
        LatencyModel(derive_rng(9, "latency"), 50.0, 0.2), derive_rng(9, "net"), 0.0, "refused", 0.0
    )
    pop = Population.build(cfg, engine, IntentFactory(derive_rng(9, "workload")))
    stats = prefill_tables(engine, pop.ids, fill, seed=9, chunk=64)  # several chunks
    ids = pop.ids
    assert stats.nodes == len(ids)
    total = 0
    for i, x in enumerate(ids):
        want: dict[int, set[int]] = {}
        for y in ids:
            if y != x:
                want.setdefault(bucket_of(x ^ y), set()).add(y)
        table = engine.nodes[i].table
        got_buckets = set(table.nonempty_buckets())
        assert got_buckets == set(want)  # no range left empty, none invented
        for b, members in want.items():
            got = [contact_id(c) for c in table.bucket(b)]
            assert len(got) == len(set(got)) == min(fill, len(members))
            assert set(got) <= members
            total += len(got)
        assert len(table) == sum(min(fill, len(m)) for m in want.values())
    assert stats.contacts == total
    assert stats.buckets == sum(len(engine.nodes[i].table.nonempty_buckets()) for i in range(len(ids)))


def test_sampling_is_uniform_and_seeded():
    """A large range's members come out uniformly (chi-square-ish bound) and the seed decides them."""
    import numpy as np

    ids = np.sort(np.random.default_rng(1).integers(0, 2**63, 400, dtype=np.uint64) | np.uint64(2**63))
    ids = np.concatenate([np.array([1], dtype=np.uint64), ids])  # node 0 alone in the lower half
    hits = np.zeros(len(ids), dtype=np.int64)
    for s in range(300):
        rows = chunk_buckets(ids, 0, 1, 10, np.random.default_rng(s))
        assert rows.level[0] == 0 and rows.offsets[1] == 10  # its far bucket: 10 of the 400 others
        picks = rows.picks[: rows.offsets[1]]
        assert len(set(picks.tolist())) == 10 and picks.min() >= 1
        hits[picks] += 1
    expected = 300 * 10 / 400
    assert abs(hits[1:].mean() - expected) < 1e-9
    assert hits[1:].max() < expected * 3 and hits[1:].min() > 0  # no member favoured or starved
    a = chunk_buckets(ids, 0, 50, 10, np.random.default_rng(5))
    b = chunk_buckets(ids, 0, 50, 10, np.random.default_rng(5))
    c = chunk_buckets(ids, 0, 50, 10, np.random.default_rng(6))
    assert (a.picks == b.picks).all() and not (a.picks == c.picks).all()


def test_prefill_matches_the_protocol_join_in_quality():
    """The protocol's converged tables, bucket by bucket: the prefill never holds fewer contacts, the protocol
    at most ~5% fewer once converged (far buckets no refresh has filled yet); all lookups succeed on both."""
    base = {"nodes": 250, "publishes": 20, "lookups": 200, "seed": 4}
    proto, proto_pop, proto_factory = _network(SimConfig(join="protocol", **base))
    # the cheap join fills far buckets lazily: converge by the core's own hourly refresh of every bucket
    proto.run(until=proto.now + DhtConfig().refresh_interval + 60)
    fast, fast_pop, fast_factory = _network(SimConfig(join="fast", fast_bootstraps=3, **base))
    assert proto_pop.ids == fast_pop.ids
    n = len(proto_pop.ids)
    proto_total = fast_total = same = 0
    for i in range(n):
        p, f = _bucket_counts(proto, i), _bucket_counts(fast, i)
        assert set(p) <= set(f)
        assert all(p[b] <= f[b] for b in p), f"node {i}: protocol {p} vs prefill {f}"
        proto_total += sum(p.values())
        fast_total += sum(f.values())
        same += p == f
    assert proto_total >= 0.94 * fast_total, (proto_total, fast_total, same)
    assert same >= 0.5 * n, f"{same}/{n} nodes with the same bucket sizes"
    proto_sizes = [len(proto.nodes[i].table) for i in range(n)]
    fast_sizes = [len(fast.nodes[i].table) for i in range(n)]
    assert abs(statistics.median(fast_sizes) - statistics.median(proto_sizes)) <= 2
    assert _success(proto, proto_pop, proto_factory, 200) == 1.0
    assert _success(fast, fast_pop, fast_factory, 200) == 1.0


def test_load_refuses_what_it_cannot_hold():
    table = RoutingTable(1, DhtConfig(k=2))
    with pytest.raises(ValueError, match="exceeds k"):
        table.load([[object(), object(), object()]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="a table has 256"):
        table.load([None] * 257)
    table.load([None, None])
    assert len(table) == 0 and table.nonempty_buckets() == []


def test_top64_and_bad_fill():
    assert top64([(5 << 192) | 123, 1 << 255]).tolist() == [5, 1 << 63]
    with pytest.raises(ValueError, match="fill"):
        prefill_tables(object(), [], 0, seed=1)


def _first_refresh(seed: int, stagger: str) -> list[float]:
    """Each node's first refresh, as a fraction of the refresh interval after the prefill."""
    cfg = SimConfig(nodes=400, publishes=1, lookups=0, join="fast", seed=seed, stagger_jobs=stagger)
    engine, _pop, _factory = _network(cfg)
    interval = cfg.dht_config().refresh_interval
    return [(engine.nodes[i].jobs.t_refresh - START_TIME) / interval for i in range(cfg.nodes)]


def test_staggered_first_refresh_is_seeded_and_spread_over_one_interval():
    spread = _first_refresh(5, "on")
    assert spread == _first_refresh(5, "on")  # the run's seed decides it
    assert spread != _first_refresh(6, "on")
    assert all(0.0 <= u < 1.0 for u in spread)
    # uniform over the interval: Kolmogorov-Smirnov distance below its 0.1% critical value (1.95 / sqrt(n))
    xs = sorted(spread)
    n = len(xs)
    ks = max(max((i + 1) / n - x, x - i / n) for i, x in enumerate(xs))
    assert ks < 1.95 / n**0.5
    # without it, the whole network refreshes within 1 h +-10% of the start (the lockstep it removes)
    lockstep = _first_refresh(5, "off")
    assert all(0.9 <= u <= 1.1 for u in lockstep)
    assert not SimConfig(churn="none").staggered and SimConfig(churn="ipfs").staggered
    with pytest.raises(ValueError, match="stagger-jobs"):
        SimConfig(stagger_jobs="maybe").validate()
