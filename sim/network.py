"""Building the simulated population and joining it: node cores, keys, addresses, join strategies.

Theory of operation
-------------------
* **Keys.** DHT-only nodes get a random 32-byte public key from the seeded key RNG (DHT RPCs are not
  signed, so no key pair is needed). Publishers get a real ``wire.identity.Identity`` (their records are
  signed and verified by every storing node), and their node's pubkey is the identity's.
* **Addresses.** Node ``i`` listens on ``/ip4/A.B.C.1/tcp/4001`` with a distinct /24 per node, so the
  core's per-subnet bucket rule behaves as on a real network of distinct hosts.
* **Per-node RNG.** Each core gets a ``LightRng`` (SplitMix64, one int of state) seeded from the run's
  seed and the node number: a ``random.Random`` costs ~2.5 KiB of state, too much for 10^5 nodes.
* **Protocol join** (default): nodes join one after another, ``join_interval`` virtual seconds apart;
  each runs the core's real ``bootstrap`` through ``seeds`` random nodes that already finished joining.
* **Fast join** (researchers' shortcut for huge N): every routing table is built as a converged network's
  from global knowledge (``sim.prefill``: numpy, O(N log N), an oracle no real node has), then a short
  protocol phase where a sample of nodes runs a real ``bootstrap`` through random seeds.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.engine import Engine
from sim.latency import LatencyModel
from sim.prefill import PrefillStats, prefill_tables

if TYPE_CHECKING:
    from sim.config import SimConfig

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class LightRng:
    """A small, fast, seedable RNG (SplitMix64) with the methods the DHT core uses.

    Args:
        seed: any int (the state is its low 64 bits).
    """

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK64

    def _next(self) -> int:
        self._state = s = (self._state + _GOLDEN) & _MASK64
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1)."""
        return (self._next() >> 11) * (1.0 / 9007199254740992.0)

    def getrandbits(self, k: int) -> int:
        """An int of ``k`` random bits."""
        if k == 64:  # a request id: one draw (what the loop below gives, without it)
            return self._next()
        if k <= 0:
            return 0
        value = 0
        bits = 0
        while bits < k:
            value = (value << 64) | self._next()
            bits += 64
        return value >> (bits - k)

    def randbytes(self, n: int) -> bytes:
        """``n`` random bytes."""
        return self.getrandbits(8 * n).to_bytes(n, "big") if n > 0 else b""

    def randrange(self, n: int) -> int:
        """An int in [0, n)."""
        if n <= 0:
            raise ValueError("empty range")
        return int(self.random() * n)


def derive_rng(seed: int, purpose: str) -> random.Random:
    """A ``random.Random`` for one purpose of a run, derived from the run's seed (stable across processes)."""
    return random.Random(f"metaspace-sim/{seed}/{purpose}")


def engine_for(config: SimConfig, start_time: float, cls: type[Engine] = Engine) -> Engine:
    """The run's simulated network: ``config``'s latency model, loss, dead and unreachable modes, with the
    latency and network RNGs derived from its seed; ``cls`` an ``Engine`` subclass (one that counts, say)."""
    latency = LatencyModel(derive_rng(config.seed, "latency"), config.rtt_ms, config.jitter)
    net_rng = derive_rng(config.seed, "net")
    return cls(latency, net_rng, config.loss, config.dead_mode, start_time, config.unreachable)


