"""The cost of watching (issue 12 item 8): agents polling their key cells vs replicas pushing to subscribers.

Theory of operation
-------------------
An agent finds matches by **polling**: every live intent re-reads each key cell within its radius every
``poll_s`` (30 s): one DHT GET per (intent, key cell). The alternative modelled beside it is **push**: the
intent *subscribes* once per ``renew_s`` to each of its keys (a lookup, then SUBSCRIBE to the key's
``sub_replicas`` closest nodes, which answer with the records they hold, so a renewal also catches what a
notification missed); when a record is stored at a key, the ``notify_replicas`` closest replicas holding
it notify every subscriber watching the opposite action, with at most one notification per subscriber per
``batch_s`` (0: one per record). A node holds at most ``sub_cap`` subscriptions per key; subscribers beyond
the cap poll.

The network-level workload is far too large to run message by message (10^6 intents x 19 key cells / 30 s
= 6 x 10^5 GETs per virtual second), so the model has two levels:

1. **Calibration on the real core** (``calibrate``): a ``run_simulation``-style network of
   ``calib_nodes`` real ``dht.Node`` cores (fast join), ``calib_gets`` GETs run one at a time: messages
   per GET, the probability that the r-th closest node to the key receives a request of a GET (rank
   ``0..k-1``), GET and publish latency (virtual), messages per publish. Nothing here is assumed.
2. **The workload at scale** (``run_watch``, numpy): N node ids and M intents; each intent gets a taxonomy
   group and a place (a key cell of the area, ``area_km`` around New York) drawn from Zipf laws (exponents
   ``zipf_groups`` / ``zipf_places`` over a random ranking), an action (buy / sell, half each), and watches
   the keys ``intent_key(group, cell)`` of every key cell within ``radius_km`` of its place
   (``dht.keys.cells_within``, the agent's own rule). The k closest node ids of every watched key are
   found exactly (sorted ids, a window around the key, XOR order). Loads follow: a GET of key K costs the
   calibrated messages, of which rank r of K's closest nodes receives ``hits[r]``, the rest spread evenly;
   a publish costs the calibrated publish messages; push costs as above. New intents arrive at
   ``M / intent_life_h`` per hour, each published once at its place's key.
3. **Churn** (``push_churn``): a subscription lives in the memory of the nodes that took it: a node that
   left (or came back with a fresh core) has lost it. Monte Carlo over a key's neighbourhood under the run's
   session model (stationary Weibull / exponential sessions, Poisson arrivals): at a random publish time t
   with the subscriber's last renewal at ``t - U(0, renew_s)``, the notification is missed if none of the
   ``notify_replicas`` closest live nodes at t took the subscription then and stayed up since. A miss is
   caught at the next renewal. Polling under churn: each GET finds the record with the availability
   ``poll_availability`` (measured by a churn run, ``docs/simulation.md``); a miss waits for the next poll.

Figures: RPCs per node per hour (mean, p50, p99, max: requests received + sent, each request counted once
in the mean), the hottest key's watchers and the load on its busiest replica (RPC/s), time from publish to
match (p50, p90, p99, virtual seconds), missed notifications under churn, for both models.

Not modelled: the matching itself (any record of the opposite action at a watched key counts as a match),
agents that watch with several intents on one key (each intent polls), bandwidth (a notification carries
the record, a GET reply carries every record of the key), NAT (a subscriber behind NAT needs a relay or
a held connection to be notified), an attacker flooding subscriptions (the cap bounds it).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np

from dht.keys import KEY_RES, cells_within, intent_key
from sim.churn import SessionModel, parse_churn
from wire.geo import cell_at
from wire.taxonomy import category_codes

#: Centre of the area the places are drawn in (New York City).
AREA_CENTRE = (40.7, -74.0)
#: Ids are compared on their top 64 bits, as in the rest of the simulator.
MASK64 = (1 << 64) - 1


@dataclass
class WatchConfig:
    """Parameters of a watch-cost run (see the module docstring).

    Attributes:
        nodes, intents: N and M. seed: the RNG seed. k: replicas per key.
        poll_s: polling period. radius_km: watch radius. area_km: radius of the area places lie in.
        zipf_groups, zipf_places: Zipf exponents of group and place popularity (0: uniform).
        intent_life_h: mean life of an intent (new intents arrive at M / life).
        renew_s: push subscription renewal. sub_replicas: nodes holding a subscription.
        notify_replicas: closest replicas of a stored record that notify. batch_s: notification batching.
        sub_cap: subscriptions a node holds per key. churn: session model spec ("none", "ipfs", ...).
        poll_availability: probability that a GET under churn finds a stored record.
        calib_nodes, calib_gets: the real-core calibration run. churn_samples: Monte Carlo publishes.
    """

    nodes: int = 100_000
    intents: int = 1_000_000
    seed: int = 1
    k: int = 20
    poll_s: float = 30.0
    radius_km: float = 50.0
    area_km: float = 700.0
    zipf_groups: float = 1.0
    zipf_places: float = 1.0
    intent_life_h: float = 24.0
    renew_s: float = 600.0
    sub_replicas: int = 20
    notify_replicas: int = 3
    batch_s: float = 0.0
    sub_cap: int = 10_000
    churn: str = "ipfs"
    poll_availability: float = 1.0
    calib_nodes: int = 2000
    calib_gets: int = 400
    churn_samples: int = 20_000

    def validate(self) -> None:
        """Refuse impossible parameters before any work starts.

        Raises:
            ValueError: with a one-line reason.
        """
        if self.k < 1:
            raise ValueError(f"k must be >= 1 (got {self.k})")
        if self.nodes < self.k or self.intents < 1:
            raise ValueError(f"need nodes >= k ({self.k}) and intents >= 1")
        if not 1 <= self.notify_replicas <= self.sub_replicas <= self.k:
            raise ValueError("need 1 <= notify_replicas <= sub_replicas <= k")
        if min(self.poll_s, self.radius_km, self.area_km, self.intent_life_h, self.renew_s) <= 0:
            raise ValueError("poll_s, radius_km, area_km, intent_life_h and renew_s must be > 0")
        if self.batch_s < 0 or self.sub_cap < 1 or min(self.zipf_groups, self.zipf_places) < 0:
            raise ValueError("batch_s and the Zipf exponents must be >= 0, sub_cap >= 1")
        if not 0 < self.poll_availability <= 1:
            raise ValueError("poll_availability must be in (0, 1]")
        if self.calib_nodes < 2 * self.k or self.calib_gets < 1 or self.churn_samples < 1:
            raise ValueError("need calib_nodes >= 2k, calib_gets >= 1, churn_samples >= 1")
        if self.area_km < self.radius_km:
            raise ValueError("area_km must be >= radius_km")
        parse_churn(self.churn)


@dataclass
class Calibration:
    """What one GET and one publish cost on the real core (see ``calibrate``)."""

    nodes: int
    msgs_per_get: float
    hits: list[float]  # by rank of closeness to the key: P(the node receives a request of a GET)
    get_ms: list[float]  # GET latencies, virtual ms
    publish_ms: list[float]
    msgs_per_publish: float
    rtt_ms: float


def calibrate(config: WatchConfig, progress: Any = None) -> Calibration:
    """Measure GET and publish costs on ``calib_nodes`` real cores (fast join, no loss, 50 ms RTT).

    Args:
        config: the run (``calib_nodes``, ``calib_gets``, ``k``, ``seed``).
        progress: optional ``progress(phase, done, total)``.
    Returns:
        The calibration.
    """
    from sim.config import SimConfig
    from sim.engine import Engine
    from sim.network import derive_rng, engine_for, join_network
    from sim.population import Oracle, Population
    from sim.runner import START_TIME
    from sim.workload import IntentFactory, Publisher

    class CountingEngine(Engine):
        """Counts the requests each node receives."""

        received: dict[int, int]

        def _on_request(self, src: int, dst: int, msg: Any) -> None:
            self.received[dst] = self.received.get(dst, 0) + 1
            super()._on_request(src, dst, msg)

    sim = SimConfig(
        nodes=config.calib_nodes, publishes=50, lookups=1, seed=config.seed, join="fast", k=config.k
    )
    sim.validate()
    engine = cast(CountingEngine, engine_for(sim, START_TIME, CountingEngine))  # loss 0: the default
    engine.received = {}
    factory = IntentFactory(derive_rng(sim.seed, "workload"), sim.region)
    pop = Population.build(sim, engine, factory)
    join_network(sim, engine, pop.ids)
    rng = derive_rng(sim.seed, "watch-calibration")
    pub = Publisher(engine, factory, pop.identities, sim.publishes, rng, interval=5.0)
    before = engine.requests_sent
    pub.start()
    engine.run(stop=pub.finished)
    msgs_per_publish = (engine.requests_sent - before) / max(1, sim.publishes)
    oracle = Oracle(pop)
    hits = np.zeros(config.k)
    msgs = 0
    get_ms: list[float] = []
    live = pop.honest_live()
    for g in range(config.calib_gets):
        target = pub.published[rng.randrange(len(pub.published))]
        closest = oracle.closest(target.key, config.k)
        asker = live[rng.randrange(len(live))]
        engine.received = {}
        done: list[float] = []

        def on_done(_node: int, _result: Any, started: float, done: list[float] = done) -> None:
            done.append((engine.now - started) * 1000.0)

        def start(node: Any, now: float, key: bytes = target.key) -> int:
            return int(node.get_records(key, now))

        def finished(done: list[float] = done) -> bool:
            return bool(done)

        sent = engine.requests_sent
        engine.start_op(asker, start, on_done)
        engine.run(stop=finished)
        msgs += engine.requests_sent - sent
        get_ms.append(done[0])
        for r, node in enumerate(closest):
            if node != asker and engine.received.get(node):
                hits[r] += 1
        if progress is not None and (g + 1) % 100 == 0:
            progress("calibrate", g + 1, config.calib_gets)
    return Calibration(
        nodes=config.calib_nodes,
        msgs_per_get=msgs / config.calib_gets,
        hits=(hits / config.calib_gets).tolist(),
        get_ms=get_ms,
        publish_ms=list(pub.latency_ms),
        msgs_per_publish=msgs_per_publish,
        rtt_ms=sim.rtt_ms,
    )


def zipf_draw(rng: np.random.Generator, n: int, exponent: float, size: int) -> np.ndarray:
    """``size`` draws of ranks 0..n-1 with P(rank r) proportional to (r + 1) ** -exponent."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    return rng.choice(n, size=size, p=weights / weights.sum())


