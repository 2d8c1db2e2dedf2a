"""Real agents in one process: ``metaspace.peer.agent.Agent`` over ``p2p.memory`` transports and real
``DhtDriver`` s, each with its own SQLite database and the process-wide embedder.

No OS processes and no libp2p: what is tested is the agent (publish, watch, match, INTENT_MATCH), fed
by the very DHT driver and core it runs on in production. The clock is trio's real one (the agent ranks
in worker threads); every wait is bounded.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import trio

from dht.config import DhtConfig
from dht.node import Node
from matching import LocalIndex
from matching.embedder import get_embedder
from metaspace.api.contract import PublishParams, validate_publish
from metaspace.config import AgentConfig
from metaspace.peer.agent import Agent
from metaspace.peer.db import AgentDB
from metaspace.peer.deals import DealMaker
from metaspace.peer.events import EventBus
from metaspace.peer.handoverdb import HandoverDB
from metaspace.peer.handovers import Handovers
from metaspace.peer.personas import Personas
from metaspace.peer.remote import RemoteIntents
from p2p.dht_driver import DhtDriver
from p2p.host import P2PHost
from p2p.memory import MemoryNetwork, MemoryTransport
from wire.geo import cell_at
from wire.identity import Identity

CONFIG = DhtConfig(k=4, alpha=3, rpc_timeout=2.0, lookup_timeout=10.0)
CHICAGO = (41.8781, -87.6298)
SUBURB = (41.6600, -87.7000)  # ~25 km south


def identity(i: int) -> Identity:
    return Identity(bytes([0x40 + i]) * 32)


def config_for(ident: Identity, **overrides: Any) -> AgentConfig:
    base: dict[str, Any] = dict(
        peer_id=ident.peer_id, marketplace="full", autonomy="full", location="neighborhood", max_h3_res=7,
        home_cell=cell_at(*CHICAGO, 7), spend_limit_minor=50_000, share="basic",
    )  # fmt: skip
    base.update(overrides)
    return AgentConfig(**base)


def _like_a_host(transport: MemoryTransport) -> MemoryTransport:
    """The two peerstore methods of ``P2PHost`` the agent calls, for a memory transport (which needs
    no addresses: every peer of its network is reachable by id)."""
    transport.add_peer_addrs = lambda peer_id, addrs: None  # type: ignore[attr-defined]
    transport.believable_addrs = lambda addrs: list(addrs)  # type: ignore[attr-defined]
    return transport


@asynccontextmanager
async def _memory_host(net: MemoryNetwork, peer_id: str) -> AsyncIterator[MemoryTransport]:
    async with net.open(peer_id) as transport:
        yield _like_a_host(transport)


@dataclass
class AgentPeer:
    identity: Identity
    transport: MemoryTransport
    driver: DhtDriver
    agent: Agent

    @property
    def seed(self) -> str:
        return f"{self.transport.listen_addrs()[0]}/p2p/{self.identity.peer_id}"


@asynccontextmanager
async def agents(
    tmp_path: Path,
    n: int,
    *,
    configs: dict[int, dict[str, Any]] | None = None,
    remote: dict[int, RemoteIntents] | None = None,
    net: MemoryNetwork | None = None,
    dealers: bool = False,
    handovers: bool = False,
) -> AsyncIterator[list[AgentPeer]]:
    """``n`` joined agents (notices served, personas on memory hosts, watchers not running: tests call
    ``watch_once``); with ``dealers`` each agent negotiates too (a running ``DealMaker``), with
    ``handovers`` it arranges the meeting after a deal (``Handovers``, calendar files under tmp_path)."""
    net = net or MemoryNetwork()
    embedder = get_embedder()
    async with AsyncExitStack() as stack:
        nursery = await stack.enter_async_context(trio.open_nursery())
        peers = []
        for i in range(n):
            ident = identity(i)
            transport = await stack.enter_async_context(_memory_host(net, ident.peer_id))
            node = Node(ident.pubkey, transport.listen_addrs(), CONFIG, random.Random(i))
            driver = DhtDriver(transport, node)
            await nursery.start(driver.run)
            db = AgentDB(tmp_path / f"agent{i}.sqlite")
            stack.callback(db.close)
            personas = Personas(
                ident, ["/memory/tcp/0"], opener=lambda pid, _listen: _memory_host(net, pid.peer_id)
            )
            await nursery.start(personas.run)
            agent = Agent(
                ident, config_for(ident, **(configs or {}).get(i, {})), cast(P2PHost, transport), driver, db,
                EventBus(), index=LocalIndex(embedder), watch_interval=3600.0,
                remote=(remote or {}).get(i), personas=personas,
            )  # fmt: skip
            if dealers:
                agent.dealer = DealMaker(agent, duration=30.0)
                await nursery.start(agent.dealer.run)
            if handovers:
                hdb = HandoverDB(tmp_path / f"handover{i}.sqlite")
                stack.callback(hdb.close)
                agent.handovers = Handovers(agent, hdb, tmp_path / f"calendar{i}")
                await nursery.start(agent.handovers.run)
            agent.serve(cast(P2PHost, transport), None)
            peers.append(AgentPeer(ident, transport, driver, agent))
        for p in peers[1:]:
            await p.driver.bootstrap([peers[0].seed])
        for p in peers:
            await p.driver.find_node(p.driver.node.node_id)
        yield peers
        nursery.cancel_scope.cancel()


def usd(minor: int) -> dict[str, Any]:
    return {"amount_minor": minor, "currency": "USD", "per_unit": True}


TIRES = {"category": "vehicles/tires", "radius_km": 50, "quantity": 4, "attributes": {"size": "225/65R17"}}


def sell_tires(lat_lon: tuple[float, float] = CHICAGO, **extra: Any) -> PublishParams:
    return validate_publish({"action": "SELL", "lat": lat_lon[0], "lon": lat_lon[1], "price": usd(8000),
                             "text": "4 used tires 225/65R17", **TIRES, **extra})  # fmt: skip


def buy_tires(lat_lon: tuple[float, float] = SUBURB, **extra: Any) -> PublishParams:
    return validate_publish({"action": "BUY", "lat": lat_lon[0], "lon": lat_lon[1],
                             "text": "necesito llantas 225/65R17", **TIRES, **extra})  # fmt: skip
