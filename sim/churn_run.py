"""A run under churn: N nodes over virtual hours, with the core's own periodic jobs, measured per window.

Theory of operation
-------------------
Setup and join are those of any run (``sim.population``, ``sim.network.join_network``). Then, for
``duration_h`` virtual hours:

* ``sim.churn.ChurnProcess`` ends sessions and brings nodes in (new identities, or old ones back);
* the nodes' own jobs run untouched: bucket refresh, record replication, republishing, hand-off;
* ``ChurnWorkload`` publishes ``publishes`` signed intents at evenly spaced times from random live
  publishers, and starts ``lookups`` GETs at evenly spaced times after the first window (warm-up), each
  from a random live honest node for a random live intent (published, not expired — whether or not its
  author is still online). An author that comes back republishes its live intents once it has joined.

Metrics are kept per window of ``sample_min`` minutes. An operation belongs to the window in which it
*started* (its outcome may arrive later: the run goes on for one lookup timeout after the end):

* ``availability`` — GETs that found the intent / GETs that ended (an operation whose node left before
  it ended is ``abandoned`` and counts for neither);
* lookup and publish latency p50/p90 (virtual ms), replicas reported by publishes;
* ``replicas_p50`` / ``replicas_p10`` — at the window's end, for up to ``replica_samples`` random live
  intents, how many of the k live honest nodes closest to the key hold it (the oracle; ProbeLab's
  anchor for IPFS provider records: a median of 18 of 20); over the whole run, ``record_availability``
  is the share of those samples with at least one such replica;
* ``msgs_per_node_h`` — requests sent in the window / mean live nodes / window length in hours;
* live nodes, departures and arrivals in the window.

A window's row is complete once its last operation can have ended (one lookup timeout plus one RPC
timeout after the window); ``on_window`` receives each row at that moment, so a long run's curve is
written as it goes (``metaspace sim run --windows-out``) and survives a run stopped before its end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from sim.churn import HOUR, ChurnProcess, LiveSet
from sim.config import JOIN_NOTES, SimConfig
from sim.engine import ABANDONED, Engine
from sim.metrics import mean, percentile, rounded, rss_bytes
from sim.network import derive_rng, engine_for, join_network
from sim.population import Oracle, Population
from sim.workload import IntentFactory, PublishedIntent
from wire.errors import LocalProtocolError

Progress = Callable[[str, int, int], None]
WindowSink = Callable[[dict[str, Any]], None]

#: The latency targets of issue 12 (virtual ms) and success floor.
TARGET_LOOKUP_P90_MS = 1000.0
TARGET_PUBLISH_P50_MS = 1000.0
TARGET_SUCCESS = 0.999


class ChurnWorkload:
    """Publishes and lookups over the run, recorded per operation (see the module docstring).

    Args:
        engine: the engine.
        pop: the population.
        factory: the intent factory.
        live: the live honest nodes.
        rng: the workload RNG.
        t0: the start of the measured run; window: its window length, s; windows: how many.
        publishes, lookups: operations over the run.
    """

    def __init__(
        self,
        engine: Engine,
        pop: Population,
        factory: IntentFactory,
        live: LiveSet,
        rng: Any,
        t0: float,
        window: float,
        windows: int,
        publishes: int,
        lookups: int,
    ) -> None:
        self.engine = engine
        self.pop = pop
        self.factory = factory
        self.live = live
        self.rng = rng
        self.t0 = t0
        self.window = window
        self.windows = windows
        self.publishes = publishes
        self.lookups = lookups
        self.intents: list[PublishedIntent] = []
        self.own: dict[int, list[bytes]] = {}  # author node -> its records (republished when it returns)
        # per operation: (window, latency ms, found, hops, messages) / (window, latency ms, replicas);
        # abandoned ones are only counted
        self.lookup_log: list[tuple[int, float, bool, int, int]] = []
        self.publish_log: list[tuple[int, float, int]] = []
        self.abandoned_lookups = 0
        self.abandoned_publishes = 0
        self.skipped_publishes = 0
        self.keys_published = 0  # keys of the intents handed to node.publish (> 1 each with extra_groups)

    def start(self) -> None:
        end = self.t0 + self.window * self.windows
        if self.publishes:
            step = (end - self.t0) / self.publishes
            for j in range(self.publishes):
                self.engine.schedule(self.t0 + (j + 0.5) * step, self._publish, None)
        if self.lookups:
            first = self.t0 + self.window if self.windows > 1 else self.t0
            step = (end - first) / self.lookups
            for j in range(self.lookups):
                self.engine.schedule(first + (j + 0.5) * step, self._lookup, None)

    def _window(self, t: float) -> int:
        return min(self.windows - 1, int((t - self.t0) / self.window))

    def _publish(self, _arg: Any) -> None:
        engine = self.engine
        identities = self.pop.identities
        author = -1
        for _ in range(64):
            i = self.live.pick(self.rng)
            if i in identities:
                author = i
                break
        if author < 0:
            self.skipped_publishes += 1
            return
        item = self.factory.make_published(identities[author], author, engine.now)
        record = item.record
        self.keys_published += len(item.all_keys)
        w = self._window(engine.now)

        def on_done(_node: int, result: Any, started: float) -> None:
            if result is ABANDONED:
                self.abandoned_publishes += 1
                return
            replicas = int(getattr(result, "replicas", 0) or 0)
            self.publish_log.append((w, (engine.now - started) * 1000.0, replicas))
            if replicas > 0:
                self.intents.append(item)

        self.own.setdefault(author, []).append(record)
        engine.start_op(author, lambda node, now: node.publish(record, now), on_done)

    def _lookup(self, _arg: Any) -> None:
        if not self.intents:
            return
        engine = self.engine
        target = self.intents[self.rng.randrange(len(self.intents))]
        searcher = self.live.pick(self.rng)
        key = target.lookup_key(self.rng)
        w = self._window(engine.now)

        def on_done(_node: int, result: Any, started: float) -> None:
            if result is ABANDONED:
                self.abandoned_lookups += 1
                return
            records = getattr(result, "records", None)
            found = records is not None and target.record in records
            hops = int(getattr(result, "hops", 0))
            msgs = int(getattr(result, "messages", 0))
            self.lookup_log.append((w, (engine.now - started) * 1000.0, found, hops, msgs))

        engine.start_op(searcher, lambda node, now: node.get_records(key, now, action=target.action), on_done)

    def on_joined(self, i: int, returning: bool) -> None:
        """A node finished joining: an author back with its old identity republishes its live intents."""
        if not returning:
            return
        for record in self.own.get(i, []):

            def republish(node: Any, t: float, record: bytes = record) -> int:
                return int(node.publish(record, t))

            try:
                self.engine.start_op(i, republish, _ignore)
            except LocalProtocolError:  # expired meanwhile
                continue


def _ignore(_i: int, _result: Any, _started: float) -> None:
    return None


def run_churn(
    config: SimConfig, progress: Progress | None, start_time: float, on_window: WindowSink | None = None
) -> Any:
    """Run ``config`` (with churn) and return its ``SimResult`` (figures + one dict per window).

    Args:
        config: a validated configuration whose ``churn`` is not "none".
        progress: ``progress(phase, done, total)``.
        start_time: the virtual clock's origin.
        on_window: called with each window's complete row (as in ``series``, plus ``window``, its index)
            as soon as the window's operations have all ended, in window order.
    """
    from sim.runner import SimResult

    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    seed = config.seed
    model = config.session_model
    engine = engine_for(config, start_time)
    work_rng = derive_rng(seed, "workload")
    factory = IntentFactory(work_rng, config.region, extra_share=config.extra_share)
    pop = Population.build(config, engine, factory, progress)
    joiner, _fill = join_network(config, engine, pop.ids, progress)
    join_msgs = engine.requests_sent
    join_wall = time.perf_counter() - wall0

    window = config.sample_min * 60.0
    windows = max(1, math.ceil(config.duration_h * HOUR / window - 1e-9))
    t0 = engine.now
    t_end = t0 + windows * window
    live = LiveSet(pop.honest_live())
    workload = ChurnWorkload(
        engine, pop, factory, live, work_rng, t0, window, windows, config.publishes, config.lookups
    )
    churn = ChurnProcess(
        model,
        engine,
        derive_rng(seed, "churn"),
        live,
        pop,
        target=len(live),
        same_id=config.same_id,
        seeds=config.seeds,
        until=t_end,
        on_joined=workload.on_joined,
    )
    churn.start()
    workload.start()
    oracle = Oracle(pop)
    sample_rng = derive_rng(seed, "replicas")
    series: list[dict[str, Any]] = []
    msgs_before = engine.requests_sent
    live_before = sum(engine.alive)
    churn_before = churn.statistics()
    replicas_all: list[int] = []
    drain = pop.dht_config.lookup_timeout + pop.dht_config.rpc_timeout
    sent_rows = 0  # rows handed to ``on_window``; row i is complete at t0 + (i + 1) * window + drain
    by_window = _ByWindow(workload)

    def flush(sink: WindowSink) -> None:  # hand out the rows whose operations have all ended by now
        nonlocal sent_rows
        while sent_rows < len(series) and t0 + (sent_rows + 1) * window + drain <= engine.now:
            _fill_row(series[sent_rows], *by_window.take(sent_rows))  # complete: filled once, here
            sink({"window": sent_rows, **series[sent_rows]})
            sent_rows += 1

    for w in range(windows):
        end = t0 + (w + 1) * window
        if on_window is not None and sent_rows < w:  # the previous row completes within this window
            engine.run(until=min(end, t0 + w * window + drain))  # same events, same order: a pause only
            flush(on_window)
        engine.run(until=end)
        live_now = sum(engine.alive)
        stats = churn.statistics()
        replicas: list[int] = []
        if config.replica_samples and workload.intents:
            oracle.snapshot()
            picks = [
                workload.intents[sample_rng.randrange(len(workload.intents))]
                for _ in range(config.replica_samples)
            ]
            replicas = [oracle.holders(p.key, p.record, config.k, engine.now) for p in picks]
            replicas_all.extend(replicas)
        sent = engine.requests_sent - msgs_before
        mean_live = (live_now + live_before) / 2 or 1
        series.append(
            {
                "t_h": rounded((w + 1) * window / HOUR, 4),
                "live_nodes": live_now,
                "live_honest": len(live),
                "departures": stats["departures"] - churn_before["departures"],
                "arrivals": stats["arrivals_new_id"]
                + stats["arrivals_same_id"]
                - churn_before["arrivals_new_id"]
                - churn_before["arrivals_same_id"],
                "live_intents": len(workload.intents),
                "replicas_p50": percentile(replicas, 50),
                "replicas_p10": percentile(replicas, 10),
                "replicas_zero": sum(1 for r in replicas if r == 0),
                "msgs_per_node_h": rounded(sent / mean_live / (window / HOUR), 1),
            }
        )
        msgs_before, live_before, churn_before = engine.requests_sent, live_now, stats
        if on_window is not None:
            flush(on_window)
        if progress is not None:
            progress("churn", w + 1, windows)
    engine.run(until=t_end + drain)  # let the last operations end (they belong to their start window)
    if on_window is not None:
        flush(on_window)
    for w in range(sent_rows, len(series)):  # the rows no sink was handed
        _fill_row(series[w], *by_window.take(w))

    found = [x for x in workload.lookup_log if x[2]]
    looks = len(workload.lookup_log)
    lat = [x[1] for x in workload.lookup_log]
    pub_lat = [x[1] for x in workload.publish_log]
    pub_rep = [x[2] for x in workload.publish_log]
    avail = [w["availability"] for w in series if w["availability"] is not None]
    success = len(found) / looks if looks else None
    lat_p90 = percentile(lat, 90)
    pub_p50 = percentile(pub_lat, 50)
    started = config.publishes - workload.skipped_publishes
    wall = time.perf_counter() - wall0
    figures: dict[str, Any] = {
        "nodes": config.nodes,
        "publishes": config.publishes,
        "lookups": config.lookups,
        "seed": seed,
        "join": config.join,
        "join_note": JOIN_NOTES[config.join],
        "k": config.k,
        "alpha": config.alpha,
        "rtt_ms": config.rtt_ms,
        "loss": config.loss,
        "dead_mode": config.dead_mode,
        "unreachable_mode": config.unreachable,
        "churn": config.churn,
        "churn_model": model.describe(),
        "stagger_jobs": config.join == "fast" and config.staggered,
        "duration_h": config.duration_h,
        "sample_min": config.sample_min,
        "same_id": config.same_id,
        "malicious": config.malicious,
        "attack": config.attack,
        "extra_share": config.extra_share,
        "disjoint_paths": config.dht.get("disjoint_paths"),
        **pop.statistics(),
        **churn.statistics(),
        "lookup_success": rounded(success, 6),
        "lookups_done": looks,
        "lookups_abandoned": workload.abandoned_lookups,
        "availability_mean": rounded(mean(avail), 6),
        "availability_min": rounded(min(avail), 6) if avail else None,
        "latency_ms_p50": rounded(percentile(lat, 50)),
        "latency_ms_p90": rounded(lat_p90),
        "latency_ms_p99": rounded(percentile(lat, 99)),
        "hops_p50": percentile([x[3] for x in workload.lookup_log], 50),
        "hops_p95": percentile([x[3] for x in workload.lookup_log], 95),
        "publish_ok": rounded(sum(1 for r in pub_rep if r) / len(pub_rep), 6) if pub_rep else None,
        "publish_latency_ms_p50": rounded(pub_p50),
        "publish_latency_ms_p90": rounded(percentile(pub_lat, 90)),
        "publish_replicas_p50": percentile(pub_rep, 50),
        "publishes_abandoned": workload.abandoned_publishes,
        "keys_per_publish": rounded(workload.keys_published / started, 4) if started else None,
        "msgs_per_lookup": rounded(mean([x[4] for x in workload.lookup_log])),
        "record_availability": rounded(sum(1 for r in replicas_all if r) / len(replicas_all), 6)
        if replicas_all
        else None,
        "honest_replicas_p50": percentile(replicas_all, 50),
        "replicas_p50": percentile(replicas_all, 50),
        "replicas_p10": percentile(replicas_all, 10),
        "msgs_per_node_h": rounded(mean([w["msgs_per_node_h"] for w in series])),
        "live_nodes_min": min(w["live_nodes"] for w in series),
        "live_nodes_max": max(w["live_nodes"] for w in series),
        "join_msgs_per_node": rounded(join_msgs / config.nodes),
        "join_failures": joiner.failed,
        "targets": {
            "lookup_p90_lt_1s": lat_p90 is not None and lat_p90 < TARGET_LOOKUP_P90_MS,
            "publish_p50_lt_1s": pub_p50 is not None and pub_p50 < TARGET_PUBLISH_P50_MS,
            "success_ge_99_9": success is not None and success >= TARGET_SUCCESS,
        },
        "messages": engine.requests_sent,
        "lost": engine.lost,
        "to_dead": engine.to_dead,
        "unreachable": engine.unreachable,
        "requests_by_type": engine.by_type,
        "events": engine.events,
        "virtual_s": rounded(engine.now - start_time),
        "wall_s": round(wall, 3),
        "join_wall_s": round(join_wall, 3),
        "cpu_s": round(time.process_time() - cpu0, 3),
        "events_per_s": round(engine.events / wall, 1) if wall > 0 else None,
        "rss_mb": round(rss_bytes() / 2**20, 1),
    }
    return SimResult(
        config=config,
        figures=figures,
        lookup_hops=[x[3] for x in workload.lookup_log],
        lookup_latency_ms=lat,
        lookup_messages=[x[4] for x in workload.lookup_log],
        publish_replicas=pub_rep,
        series=series,
    )


class _ByWindow:
    """The workload's lookup and publish logs grouped by start window, each entry read once as the logs grow
    (a row's figures used to rescan both whole logs: quadratic in a long run)."""

    def __init__(self, workload: ChurnWorkload) -> None:
        self._workload = workload
        self._read = (0, 0)  # entries of (lookup_log, publish_log) already grouped
        self._looks: dict[int, list[tuple[float, bool]]] = {}
        self._pubs: dict[int, list[float]] = {}

    def take(self, w: int) -> tuple[list[tuple[float, bool]], list[float]]:
        """Window ``w``'s (lookup latency, found) pairs and publish latencies, handed out once."""
        looks, pubs = self._workload.lookup_log, self._workload.publish_log
        for v, ms, found, _hops, _msgs in looks[self._read[0] :]:
            self._looks.setdefault(v, []).append((ms, found))
        for v, ms, _replicas in pubs[self._read[1] :]:
            self._pubs.setdefault(v, []).append(ms)
        self._read = (len(looks), len(pubs))
        return self._looks.pop(w, []), self._pubs.pop(w, [])


def _fill_row(row: dict[str, Any], looks: list[tuple[float, bool]], pubs: list[float]) -> None:
    """Add a window's lookup and publish figures to ``row`` (``_ByWindow.take``)."""
    lat = [ms for ms, _ in looks]
    row["lookups"] = len(looks)
    row["availability"] = rounded(sum(1 for _, f in looks if f) / len(looks), 6) if looks else None
    row["lookup_ms_p50"] = rounded(percentile(lat, 50))
    row["lookup_ms_p90"] = rounded(percentile(lat, 90))
    row["publish_ms_p50"] = rounded(percentile(pubs, 50))
    row["publish_ms_p90"] = rounded(percentile(pubs, 90))
