"""Shared helpers of the dht tests: real signed intents and small in-process networks (no tests here)."""

from __future__ import annotations

import dataclasses
import functools
import random

from dht import DhtConfig
from dht.testing import InProcessNetwork
from wire import Action, Identity, Intent, seal_intent
from wire.geo import cell_at

T0 = 1_700_000_000.0  # the tests' clock starts here (intents carry unix-like timestamps)
BERLIN = (52.52, 13.40)


def identity(n: int) -> Identity:
    """A deterministic identity from a seeded 32-byte seed."""
    return Identity(random.Random(n).randbytes(32))


def make_intent(
    ident: Identity,
    n: int = 1,
    *,
    seq: int = 1,
    action: Action = Action.SELL,
    category: str = "vehicles/tires",
    where: tuple[float, float] = BERLIN,
    created: float = T0,
    ttl: int = 86400,
    withdrawn: bool = False,
) -> Intent:
    return Intent(
        id=n.to_bytes(16, "big"),
        author=ident.pubkey,
        seq=seq,
        action=action,
        category=category,
        cell=cell_at(where[0], where[1], 7),
        created=int(created),
        expires=int(created) + ttl,
        withdrawn=withdrawn,
    )


def record(ident: Identity, n: int = 1, **kw: object) -> bytes:
    """A signed intent record (see ``make_intent`` for the keywords)."""
    return seal_intent(ident, make_intent(ident, n, **kw))  # type: ignore[arg-type]


def multi_record(
    ident: Identity, n: int = 1, extra_groups: tuple[str, ...] = ("home",), **kw: object
) -> bytes:
    """A signed intent record filed under ``extra_groups`` too (``Intent.extra_groups``; the default category
    "vehicles/tires" is of the group "vehicles")."""
    intent = make_intent(ident, n, **kw)  # type: ignore[arg-type]
    return seal_intent(ident, dataclasses.replace(intent, extra_groups=list(extra_groups)))


@functools.cache
def shared_network_200() -> InProcessNetwork:
    """One 200-node network shared by the tests that only add to it (built once per session)."""
    return network(200, seed=21)


def network(n: int, seed: int = 1, **cfg: object) -> InProcessNetwork:
    """``n`` nodes bootstrapped one after the other through the first one."""
    config = DhtConfig(**{"refresh_on_bootstrap": False, **cfg})  # type: ignore[arg-type]
    net = InProcessNetwork(config, random.Random(seed), now=T0)
    nodes = [net.add_node() for _ in range(n)]
    net.bootstrap_all([nodes[0].contact])
    return net
