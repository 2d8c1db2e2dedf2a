"""One simulation run: build N real DHT cores, join them, publish P signed intents, run L lookups.

Theory of operation
-------------------
``run_simulation(SimConfig)`` goes through five phases on one ``Engine`` (one virtual clock):

1. **setup** — keys (real identities for publishers), addresses, one ``dht.node.Node`` per simulated node;
2. **join** — ``protocol`` (every node runs the real bootstrap through random joined nodes, staggered)
   or ``fast`` (routing tables prefilled from the sorted id space, then a sample of nodes bootstraps);
3. **publish** — P real signed intents from random publisher nodes (``node.publish``);
4. **failures** — ``fail_fraction`` of all nodes die (they never answer again; their replicas are lost);
5. **lookups** — L ``get_records`` of published keys from random live nodes; success = the ``Found`` records
   contain the looked-up record.

Every random choice comes from an RNG derived from ``seed`` and a purpose, so a run is reproducible bit
for bit; only the machine figures (``metrics.MACHINE_KEYS``) change between runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dht.config import DhtConfig
from dht.node import Node
from sim.engine import Engine
from sim.latency import LatencyModel
from sim.metrics import mean, percentile, rounded, rss_bytes
from sim.network import LightRng, ProtocolJoin, derive_rng, fast_fill, node_addrs, node_id_int, node_seed
from sim.workload import DEFAULT_REGION, IntentFactory, Looker, Publisher
from wire.identity import Identity

#: Virtual clock origin (2026-09-20 UTC): records carry plausible unix times.
START_TIME = 1_790_000_000.0

JOIN_NOTES = {
    "protocol": "protocol join: every node bootstraps through random joined nodes with real lookups",
    "fast": "fast join: routing tables prefilled from the sorted id space (an oracle), then a sample "
    "of nodes bootstraps with real lookups; tables are fuller than a protocol join gives",
}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SimConfig:
    """Parameters of one run (see ``metaspace sim run --help``).

    Attributes:
        nodes, publishes, lookups: population and workload sizes.
        seed: the run's seed (every RNG is derived from it).
        loss: probability that one message (request or reply) is lost.
        fail_fraction: share of nodes that die after publishing, before the lookups.
        rtt_ms: median round-trip time (0 = instantaneous network); jitter: log-normal sigma per message.
        k, alpha: Kademlia parameters handed to ``DhtConfig``.
        join: "protocol" or "fast"; seeds: bootstrap seeds per joining node.
        join_interval, publish_interval, lookup_interval: virtual seconds between two starts.
        publishers: nodes with a real identity that publish (0 = min(nodes, publishes)).
        fast_fill: contacts per bucket in a fast join (0 = k); fast_bootstraps: nodes that then bootstrap
            (0 = min(100, max(10, nodes // 100))).
        dead_mode: "refused" (a request to a dead node fails after one RTT) or "silent" (core timeout).
        use_action: lookups ask with the intent's action as the server-side filter.
        dht: extra ``DhtConfig`` fields (e.g. {"get_quorum": 3}).
        region: (lat_min, lon_min, lat_max, lon_max) of the intents.
    """

    nodes: int = 1000
    publishes: int = 100
    lookups: int = 1000
    seed: int = 1
    loss: float = 0.0
    fail_fraction: float = 0.0
    rtt_ms: float = 50.0
    jitter: float = 0.2
    k: int = 20
    alpha: int = 3
    join: str = "protocol"
    seeds: int = 3
    join_interval: float = 0.02
    publish_interval: float = 0.01
    lookup_interval: float = 0.01
    publishers: int = 0
    fast_fill: int = 0
    fast_bootstraps: int = 0
    dead_mode: str = "refused"
    use_action: bool = True
    dht: dict[str, Any] = field(default_factory=dict)
    region: tuple[float, float, float, float] = DEFAULT_REGION

    def validate(self) -> None:
        """Raises ValueError with a one-line reason for a bad parameter."""
        if self.nodes < 2:
            raise ValueError("--nodes must be at least 2")
        if self.publishes < 0 or self.lookups < 0:
            raise ValueError("--publishes and --lookups must be >= 0")
        if self.lookups and not self.publishes:
            raise ValueError("lookups need at least one publish")
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("--loss must be in [0, 1)")
        if not 0.0 <= self.fail_fraction < 1.0:
            raise ValueError("--fail-fraction must be in [0, 1)")
        if self.rtt_ms < 0:
            raise ValueError("--rtt-ms must be >= 0")
        if self.join not in JOIN_NOTES:
            raise ValueError(f"--join must be one of {sorted(JOIN_NOTES)}")
        if not 1 <= self.alpha <= self.k <= 256:
            raise ValueError("need 1 <= alpha <= k <= 256")
        if self.seeds < 1:
            raise ValueError("seeds must be >= 1")
        if self.dead_mode not in ("refused", "silent"):
            raise ValueError("dead_mode must be 'refused' or 'silent'")


@dataclass
class SimResult:
    """What a run measured: the flat figures plus the raw distributions (for plots)."""

    config: SimConfig
    figures: dict[str, Any]
    lookup_hops: list[int]
    lookup_latency_ms: list[float]
    lookup_messages: list[int]
    publish_replicas: list[int]

    def to_dict(self) -> dict[str, Any]:
        """The figures as one JSON-ready dict."""
        return dict(self.figures)


def run_simulation(config: SimConfig, progress: Progress | None = None) -> SimResult:
    """Run one simulation (see the module docstring).

    Args:
        config: the run's parameters.
        progress: optional ``progress(phase, done, total)`` callback.

    Returns:
        The run's figures and distributions.

    Raises:
        ValueError: a bad parameter.
    """
    config.validate()
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    rss0 = rss_bytes()
    seed = config.seed
    n = config.nodes

    # ------------------------------------------------------------------------------------- setup
    latency = LatencyModel(derive_rng(seed, "latency"), config.rtt_ms, config.jitter)
    engine = Engine(latency, derive_rng(seed, "net"), config.loss, config.dead_mode, START_TIME)
    dht_fields = {"k": config.k, "alpha": config.alpha, **config.dht}
    dht_config = DhtConfig(**dht_fields)
    n_pub = config.publishers or min(n, max(1, config.publishes))
    n_pub = min(n_pub, n)
    pub_set = set(derive_rng(seed, "publishers").sample(range(n), n_pub))
    key_rng = derive_rng(seed, "keys")
    identities: dict[int, Identity] = {}
    ids: list[int] = []
    for i in range(n):
        if i in pub_set:
            ident = Identity(key_rng.randbytes(32))
            identities[i] = ident
            pubkey = ident.pubkey
        else:
            pubkey = key_rng.randbytes(32)
        node = Node(pubkey, node_addrs(i), dht_config, LightRng(node_seed(seed, i)))
        engine.add_node(node)
        ids.append(node_id_int(pubkey))
        if progress is not None and (i % 1000 == 0 or i == n - 1):
            progress("setup", i + 1, n)
    setup_wall = time.perf_counter() - wall0

    # -------------------------------------------------------------------------------------- join
    t_join = time.perf_counter()
    c_join = time.process_time()
    v_join = engine.now
    join_rng = derive_rng(seed, "join")
    fill_calls = 0
    if config.join == "protocol":
        order = list(range(n))
        join_rng.shuffle(order)
        joiner = ProtocolJoin(engine, order, join_rng, config.seeds, config.join_interval, progress)
    else:
        fill_calls = fast_fill(engine, ids, join_rng, config.fast_fill or config.k, progress)
        boots = config.fast_bootstraps or min(100, max(10, n // 100))
        sample = join_rng.sample(range(n), min(n, boots))
        in_sample = set(sample)
        others = [i for i in range(n) if i not in in_sample]
        joiner = ProtocolJoin(
            engine,
            sample,
            join_rng,
            config.seeds,
            config.join_interval,
            progress,
            "bootstrap",
            initial=others,
        )
    joiner.start()
    engine.run(stop=joiner.finished)
    join_msgs = engine.requests_sent
    join_wall = time.perf_counter() - t_join
    join_cpu = time.process_time() - c_join
    join_virtual = engine.now - v_join

    # ----------------------------------------------------------------------------------- publish
    t_pub = time.perf_counter()
    work_rng = derive_rng(seed, "workload")
    factory = IntentFactory(work_rng, config.region)
    publisher = Publisher(
        engine, factory, identities, config.publishes, work_rng, config.publish_interval, progress
    )
    publisher.start()
    engine.run(stop=publisher.finished)
    publish_wall = time.perf_counter() - t_pub
    publish_msgs = engine.requests_sent - join_msgs

    # ---------------------------------------------------------------------------------- failures
    killed = round(config.fail_fraction * n)
    if killed:
        for i in derive_rng(seed, "failures").sample(range(n), killed):
            engine.kill(i)

    # ----------------------------------------------------------------------------------- lookups
    t_look = time.perf_counter()
    c_look = time.process_time()
    msgs_before = engine.requests_sent
    looker = Looker(
        engine,
        publisher.published,
        engine.live_nodes(),
        config.lookups,
        work_rng,
        config.lookup_interval,
        config.use_action,
        progress,
    )
    looker.start()
    engine.run(stop=looker.finished)
    lookup_wall = time.perf_counter() - t_look
    lookup_cpu = time.process_time() - c_look
    lookup_net_msgs = engine.requests_sent - msgs_before

    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    rss = rss_bytes()
    stats = looker.stats
    looks = config.lookups
    table_sizes = _table_sizes(engine, derive_rng(seed, "sample"))
    figures: dict[str, Any] = {
        "nodes": n,
        "publishes": config.publishes,
        "lookups": looks,
        "seed": seed,
        "join": config.join,
        "join_note": JOIN_NOTES[config.join],
        "k": config.k,
        "alpha": config.alpha,
        "rtt_ms": config.rtt_ms,
        "loss": config.loss,
        "fail_fraction": config.fail_fraction,
        "killed": killed,
        "lookup_success": rounded(stats.found / looks, 6) if looks else None,
        "lookups_found": stats.found,
        "lookup_outcomes": dict(sorted(stats.outcomes.items())),
        "publish_ok": rounded(len(publisher.published) / config.publishes, 6) if config.publishes else None,
        "publish_replicas_p50": percentile(publisher.replicas, 50),
        "publish_replicas_min": min(publisher.replicas) if publisher.replicas else None,
        "publish_msgs_mean": rounded(mean(publisher.messages)),
        "hops_p50": percentile(stats.hops, 50),
        "hops_p95": percentile(stats.hops, 95),
        "hops_max": max(stats.hops) if stats.hops else None,
        "msgs_per_lookup": rounded(mean(stats.messages)),
        "net_msgs_per_lookup": rounded(lookup_net_msgs / looks) if looks else None,
        "latency_ms_p50": rounded(percentile(stats.latency_ms, 50)),
        "latency_ms_p90": rounded(percentile(stats.latency_ms, 90)),
        "latency_ms_p99": rounded(percentile(stats.latency_ms, 99)),
        "join_msgs_per_node": rounded(join_msgs / n),
        "join_failures": joiner.failed,
        "join_virtual_s": rounded(join_virtual),
        "fast_fill_calls": fill_calls,
        "publish_msgs": publish_msgs,
        "routing_table_p50": percentile(table_sizes, 50),
        "routing_table_min": min(table_sizes) if table_sizes else None,
        "messages": engine.requests_sent,
        "lost": engine.lost,
        "to_dead": engine.to_dead,
        "events": engine.events,
        "virtual_s": rounded(engine.now - START_TIME),
        "wall_s": round(wall, 3),
        "setup_wall_s": round(setup_wall, 3),
        "join_wall_s": round(join_wall, 3),
        "join_cpu_s": round(join_cpu, 3),
        "publish_wall_s": round(publish_wall, 3),
        "lookup_wall_s": round(lookup_wall, 3),
        "lookup_cpu_s": round(lookup_cpu, 3),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_lookup": round(1000 * lookup_cpu / looks, 4) if looks else None,
        "events_per_s": round(engine.events / wall, 1) if wall > 0 else None,
        "rss_mb": round(rss / 2**20, 1),
        "rss_per_node_kib": round((rss - rss0) / n / 1024, 2),
    }
    return SimResult(
        config=config,
        figures=figures,
        lookup_hops=list(stats.hops),
        lookup_latency_ms=list(stats.latency_ms),
        lookup_messages=list(stats.messages),
        publish_replicas=list(publisher.replicas),
    )


def _table_sizes(engine: Engine, rng: Any, sample: int = 200) -> list[int]:
    """Routing-table sizes of a sample of live nodes."""
    live = engine.live_nodes()
    picks = live if len(live) <= sample else rng.sample(live, sample)
    out = []
    for i in picks:
        table = getattr(engine.nodes[i], "table", None)
        if table is not None:
            out.append(len(table))
    return out


def config_from_dict(values: dict[str, Any]) -> SimConfig:
    """A SimConfig from a dict of its fields (unknown keys raise ValueError)."""
    names = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown SimConfig fields: {sorted(unknown)}")
    return SimConfig(**values)
