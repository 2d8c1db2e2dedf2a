"""The simulated population: honest and malicious node cores, identities, ids, and the oracle over them.

Theory of operation
-------------------
``Population.build`` numbers the honest nodes first (0 .. H-1; ``publishers`` of them get a real
``wire.identity.Identity``, the others a random 32-byte key) and the attacker's nodes after them (keys
and cores from the ``sim.adversary`` attack). Node ``i`` listens on its own /24 (``node_addrs``) and runs
with its own ``LightRng``; a node that comes back after leaving gets a fresh core seeded for its new
life, so its request ids never collide with replies still in flight from its previous one.

Churn adds identities with ``new_node`` (honest; a publisher with the same probability as at the start)
and brings old ones back with ``revive``.

``Oracle`` answers what no real node knows, for the metrics: the ``n`` live honest nodes closest to a key
(top 64 bits of the ids, numpy, O(N) per key) and how many of them hold a record.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from dht.config import DhtConfig
from dht.keys import intent_key
from dht.node import Node
from sim.adversary import ATTACKS, Attack, AttackContext
from sim.config import SimConfig
from sim.engine import Engine
from sim.network import LightRng, derive_rng, node_addrs, node_id_int, node_seed
from sim.workload import IntentFactory
from wire.identity import Identity

Progress = Callable[[str, int, int], None]


def _top64(pubkey: bytes) -> int:
    return int.from_bytes(hashlib.sha256(pubkey).digest()[:8], "big")


class Population:
    """Every node of a run (see the module docstring). Build it with ``Population.build``."""

    def __init__(self, config: SimConfig, engine: Engine, dht_config: DhtConfig) -> None:
        self.config = config
        self.engine = engine
        self.dht_config = dht_config
        self.identities: dict[int, Identity] = {}
        self.ids: list[int] = []  # full ids (ints) of the nodes built at the start
        self.top64 = array("Q")  # top 64 bits of every slot's id (churn arrivals included)
        self.honest = bytearray()  # 1 for honest slots
        self.malicious: list[int] = []
        self.attack: Attack | None = None
        self.pub_share = 0.0
        self._lives: dict[int, int] = {}
        self._key_rng = derive_rng(config.seed, "keys")
        self._arrival_rng = derive_rng(config.seed, "arrivals")

    @classmethod
    def build(
        cls, config: SimConfig, engine: Engine, factory: IntentFactory, progress: Progress | None = None
    ) -> Population:
        """Create every node core and register it with ``engine``.

        Args:
            config: the run (validated).
            engine: an empty engine.
            factory: the intent factory (an attack may draw its target places from it).
            progress: ``progress("setup", done, total)``.
        Returns:
            The population.
        """
        pop = cls(config, engine, config.dht_config())
        seed = config.seed
        n = config.nodes
        bad = config.malicious_count()
        honest_n = n - bad
        n_pub = config.publishers or min(honest_n, max(1, config.publishes))
        n_pub = min(n_pub, honest_n)
        pop.pub_share = n_pub / honest_n
        pub_set = set(derive_rng(seed, "publishers").sample(range(honest_n), n_pub))
        for i in range(honest_n):
            if i in pub_set:
                ident = Identity(pop._key_rng.randbytes(32))
                pop.identities[i] = ident
                pubkey = ident.pubkey
            else:
                pubkey = pop._key_rng.randbytes(32)
            pop._add(Node(pubkey, node_addrs(i), pop.dht_config, LightRng(node_seed(seed, i))), True)
            if progress is not None and (i % 1000 == 0 or i == n - 1):
                progress("setup", i + 1, n)
        if bad:
            ctx = AttackContext(
                rng=derive_rng(seed, "attack"),
                k=config.k,
                nodes=n,
                honest_ids=list(pop.ids),
                draw_place=factory.draw_place,
                place_key=lambda place: intent_key(place[0], place[1], pop.dht_config.key_res),
            )
            attack = ATTACKS[config.attack](ctx, dict(config.attack_options))
            pop.attack = attack
            cores = []
            for j, pubkey in enumerate(attack.plan(bad)):
                i = honest_n + j
                core = attack.make_node(pubkey, node_addrs(i), pop.dht_config, LightRng(node_seed(seed, i)))
                pop._add(core, False)
                pop.malicious.append(i)
                cores.append(core)
                if progress is not None and (i % 1000 == 0 or i == n - 1):
                    progress("setup", i + 1, n)
            attack.ready(cores)
            places = attack.places()
            if places:
                factory.places = places
        return pop

    def _add(self, node: Any, honest: bool) -> int:
        i = self.engine.add_node(node)
        if i < self.config.nodes:
            self.ids.append(node_id_int(node.contact.pubkey))
        self.top64.append(_top64(node.contact.pubkey))
        self.honest.append(1 if honest else 0)
        return i

    # ----------------------------------------------------------------------------------------- churn

    def new_node(self) -> int:
        """A new honest identity joins (churn): register its core; returns its number."""
        i = len(self.engine.nodes)
        if self._arrival_rng.random() < self.pub_share:
            ident = Identity(self._arrival_rng.randbytes(32))
            self.identities[i] = ident
            pubkey = ident.pubkey
        else:
            pubkey = self._arrival_rng.randbytes(32)
        node = Node(pubkey, node_addrs(i), self.dht_config, LightRng(node_seed(self.config.seed, i)))
        return self._add(node, True)

    def revive(self, i: int) -> Node:
        """A fresh core for identity ``i`` (its key and address), seeded for its next life."""
        life = self._lives.get(i, 0) + 1
        self._lives[i] = life
        pubkey = self.engine.nodes[i].contact.pubkey
        rng = LightRng(node_seed(self.config.seed, i) ^ (life * 0x9E3779B97F4A7C15))
        return Node(pubkey, node_addrs(i), self.dht_config, rng)

    def honest_live(self) -> list[int]:
        """Numbers of the live honest nodes, in increasing order."""
        alive, honest = self.engine.alive, self.honest
        return [i for i in range(len(honest)) if alive[i] and honest[i]]

    def statistics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"malicious_nodes": len(self.malicious)}
        if self.attack is not None:
            out.update(self.attack.statistics())
        return out


class Oracle:
    """Global knowledge for the metrics (see the module docstring).

    Args:
        population: the population.
    """

    def __init__(self, population: Population) -> None:
        self.pop = population
        self._cand: np.ndarray | None = None
        self._ids: np.ndarray | None = None

    def snapshot(self) -> None:
        """Take the set of live honest nodes now (call again after nodes come or go)."""
        pop = self.pop
        n = len(pop.honest)
        alive = np.frombuffer(bytes(pop.engine.alive[:n]), dtype=np.uint8)
        honest = np.frombuffer(bytes(pop.honest), dtype=np.uint8)
        self._cand = np.flatnonzero(alive & honest)
        self._ids = np.frombuffer(pop.top64, dtype=np.uint64, count=n)[self._cand]

    def closest(self, key: bytes, n: int) -> list[int]:
        """The ``n`` live honest nodes closest to ``key`` at the last ``snapshot``, closest first."""
        if self._cand is None or self._ids is None:
            self.snapshot()
        assert self._cand is not None and self._ids is not None
        d = self._ids ^ np.uint64(int.from_bytes(key[:8], "big"))
        if len(d) > n:
            part = np.argpartition(d, n)[:n]
            part = part[np.argsort(d[part], kind="stable")]
        else:
            part = np.argsort(d, kind="stable")
        return [int(x) for x in self._cand[part]]

    def holders(self, key: bytes, record: bytes, n: int, now: float) -> int:
        """How many of the ``n`` live honest nodes closest to ``key`` hold a live copy of ``record``."""
        nodes = self.pop.engine.nodes
        count = 0
        for i in self.closest(key, n):
            node: Any = nodes[i]
            for rec in node.store.records(key):
                if rec.record == record and rec.expires > now:
                    count += 1
                    break
        return count
