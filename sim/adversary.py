"""Hostile node variants for the simulator, and the hook any new one plugs into.

Theory of operation
-------------------
A run with ``malicious=F, attack=NAME`` gives ``round(F * N)`` of its nodes to an ``Attack``: the attack
chooses their public keys (``plan``: random, or ground next to target keys) and builds their cores
(``make_node``: a subclass of the real ``dht.node.Node`` whose server side lies or stays silent; its
client side — join, refresh, its own lookups — is the honest code, so its nodes enter honest routing
tables the normal way). ``ready`` runs once every node exists (colluders learn each other). Publishers
and searchers are always honest; malicious nodes do not churn.

Built-in attacks (``ATTACKS``; add one with ``register_attack``):

``drop``
    Answers PING (so it stays in routing tables) and never answers FIND_NODE, GET or PUT: every request
    to it costs the asker an RPC timeout.
``liar``
    Answers FIND_NODE and GET with the ``k`` contacts closest to the target from a pool of fake
    identities (``FakeContacts``: random keys whose ids were hashed and sorted once — ground ids, much
    closer to any target than honest nodes are, that nobody runs: dialing one fails as dialing a dead
    node does), GET with no records, and PUT with STORED while keeping nothing.
``eclipse``
    Sybils ground next to target keys: ``per_key`` sybils per key (default 2k), each id closer to its key
    than the k-th closest honest node (about N/k hashes each; the total is reported as the attacker's
    cost). They answer GET with no records and FIND_NODE / GET with only their fellow sybils, closest
    first; PUT gets STORED and nothing is kept. The workload then publishes and looks up intents at the
    target keys only (``places``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dht.config import DhtConfig, Rng
from dht.keys import contact_id, id_int
from dht.node import Node
from wire.messages import (
    Contact,
    FindNode,
    GetRecords,
    Nodes,
    Ping,
    PutRecords,
    PutResult,
    PutStatus,
    Records,
)

Place = tuple[str, str]  # (category, cell)


@dataclass
class AttackContext:
    """What an attack may use to plan its nodes.

    Attributes:
        rng: the attack's RNG (derived from the run's seed).
        k: the replication factor of the run.
        nodes: N, the whole population.
        honest_ids: the ids (ints) of the honest nodes at the start.
        draw_place: a random (category, cell) of the workload's region and taxonomy.
        place_key: the DHT key of a place.
    """

    rng: random.Random
    k: int
    nodes: int
    honest_ids: list[int]
    draw_place: Callable[[random.Random], Place]
    place_key: Callable[[Place], bytes]


class Attack:
    """The hook: a hostile variant of the node core. Subclass it and ``register_attack`` it.

    Args:
        ctx: the planning context.
        options: attack options from the run's configuration (``SimConfig.attack_options``).
    """

    name = "none"

    def __init__(self, ctx: AttackContext, options: dict[str, Any]) -> None:
        self.ctx = ctx
        self.options = options

    def plan(self, count: int) -> list[bytes]:
        """The public keys of the ``count`` malicious nodes (default: random keys)."""
        return [self.ctx.rng.randbytes(32) for _ in range(count)]

    def make_node(self, pubkey: bytes, addrs: list[str], config: DhtConfig, rng: Rng) -> Node:
        """The core a malicious node runs (must keep ``pubkey``)."""
        raise NotImplementedError

    def ready(self, nodes: list[Node]) -> None:
        """Called once every node exists, with the malicious cores (colluders learn each other)."""

    def places(self) -> list[Place] | None:
        """The (category, cell) places the attack targets (the workload then uses only those), or None."""
        return None

    def statistics(self) -> dict[str, Any]:
        """Figures of the attack (its cost), merged into the run's figures."""
        return {}


# -------------------------------------------------------------------------------------------- drop


class DroppingNode(Node):
    """Answers PING only; every other request is dropped (no reply: the asker times out)."""

    def handle_request(self, sender: Contact, msg: Any, now: float, observed_ip: str | None = None) -> Any:
        if isinstance(msg, Ping):
            return super().handle_request(sender, msg, now, observed_ip)
        super().handle_request(sender, Ping(getattr(msg, "rid", 0)), now, observed_ip)  # learns the sender
        return None