def node_seed(seed: int, i: int) -> int:
    """The 64-bit seed of node ``i``'s own RNG."""
    digest = hashlib.sha256(f"metaspace-sim/{seed}/node/{i}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def node_addrs(i: int) -> list[str]:
    """A plausible, unique-per-/24 multiaddr for node ``i``."""
    return [f"/ip4/{20 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.1/tcp/4001"]


def node_id_int(pubkey: bytes) -> int:
    """The node's DHT id (sha256 of its pubkey) as an int."""
    return int.from_bytes(hashlib.sha256(pubkey).digest(), "big")


# ----------------------------------------------------------------------------------------- joining


class ProtocolJoin:
    """Joins nodes one by one with the core's real ``bootstrap``, driven by engine actions.

    Args:
        engine: the engine (all nodes already added).
        order: node numbers in join order; the first one is the network's first node.
        rng: the join RNG (seed choice).
        seeds: bootstrap seeds per joining node.
        interval: virtual seconds between two join starts.
        progress: ``progress("join", done, total)`` after each completed join.
    """

    def __init__(
        self,
        engine: Engine,
        order: list[int],
        rng: random.Random,
        seeds: int = 3,
        interval: float = 0.02,
        progress: Callable[[str, int, int], None] | None = None,
        phase: str = "join",
        initial: list[int] | None = None,
    ) -> None:
        self.engine = engine
        self.order = order
        self.rng = rng
        self.seeds = seeds
        self.interval = interval
        self.progress = progress
        self.phase = phase
        self.joined: list[int] = list(initial or [])
        self.done = 0
        self.failed = 0  # bootstraps that came back with no peer at all
        self.peers_found: list[int] = []

    def start(self) -> None:
        """Schedule every join (the first node of an empty network joins at once, with no seed)."""
        t0 = self.engine.now
        for j, i in enumerate(self.order):
            self.engine.schedule(t0 + j * self.interval, self._join, i)

    def finished(self) -> bool:
        return self.done >= len(self.order)

    def _join(self, i: int) -> None:
        engine = self.engine
        live = [j for j in self.joined if engine.alive[j]] if len(self.joined) < 64 else None
        if live is not None:
            pool = live
            chosen = self.rng.sample(pool, min(self.seeds, len(pool)))
        else:
            chosen = []
            for _ in range(self.seeds * 4):
                j = self.joined[self.rng.randrange(len(self.joined))]
                if engine.alive[j] and j not in chosen:
                    chosen.append(j)
                if len(chosen) >= self.seeds:
                    break
        if not chosen:
            self._finish(i, None)
            return
        contacts = [engine.nodes[j].contact for j in chosen]
        engine.start_op(i, lambda node, now: node.bootstrap(contacts, now), self._on_done)

    def _on_done(self, i: int, result: Any, _started: float) -> None:
        self._finish(i, result)

    def _finish(self, i: int, result: Any) -> None:
        peers = getattr(result, "peers", None)
        if result is not None:
            n = len(peers) if peers is not None else 0
            self.peers_found.append(n)
            if n == 0:
                self.failed += 1
        self.joined.append(i)
        self.done += 1
        if self.progress is not None:
            self.progress(self.phase, self.done, len(self.order))


def join_network(
    config: Any, engine: Engine, ids: list[int], progress: Callable[[str, int, int], None] | None = None
) -> tuple[ProtocolJoin, PrefillStats | None]:
    """Join every node of ``engine`` as ``config.join`` says and run the engine until all joins ended.

    Args:
        config: the run's ``SimConfig`` (join, seeds, join_interval, fast_fill, fast_bootstraps, k, seed).
        engine: the engine holding the nodes (node ``i`` has id ``ids[i]``).
        ids: the node ids as ints.
        progress: ``progress(phase, done, total)``.
    Returns:
        The joiner (its ``failed`` and ``peers_found``) and what the fast join's prefill built (None for a
        protocol join).
    """
    n = len(ids)
    join_rng = derive_rng(config.seed, "join")
    prefill = None
    if config.join == "protocol":
        order = list(range(n))
        join_rng.shuffle(order)
        joiner = ProtocolJoin(engine, order, join_rng, config.seeds, config.join_interval, progress)
    else:
        stagger = derive_rng(config.seed, "stagger") if config.staggered else None
        prefill = prefill_tables(
            engine, ids, config.fast_fill or config.k, config.seed, progress, stagger=stagger
        )
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
    return joiner, prefill
