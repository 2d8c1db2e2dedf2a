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
    Sybils ground next to target keys: ``per_key`` sybils per key (default 2k). The attacker spends ``budget``
    key generations per sybil (default 4 N / k) and keeps, per key, the ids closest to it among those that
    carry ``puzzle_bits`` of puzzle work (S/Kademlia's static puzzle; default 0): the more bits, the fewer
    sybils get near the key for the same budget (``EclipseAttack`` says how the outcome is sampled exactly).
    They answer GET with no records and FIND_NODE / GET with only their fellow sybils, closest first; PUT gets
    STORED and nothing is kept. The workload then publishes and looks up intents at the target keys only
    (``places``).
"""

from __future__ import annotations

import hashlib
import math
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


#: A sybil whose best id ranks farther than FAR_RANKS * k honest nodes from its key is placed at random: it is
#: no longer among the nodes a lookup of that key meets near its end, so where exactly it sits hardly matters.
FAR_RANKS = 4
#: Candidate keys hashed at once while placing sybils (``EclipseAttack._grind``).
GRIND_BATCH = 20_000


def _top64(pubkey: bytes) -> int:
    return int.from_bytes(hashlib.sha256(pubkey).digest()[:8], "big")


class EclipseAttack(Attack):
    """Sybils ground next to target keys, with a grinding budget and an id puzzle.

    Options: ``per_key`` (sybils per target key, default 2k); ``budget`` (key generations the attacker spends
    per sybil on grinding, default 4 N / k: enough at 0 puzzle bits to put every sybil among the few closest
    honest nodes of its key); ``puzzle_bits`` (c: the network accepts only ids with c bits of puzzle work,
    ``dht.keys.id_puzzle_bits``; default 0).

    The outcome is sampled exactly instead of hashed ``budget * 2**c`` times (the hashing is the attacker's
    cost, not the simulator's): a generated key has the puzzle work with probability 2**-c independently of
    its id (two different hashes), so the usable ids of a key's ``H = budget * per_key`` generations are
    ``M ~ Binomial(H, 2**-c)`` uniform ids. The attacker keeps the ``per_key`` closest to the key; their
    distances are drawn as the first order statistics of M uniforms. What decides the attack is each sybil's
    rank among the honest nodes (how many honest ids are closer to the key), so each sybil then gets a real
    key ground into its rank's interval between two honest distances (about N hashes each, all keys at once);
    a sybil ranked beyond ``FAR_RANKS * k`` (no usable id near enough) gets a random key. The simulated nodes
    themselves do not carry the puzzle work (``DhtConfig.id_puzzle_bits`` stays 0 in the run): honest ids
    with the work are uniform as well, so the run is the same.
    """

    name = "eclipse"

    def __init__(self, ctx: AttackContext, options: dict[str, Any]) -> None:
        super().__init__(ctx, options)
        self.per_key = int(options.get("per_key") or 2 * ctx.k)
        self.budget = int(options.get("budget") or 4 * ctx.nodes // max(1, ctx.k))
        self.puzzle_bits = int(options.get("puzzle_bits") or 0)
        if self.per_key < 1 or self.budget < 1 or not 0 <= self.puzzle_bits <= 64:
            raise ValueError("eclipse needs per_key >= 1, budget >= 1 and 0 <= puzzle_bits <= 64")
        self._places: list[Place] = []
        self._group: list[int] = []  # group (target number) of each planned sybil
        self.hashes = 0  # keys the simulator hashed to place the sybils
        self.near = 0  # sybils among the k closest to their key (honest and sybil ids together)
        self.far = 0  # sybils without a usable id near their key (a random one)

    def _targets(self, count: int) -> list[bytes]:
        ctx = self.ctx
        targets = max(1, count // self.per_key)
        keys: list[bytes] = []
        for _ in range(50 * targets):  # distinct keys; a small key space gives fewer, more crowded ones
            place = ctx.draw_place(ctx.rng)
            key = ctx.place_key(place)
            if key not in keys:
                keys.append(key)
                self._places.append(place)
                if len(keys) >= targets:
                    break
        return keys

    def _ranks(self, want: int, honest: np.ndarray, gen: np.random.Generator) -> list[int]:
        """The honest ranks of the ``want`` sybils of one key (-1: no usable id near it), closest first."""
        usable = int(gen.binomial(self.budget * want, 2.0**-self.puzzle_bits))
        limit = min(len(honest), FAR_RANKS * self.ctx.k)
        ranks: list[int] = []
        u = 0.0
        for i in range(min(usable, want)):  # order statistics of ``usable`` uniforms, smallest first
            u += (1.0 - u) * -math.expm1(math.log(1.0 - gen.random()) / (usable - i))
            r = int(np.searchsorted(honest, np.uint64(min(int(u * 2.0**64), 2**64 - 1))))
            if r >= limit:
                break
            ranks.append(r)
        return ranks + [-1] * (want - len(ranks))

    def plan(self, count: int) -> list[bytes]:
        ctx = self.ctx
        keys = self._targets(count)
        gen = np.random.default_rng(ctx.rng.getrandbits(64))
        tops = np.array([h >> 192 for h in ctx.honest_ids], dtype=np.uint64)
        wants: list[dict[int, int]] = []
        honest: list[np.ndarray] = []
        out: list[bytes] = []
        for t, key in enumerate(keys):
            dists = np.sort(tops ^ np.uint64(int.from_bytes(key[:8], "big")))
            honest.append(dists)
            want = count // len(keys) + (1 if t < count % len(keys) else 0)
            ranks = self._ranks(want, dists, gen)
            wanted: dict[int, int] = {}
            for r in ranks:
                if r < 0:
                    self.far += 1
                    out.append(ctx.rng.randbytes(32))
                    self._group.append(t)
                else:
                    wanted[r] = wanted.get(r, 0) + 1
            wants.append(wanted)
        for t, pk in self._grind(keys, honest, wants):
            out.append(pk)
            self._group.append(t)
        for t, key in enumerate(keys):  # where the sybils really are (a random one may land near too)
            k64 = int.from_bytes(key[:8], "big")
            mine = sorted(_top64(pk) ^ k64 for pk, g in zip(out, self._group, strict=True) if g == t)
            ranks = np.searchsorted(honest[t], np.array(mine, dtype=np.uint64)).tolist()
            self.near += sum(1 for j, r in enumerate(ranks) if r + j < ctx.k)
        return out

    def _grind(
        self, keys: list[bytes], honest: list[np.ndarray], wants: list[dict[int, int]]
    ) -> list[tuple[int, bytes]]:
        """Real keys whose ids fall into the wanted rank intervals of each key: (target, key) pairs."""
        rng = self.ctx.rng
        kints = [np.uint64(int.from_bytes(key[:8], "big")) for key in keys]
        got: list[tuple[int, bytes]] = []
        while any(wants):
            raw = rng.randbytes(32 * GRIND_BATCH)
            cands = [raw[32 * i : 32 * i + 32] for i in range(GRIND_BATCH)]
            ids = np.fromiter((_top64(pk) for pk in cands), np.uint64, GRIND_BATCH)
            self.hashes += GRIND_BATCH
            for t, wanted in enumerate(wants):
                if not wanted:
                    continue
                dists = honest[t]
                top = max(wanted)
                bound = dists[top] if top < len(dists) else np.uint64(2**64 - 1)
                d = ids ^ kints[t]
                for j in np.flatnonzero(d < bound).tolist():
                    r = int(np.searchsorted(dists, d[j]))
                    if wanted.get(r):
                        wanted[r] -= 1
                        if not wanted[r]:
                            del wanted[r]
                        got.append((t, cands[j]))
                        if not wanted:
                            break
        return got

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
        sybils = len(self._group)
        return {
            "eclipse_keys": len(self._places),
            "eclipse_per_key": self.per_key,
            "eclipse_puzzle_bits": self.puzzle_bits,
            "eclipse_budget": self.budget,
            # the attacker's modelled spend: key generations (each one also hashed for the puzzle)
            "attacker_keygens": self.budget * sybils,
            "eclipse_near_k": self.near,  # sybils among the k closest ids of their key
            "eclipse_near_share": round(self.near / (len(self._places) * self.ctx.k), 4)
            if self._places
            else 0,
            "eclipse_far": self.far,
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