def closest_nodes(sorted_ids: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """The sorted positions of the k nodes XOR-closest to each key (rows), closest first.

    The k closest ids share the key's longest prefixes, so they lie within the sorted ids around the key's
    insertion point; a window of 4k on each side holds them unless the ids are very unevenly spread.
    """
    n = len(sorted_ids)
    w = min(n, 8 * k)
    pos = np.searchsorted(sorted_ids, keys)
    lo = np.clip(pos - w // 2, 0, n - w)
    window = lo[:, None] + np.arange(w)[None, :]
    dist = sorted_ids[window] ^ keys[:, None]
    part = np.argsort(dist, axis=1)[:, :k]
    return np.take_along_axis(window, part, axis=1)


def push_churn(config: WatchConfig, model: SessionModel, rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo (see the module docstring): for sampled publishes, True where the notification is missed.

    A key's neighbourhood holds on average ``4 k`` live nodes at uniform random XOR ranks; nodes arrive as a
    Poisson process and stay for a session of ``model``; the nodes present at the start have residual
    sessions. Returns one bool per sample.
    """
    samples = config.churn_samples
    if not model.enabled:
        return np.zeros(samples, dtype=bool)
    mean_s = model.mean_s
    local = 4 * config.k
    horizon = config.renew_s
    # per sample: the nodes alive at some time in [t - horizon, t]: those of a stationary population at
    # t - horizon (residual sessions), plus arrivals in the window
    arrivals = rng.poisson(local * horizon / mean_s, size=samples)
    missed = np.zeros(samples, dtype=bool)
    q = config.notify_replicas
    kk = config.sub_replicas
    for s in range(samples):
        start_n = rng.poisson(local)
        m = start_n + int(arrivals[s])
        rank = rng.random(m)
        born = np.concatenate([np.zeros(start_n), rng.random(int(arrivals[s])) * horizon])
        life = np.concatenate([_residual(model, rng, start_n), _sessions(model, rng, int(arrivals[s]))])
        dies = born + life
        t = horizon
        renew = t - rng.random() * horizon
        up_at_renew = (born <= renew) & (dies > renew)
        took = np.zeros(m, dtype=bool)
        idx = np.flatnonzero(up_at_renew)
        took[idx[np.argsort(rank[idx])[:kk]]] = True  # the sub_replicas closest then took the subscription
        up_now = (born <= t) & (dies > t)
        now_idx = np.flatnonzero(up_now)
        notifiers = now_idx[np.argsort(rank[now_idx])[:q]]
        missed[s] = not took[notifiers].any()
    return missed


def _sessions(model: SessionModel, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` session lengths of ``model`` (seconds)."""
    return model.scale_s * rng.weibull(model.shape, count)


def _residual(model: SessionModel, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` residual sessions of nodes alive in the steady state (``SessionModel.draw_residual``)."""
    c = model.shape
    return model.scale_s * rng.gamma(1.0 + 1.0 / c, 1.0, count) ** (1.0 / c) * rng.random(count)


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def run_watch(config: WatchConfig, calib: Calibration | None = None, progress: Any = None) -> dict[str, Any]:
    """Poll vs push at scale (see the module docstring).

    Args:
        config: the run.
        calib: a calibration (measured now if None).
        progress: optional ``progress(phase, done, total)``.
    Returns:
        The figures, one flat-ish dict (``poll_*``, ``push_*``, the calibration and the workload).
    Raises:
        ValueError: a bad parameter.
    """
    config.validate()
    wall0 = time.perf_counter()
    if calib is None:
        calib = calibrate(config, progress)
    rng = np.random.default_rng([config.seed, 0x3A7C])
    k = config.k
    # ------------------------------------------------------------------ places, groups, watched keys
    groups = sorted({code.split("/", 1)[0] for code in category_codes()})
    centre = cell_at(AREA_CENTRE[0], AREA_CENTRE[1], KEY_RES)
    places = cells_within(centre, config.area_km)
    rng.shuffle(places)  # a random popularity ranking
    gs = np.array(groups, dtype=object)
    rng.shuffle(gs)
    groups = list(gs)
    m = config.intents
    g_of = zipf_draw(rng, len(groups), config.zipf_groups, m)
    p_of = zipf_draw(rng, len(places), config.zipf_places, m)
    sell = rng.random(m) < 0.5
    place_index = {c: i for i, c in enumerate(places)}
    # watched cells of each place (only cells of the area hold intents; the others are watched too)
    nbr = [cells_within(c, config.radius_km) for c in places]
    cells = list(dict.fromkeys(c for cs in nbr for c in cs))
    cell_index = {c: i for i, c in enumerate(cells)}
    n_g, n_p, n_c = len(groups), len(places), len(cells)
    # intents per (group, place, side)
    count = np.zeros((n_g, n_p, 2), dtype=np.int64)
    np.add.at(count, (g_of, p_of, sell.astype(np.int64)), 1)
    # watchers per (group, cell, side watched): an intent on side s watches records of side 1 - s
    watchers = np.zeros((n_g, n_c, 2), dtype=np.int64)
    for p, cs in enumerate(nbr):
        idx = [cell_index[c] for c in cs]
        watchers[:, idx, 0] += count[:, p, 1][:, None]  # sellers watch buy records
        watchers[:, idx, 1] += count[:, p, 0][:, None]
    # records stored per (group, cell, side): intents placed there
    stored = np.zeros((n_g, n_c, 2), dtype=np.int64)
    for p, c in enumerate(places):
        stored[:, cell_index[c], :] += count[:, p, :]
    cells_per_intent = float(np.mean([len(nbr[p]) for p in p_of[: min(m, 100_000)]]))
    del place_index
    # only keys someone watches or stores at
    w_key = watchers.sum(axis=2)
    live_keys = np.argwhere((w_key > 0) | (stored.sum(axis=2) > 0))
    key_ids = np.fromiter(
        (int.from_bytes(intent_key(groups[g], cells[c])[:8], "big") for g, c in live_keys),
        dtype=np.uint64,
        count=len(live_keys),
    )
    W = watchers[live_keys[:, 0], live_keys[:, 1], :]  # (keys, side watched)
    S = stored[live_keys[:, 0], live_keys[:, 1], :]
    # ------------------------------------------------------------------------ nodes and placement
    node_ids = np.sort(
        np.frombuffer(
            hashlib.shake_256(config.seed.to_bytes(8, "big") + b"watch-nodes").digest(8 * config.nodes),
            dtype=">u8",
        ).astype(np.uint64)
    )
    closest = closest_nodes(node_ids, key_ids, k)  # (keys, k) sorted positions
    n = config.nodes
    hours = 3600.0
    hits = np.asarray(calib.hits)
    per_get_replica = float(hits.sum())
    per_get_spread = max(0.0, calib.msgs_per_get - per_get_replica)
    new_per_s = S.sum(axis=1) / (config.intent_life_h * hours)  # records stored per second per key
    # ---------------------------------------------------------------------------------- polling
    gets_per_s = W.sum(axis=1) / config.poll_s
    poll_load = np.zeros(n)
    np.add.at(poll_load, closest, gets_per_s[:, None] * hits[None, :])
    poll_total_s = gets_per_s.sum() * calib.msgs_per_get + new_per_s.sum() * calib.msgs_per_publish
    poll_load += (gets_per_s.sum() * per_get_spread + new_per_s.sum() * calib.msgs_per_publish) / n
    # ------------------------------------------------------------------------------------- push
    w_all = W.sum(axis=1)
    capped = np.minimum(w_all, config.sub_cap)
    overflow = w_all - capped  # these subscribers poll instead
    share = np.divide(capped, w_all, out=np.zeros(len(w_all)), where=w_all > 0)
    subs_per_s = capped / config.renew_s  # subscription renewals per key
    lookup_msgs = max(0.0, calib.msgs_per_get - per_get_replica)  # finding the closest (FIND_NODE part)
    renew_msgs = lookup_msgs + config.sub_replicas
    # notifications: a record of side s at key K goes to the subscribers watching side s
    # notifications: a record of side s at key K goes to the subscribers watching side s, from each of the
    # notify_replicas closest replicas; batching caps one subscriber's notifications at one per batch_s
    total_stored = S.sum(axis=1)
    notif_per_s = np.zeros(len(S))
    side_rates = []  # records of side s stored per second, per key
    for s in (0, 1):
        rate = new_per_s * np.divide(S[:, s], total_stored, out=np.zeros(len(S)), where=total_stored > 0)
        side_rates.append(rate)
        if config.batch_s > 0:
            rate = np.minimum(rate, 1.0 / config.batch_s)
        notif_per_s += rate * W[:, s] * share
    notif_per_s *= config.notify_replicas
    push_load = np.zeros(n)
    sub_ranks = np.arange(config.sub_replicas)
    np.add.at(push_load, closest[:, sub_ranks], subs_per_s[:, None])  # SUBSCRIBE received
    notifier_ranks = np.arange(config.notify_replicas)
    np.add.at(push_load, closest[:, notifier_ranks], (notif_per_s / config.notify_replicas)[:, None])
    overflow_gets = overflow / config.poll_s
    np.add.at(push_load, closest, overflow_gets[:, None] * hits[None, :])
    spread = subs_per_s.sum() * lookup_msgs + overflow_gets.sum() * per_get_spread
    push_load += (spread + new_per_s.sum() * calib.msgs_per_publish) / n
    push_total_s = (
        subs_per_s.sum() * renew_msgs
        + notif_per_s.sum()
        + overflow_gets.sum() * calib.msgs_per_get
        + new_per_s.sum() * calib.msgs_per_publish
    )
    # ------------------------------------------------------------------- hottest key, latency, churn
    hot = int(np.argmax(w_all))
    hot_poll = float((gets_per_s[hot] * hits).max())
    hot_push = float(
        subs_per_s[hot] + notif_per_s[hot] / config.notify_replicas + overflow_gets[hot] * hits.max()
    )
    model = parse_churn(config.churn)
    missed = push_churn(config, model, rng)
    draws = 20_000
    put_ms = rng.choice(np.asarray(calib.publish_ms), draws)
    get_ms = rng.choice(np.asarray(calib.get_ms), draws)
    tries = rng.geometric(config.poll_availability, draws)  # polls until one finds the record
    poll_match = (
        put_ms / 1000 + rng.random(draws) * config.poll_s + (tries - 1) * config.poll_s + get_ms / 1000
    )
    notify_s = calib.rtt_ms / 2000.0  # one-way
    miss = rng.choice(missed, draws)
    push_match = np.where(
        miss, put_ms / 1000 + rng.random(draws) * config.renew_s + get_ms / 1000, put_ms / 1000 + notify_s
    )
    if config.batch_s > 0:
        # a notification goes at once unless the subscriber had one in the last batch_s (then it waits for
        # the window's end): matches are drawn by key and side in proportion to records x watchers
        events = np.concatenate([side_rates[s] * W[:, s] for s in (0, 1)])
        if events.sum() > 0:
            rate = np.concatenate(side_rates)[rng.choice(len(events), draws, p=events / events.sum())]
            waits = rng.random(draws) >= np.exp(-rate * config.batch_s)
            push_match = push_match + np.where(waits & ~miss, rng.random(draws) * config.batch_s, 0.0)
    figures: dict[str, Any] = {
        "config": asdict(config),
        "calibration": {
            "nodes": calib.nodes,
            "msgs_per_get": round(calib.msgs_per_get, 2),
            "replica_hits_per_get": round(per_get_replica, 2),
            "hits_by_rank": [round(h, 3) for h in calib.hits],
            "get_ms_p50": round(_pct(np.asarray(calib.get_ms), 50), 1),
            "publish_ms_p50": round(_pct(np.asarray(calib.publish_ms), 50), 1),
            "msgs_per_publish": round(calib.msgs_per_publish, 1),
        },
        "keys_watched": int((w_all > 0).sum()),
        "cells_per_intent": round(cells_per_intent, 2),
        "hot_key_watchers": int(w_all[hot]),
        "hot_key_share": round(float(w_all[hot] / m), 4),  # of the live intents, watching it
        "new_records_per_s": round(float(new_per_s.sum()), 2),
    }
    for name, load, total, hot_load, match in (
        ("poll", poll_load, poll_total_s, hot_poll, poll_match),
        ("push", push_load, push_total_s, hot_push, push_match),
    ):
        per_h = load * hours
        figures.update(
            {
                f"{name}_rpc_per_node_h_mean": round(float(total * hours / n), 1),
                f"{name}_rpc_per_node_h_p50": round(_pct(per_h, 50), 1),
                f"{name}_rpc_per_node_h_p99": round(_pct(per_h, 99), 1),
                f"{name}_rpc_per_node_h_max": round(float(per_h.max()), 1),
                f"{name}_hot_replica_rpc_s": round(hot_load, 2),
                f"{name}_match_s_p50": round(_pct(match, 50), 2),
                f"{name}_match_s_p90": round(_pct(match, 90), 2),
                f"{name}_match_s_p99": round(_pct(match, 99), 2),
            }
        )
    figures["push_missed_under_churn"] = round(float(missed.mean()), 5)
    figures["push_overflow_subscribers"] = int(overflow.sum())
    figures["wall_s"] = round(time.perf_counter() - wall0, 2)
    return figures
