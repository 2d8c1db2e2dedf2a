"""One simulation run: build N real DHT cores, join them, publish P signed intents, run L lookups.

Theory of operation
-------------------
``run_simulation(SimConfig)`` hands a run with churn to ``sim.churn_run`` (a run over virtual hours with
metrics per window); any other run goes through five phases on one ``Engine`` (one virtual clock):

1. **setup** — keys (real identities for publishers), addresses, one ``dht.node.Node`` per simulated node,
   and the attacker's hostile cores when ``malicious > 0`` (``sim.population``, ``sim.adversary``);
2. **join** — ``protocol`` (every node runs the real bootstrap through random joined nodes, staggered)
   or ``fast`` (converged routing tables from ``sim.prefill``, then a sample of nodes bootstraps);
3. **publish** — P real signed intents from random honest publisher nodes (``node.publish``); with
   ``extra_share`` that share of them also names an extra taxonomy group and is stored under two keys
   (``keys_per_publish``, ``publish_msgs_per_publish`` measure the cost);
4. **failures** — ``fail_fraction`` of all nodes die (they never answer again; their replicas are lost);
5. **lookups** — L ``get_records`` of published keys from random live honest nodes; success = the ``Found``
   records contain the looked-up record. Then the oracle counts, for every published record, the live
   honest nodes among the k closest to its key that hold it (``record_availability``: at least one).

Every random choice comes from an RNG derived from ``seed`` and a purpose, so a run is reproducible bit
for bit; only the machine figures (``metrics.MACHINE_KEYS``) change between runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.config import JOIN_NOTES, SimConfig, config_from_dict
from sim.engine import Engine
from sim.metrics import mean, peak_rss_bytes, percentile, rounded, rss_bytes
from sim.network import derive_rng, engine_for, join_network
from sim.population import Oracle, Population
from sim.workload import IntentFactory, Looker, Publisher

if TYPE_CHECKING:
    from sim.churn_run import WindowSink

__all__ = ["START_TIME", "SimConfig", "SimResult", "config_from_dict", "run_simulation"]

#: Virtual clock origin (2026-09-20 UTC): records carry plausible unix times.
START_TIME = 1_790_000_000.0

Progress = Callable[[str, int, int], None]


@dataclass
class SimResult:
    """What a run measured: the flat figures plus the raw distributions (for plots).

    ``series`` holds one dict per metrics window of a churn run (empty otherwise).
    """

    config: SimConfig
    figures: dict[str, Any]
    lookup_hops: list[int]
    lookup_latency_ms: list[float]
    lookup_messages: list[int]
    publish_replicas: list[int]
    series: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The figures as one JSON-ready dict (a churn run's windows under ``series``)."""
        out = dict(self.figures)
        if self.series:
            out["series"] = [dict(w) for w in self.series]
        return out