class DropAttack(Attack):
    name = "drop"

    def make_node(self, pubkey: bytes, addrs: list[str], config: DhtConfig, rng: Rng) -> Node:
        return DroppingNode(pubkey, addrs, config, rng)


# -------------------------------------------------------------------------------------------- liar


class FakeContacts:
    """A pool of fake identities with ground ids: the ``n`` closest to any target, fast.

    Ids are hashed once and sorted by their top 64 bits; ``closest`` looks at a window of ``4n`` around
    the target's rank (the XOR-closest ids share the target's longest prefix, a range around that rank;
    the window can miss a few at a prefix boundary, which only makes the liar slightly less effective).

    Args:
        size: identities in the pool.
        rng: where their keys come from.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        raw = rng.randbytes(32 * size)
        keys = [raw[32 * i : 32 * i + 32] for i in range(size)]
        tops = np.fromiter(
            (int.from_bytes(hashlib.sha256(pk).digest()[:8], "big") for pk in keys), np.uint64, size
        )
        order = np.argsort(tops, kind="stable")
        self._tops = tops[order]
        self._keys = [keys[j] for j in order.tolist()]
        self._contacts: dict[int, Contact] = {}
        self.size = size

    def _contact(self, j: int) -> Contact:
        c = self._contacts.get(j)
        if c is None:
            addr = f"/ip4/10.{(j >> 8) & 255}.{j & 255}.{1 + (j >> 16) % 250}/tcp/4001"
            c = self._contacts[j] = Contact(self._keys[j], [addr])
        return c

    def closest(self, target: bytes, n: int) -> list[Contact]:
        """The ``n`` fake contacts (about) closest to ``target``, closest first."""
        t = np.uint64(int.from_bytes(target[:8], "big"))
        pos = int(np.searchsorted(self._tops, t))
        lo, hi = max(0, pos - 2 * n), min(self.size, pos + 2 * n)
        window = self._tops[lo:hi] ^ t
        picks = np.argsort(window, kind="stable")[:n] + lo
        return [self._contact(int(j)) for j in picks]


class LyingNode(Node):
    """FIND_NODE and GET answered with ground fake contacts, GET with no records, PUT "stored" and dropped."""

    fakes: FakeContacts

    def handle_request(self, sender: Contact, msg: Any, now: float, observed_ip: str | None = None) -> Any:
        if isinstance(msg, Ping):
            return super().handle_request(sender, msg, now, observed_ip)
        super().handle_request(sender, Ping(msg.rid), now, observed_ip)
        n = self.config.k
        if isinstance(msg, FindNode):
            return Nodes(msg.rid, self.fakes.closest(msg.target, n))
        if isinstance(msg, GetRecords):
            return Records(msg.rid, [], None, self.fakes.closest(msg.key, n))
        if isinstance(msg, PutRecords):
            return PutResult(msg.rid, [PutStatus.STORED] * len(msg.records))
        return None


class LiarAttack(Attack):
    """Options: ``pool`` (fake identities, default max(100k, 16 N))."""

    name = "liar"

    def __init__(self, ctx: AttackContext, options: dict[str, Any]) -> None:
        super().__init__(ctx, options)
        size = int(options.get("pool") or max(100_000, 16 * ctx.nodes))
        self.fakes = FakeContacts(size, ctx.rng)

    def make_node(self, pubkey: bytes, addrs: list[str], config: DhtConfig, rng: Rng) -> Node:
        node = LyingNode(pubkey, addrs, config, rng)
        node.fakes = self.fakes
        return node

    def statistics(self) -> dict[str, Any]:
        return {"liar_pool": self.fakes.size}


# ----------------------------------------------------------------------------------------- eclipse


class SybilNode(Node):
    """GET answered with no records; FIND_NODE and GET point only to the fellow sybils; PUT dropped."""

    fellows: list[Contact]

    def handle_request(self, sender: Contact, msg: Any, now: float, observed_ip: str | None = None) -> Any:
        if isinstance(msg, Ping):
            return super().handle_request(sender, msg, now, observed_ip)
        super().handle_request(sender, Ping(msg.rid), now, observed_ip)
        if isinstance(msg, FindNode):
            return Nodes(msg.rid, self._closest_fellows(msg.target, sender.pubkey))
        if isinstance(msg, GetRecords):
            return Records(msg.rid, [], None, self._closest_fellows(msg.key, sender.pubkey))
        if isinstance(msg, PutRecords):
            return PutResult(msg.rid, [PutStatus.STORED] * len(msg.records))
        return None

    def _closest_fellows(self, target: bytes, exclude: bytes) -> list[Contact]:
        t = id_int(target)
        ranked = sorted(self.fellows, key=lambda c: contact_id(c) ^ t)
        return [c for c in ranked if c.pubkey != exclude][: self.config.k]


class EclipseAttack(Attack):
    """Options: ``per_key`` (sybils per target key, default 2k)."""

    name = "eclipse"

    def __init__(self, ctx: AttackContext, options: dict[str, Any]) -> None:
        super().__init__(ctx, options)
        self.per_key = int(options.get("per_key") or 2 * ctx.k)
        self._places: list[Place] = []
        self._group: list[int] = []  # group (target number) of each planned sybil
        self.hashes = 0

    def plan(self, count: int) -> list[bytes]:
        ctx = self.ctx
        targets = max(1, count // self.per_key)
        rng = ctx.rng
        honest = ctx.honest_ids
        keys: list[bytes] = []
        for _ in range(50 * targets):  # distinct keys; a small key space gives fewer, more crowded ones
            place = ctx.draw_place(rng)
            key = ctx.place_key(place)
            if key not in keys:
                keys.append(key)
                self._places.append(place)
                if len(keys) >= targets:
                    break
        targets = len(keys)
        out: list[bytes] = []
        for t, key in enumerate(keys):
            kint = id_int(key)
            dists = sorted(h ^ kint for h in honest)
            threshold = dists[min(ctx.k, len(dists)) - 1] if dists else 1 << 256
            want = count // targets + (1 if t < count % targets else 0)
            for _ in range(want):
                while True:
                    pk = rng.randbytes(32)
                    self.hashes += 1
                    if int.from_bytes(hashlib.sha256(pk).digest(), "big") ^ kint < threshold:
                        break
                out.append(pk)
                self._group.append(t)
        return out

    def make_node(self, pubkey: bytes, addrs: list[str], config: DhtConfig, rng: Rng) -> Node:
        node = SybilNode(pubkey, addrs, config, rng)
        node.fellows = []
        return node

    def ready(self, nodes: list[Node]) -> None:
        groups: dict[int, list[Contact]] = {}
        for node, g in zip(nodes, self._group, strict=True):
            groups.setdefault(g, []).append(node.contact)
        for node, g in zip(nodes, self._group, strict=True):
            assert isinstance(node, SybilNode)
            node.fellows = groups[g]

    def places(self) -> list[Place] | None:
        return list(self._places)

    def statistics(self) -> dict[str, Any]:
        return {
            "eclipse_keys": len(self._places),
            "eclipse_per_key": self.per_key,
            "grind_hashes": self.hashes,
        }


AttackFactory = Callable[[AttackContext, dict[str, Any]], Attack]

#: name -> factory of every attack the simulator knows (``--attack NAME``).
ATTACKS: dict[str, AttackFactory] = {
    "drop": DropAttack,
    "liar": LiarAttack,
    "eclipse": EclipseAttack,
}


def register_attack(name: str, factory: AttackFactory) -> None:
    """Make ``--attack name`` available (e.g. from a researcher's module).

    Raises:
        ValueError: the name is taken or not a plain identifier.
    """
    if not name.isidentifier() or name == "none":
        raise ValueError(f"bad attack name {name!r}")
    if name in ATTACKS:
        raise ValueError(f"attack {name!r} is already registered")
    ATTACKS[name] = factory