def run_simulation(
    config: SimConfig,
    progress: Progress | None = None,
    on_window: WindowSink | None = None,
) -> SimResult:
    """Run one simulation (see the module docstring).

    Args:
        config: the run's parameters.
        progress: optional ``progress(phase, done, total)`` callback.
        on_window: a churn run's sink of window rows, each as soon as it is complete (``sim.churn_run``).

    Returns:
        The run's figures and distributions.

    Raises:
        ValueError: a bad parameter.
    """
    config.validate()
    if config.session_model.enabled:
        from sim.churn_run import run_churn

        return run_churn(config, progress, START_TIME, on_window)
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    rss0 = rss_bytes()
    seed = config.seed
    n = config.nodes

    # ------------------------------------------------------------------------------------- setup
    engine = engine_for(config, START_TIME)
    work_rng = derive_rng(seed, "workload")
    factory = IntentFactory(work_rng, config.region, extra_share=config.extra_share)
    pop = Population.build(config, engine, factory, progress)
    ids = pop.ids
    setup_wall = time.perf_counter() - wall0
    rss_at = {"setup": rss_bytes()}

    # -------------------------------------------------------------------------------------- join
    t_join = time.perf_counter()
    c_join = time.process_time()
    v_join = engine.now
    joiner, prefill = join_network(config, engine, ids, progress)
    join_msgs = engine.requests_sent
    join_wall = time.perf_counter() - t_join
    join_cpu = time.process_time() - c_join
    join_virtual = engine.now - v_join
    rss_at["join"] = rss_bytes()

    # ----------------------------------------------------------------------------------- publish
    t_pub = time.perf_counter()
    c_pub = time.process_time()
    publisher = Publisher(
        engine, factory, pop.identities, config.publishes, work_rng, config.publish_interval, progress
    )
    publisher.start()
    engine.run(stop=publisher.finished)
    if config.extra_share:  # the extra keys' publishes are not reported: count their last messages here
        engine.run(until=engine.now + pop.dht_config.lookup_timeout, stop=publisher.settled)
    publish_wall = time.perf_counter() - t_pub
    publish_cpu = time.process_time() - c_pub
    rss_at["publish"] = rss_bytes()
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
        pop.honest_live(),
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
    rss_at["lookup"] = rss_bytes()
    oracle = Oracle(pop)
    holders = [oracle.holders(p.key, p.record, config.k, engine.now) for p in publisher.published]

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
        "dead_mode": config.dead_mode,
        "unreachable_mode": config.unreachable,
        "killed": killed,
        "malicious": config.malicious,
        "attack": config.attack,
        "extra_share": config.extra_share,
        "disjoint_paths": config.dht.get("disjoint_paths"),
        **pop.statistics(),
        "lookup_success": rounded(stats.found / looks, 6) if looks else None,
        "lookups_found": stats.found,
        "lookup_outcomes": dict(sorted(stats.outcomes.items())),
        "record_availability": rounded(sum(1 for h in holders if h) / len(holders), 6) if holders else None,
        "honest_replicas_p50": percentile(holders, 50),
        "publish_ok": rounded(len(publisher.published) / config.publishes, 6) if config.publishes else None,
        "publish_replicas_p50": percentile(publisher.replicas, 50),
        "publish_replicas_min": min(publisher.replicas) if publisher.replicas else None,
        "publish_msgs_mean": rounded(mean(publisher.messages)),
        "publish_latency_ms_p50": rounded(percentile(publisher.latency_ms, 50)),
        "publish_latency_ms_p90": rounded(percentile(publisher.latency_ms, 90)),
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
        **(prefill.to_dict() if prefill is not None else {}),
        "publish_msgs": publish_msgs,
        "keys_per_publish": rounded(publisher.keys_published / config.publishes, 4)
        if config.publishes
        else None,
        "publish_msgs_per_publish": rounded(publish_msgs / config.publishes) if config.publishes else None,
        "routing_table_p50": percentile(table_sizes, 50),
        "routing_table_min": min(table_sizes) if table_sizes else None,
        "messages": engine.requests_sent,
        "lost": engine.lost,
        "to_dead": engine.to_dead,
        "unreachable": engine.unreachable,
        "requests_by_type": engine.by_type,
        "events": engine.events,
        "virtual_s": rounded(engine.now - START_TIME),
        "wall_s": round(wall, 3),
        "setup_wall_s": round(setup_wall, 3),
        "join_wall_s": round(join_wall, 3),
        "join_cpu_s": round(join_cpu, 3),
        "publish_wall_s": round(publish_wall, 3),
        "publish_cpu_s": round(publish_cpu, 3),
        "lookup_wall_s": round(lookup_wall, 3),
        "lookup_cpu_s": round(lookup_cpu, 3),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_lookup": round(1000 * lookup_cpu / looks, 4) if looks else None,
        "events_per_s": round(engine.events / wall, 1) if wall > 0 else None,
        "rss_mb": round(rss / 2**20, 1),
        **{f"{phase}_rss_mb": round(v / 2**20, 1) for phase, v in rss_at.items()},
        "peak_rss_mb": round(peak_rss_bytes() / 2**20, 1),
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
