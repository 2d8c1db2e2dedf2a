"""In-process bed for ratings, profiles and the firewall (no tests here).

* :class:`ProtoNet` is ``tests.deal_helpers.MemoryNet`` with one handler per (peer, protocol), so the
  negotiation and the trust protocol of one agent live side by side, and ``p2p.framing.rpc`` works.
* :class:`StoreDriver` is the DHT driver surface an agent uses (``publish``, ``get_records``) over one
  real :class:`dht.RecordStore`: every record passes the store's own checks, as on a real node.
* :func:`trading_pair` makes a seller and a buyer (real databases, real DealMakers) that reach a
  co-signed agreement, each with a :class:`metaspace.peer.reputations.Reputations`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import trio

from dht import RecordStore
from dht.events import Found, NotFound, Published
from dht.keys import key_for_record
from metaspace.peer.deals import DealMaker
from metaspace.peer.reputations import Reputations
from negotiation import State
from tests.deal_helpers import AgentDouble, MemoryNet, MemoryStream, wait_for
from wire.intent import Action
from wire.messages import PutStatus
from wire.records import open_record


class ProtoHost:
    """``set_handler`` / ``open_stream`` of one peer, handlers keyed by protocol."""

    def __init__(self, net: ProtoNet, peer_id: str) -> None:
        self.net, self.peer_id = net, peer_id

    def set_handler(self, protocol: str, handler: Any, timeout: float | None = None) -> None:
        self.net.routes[(self.peer_id, protocol)] = (handler, math.inf if timeout is None else timeout)

    async def open_stream(
        self, peer: str, protocol: str, timeout: float = 10.0, addrs: Any = None
    ) -> MemoryStream:
        from p2p.host import DialError

        route = self.net.routes.get((peer, protocol))
        if route is None or peer in self.net.down:
            raise DialError(f"{peer} does not serve {protocol}")
        handler, limit = route
        a_send, b_recv = trio.open_memory_channel[bytes](math.inf)
        b_send, a_recv = trio.open_memory_channel[bytes](math.inf)
        ours = MemoryStream(self.net, self.peer_id, peer, a_recv, a_send)
        theirs = MemoryStream(self.net, peer, self.peer_id, b_recv, b_send)
        self.net.nursery.start_soon(self.net.guard, handler, theirs, limit)
        return ours


class ProtoNet(MemoryNet):
    def __init__(self, nursery: trio.Nursery) -> None:
        super().__init__(nursery)
        self.routes: dict[tuple[str, str], tuple[Any, float]] = {}
        self.down: set[str] = set()

    def host(self, peer_id: str) -> ProtoHost:  # type: ignore[override]
        return ProtoHost(self, peer_id)


class StoreDriver:
    """The DHT as one shared record store (see the module docstring)."""

    def __init__(self, store: RecordStore, now: Any) -> None:
        self.store, self._now = store, now
        self.refused: list[PutStatus] = []

    def now(self) -> float:
        return float(self._now())

    async def publish(self, record: bytes) -> Published:
        _env, view = open_record(record)
        status = self.store.put(key_for_record(view), record, self.now())
        if status not in (PutStatus.STORED, PutStatus.REPLACED, PutStatus.STALE):
            self.refused.append(status)
            return Published(key_for_record(view), 0, {status.name: 1})
        return Published(key_for_record(view), 1, {status.name: 1})

    async def get_records(self, key: bytes, action: Any = None, since: int = 0) -> Found | NotFound:
        records, _cursor = self.store.get(key, self.now(), action, since)
        if not records:
            return NotFound(key, [], 1, 1)
        return Found(key, records, 1, 1, 1)


PROTOCOLS = ("/metaspace/negotiate/1.0.0",)


async def trading_pair(nursery: trio.Nursery, tmp: Path, **config: Any) -> dict[str, Any]:
    """A seller and a buyer that reached a co-signed agreement, each with Reputations running."""
    net = ProtoNet(nursery)
    seller = AgentDouble("seller", tmp / "s.db", net, **config)  # type: ignore[arg-type]
    buyer = AgentDouble("buyer", tmp / "b.db", net, **config)  # type: ignore[arg-type]
    store = RecordStore()
    for agent in (seller, buyer):
        agent.driver = StoreDriver(store, agent.now)  # type: ignore[attr-defined]
    s_int, s_rec = seller.publish(Action.SELL, 8000, 5500)
    b_int, b_rec = buyer.publish(Action.BUY, None, 7500)
    seller.know(b_int, b_rec)
    match_id = buyer.add_match(b_int, s_rec)
    dealers = [DealMaker(seller), DealMaker(buyer)]  # type: ignore[arg-type]
    for agent, dealer in zip((seller, buyer), dealers, strict=True):
        agent.dealer = dealer
        await nursery.start(dealer.run)
        agent.reputations = Reputations(agent, agent.firewall.db, PROTOCOLS)  # type: ignore[arg-type]
        await nursery.start(agent.reputations.run)
    await dealers[1].start(match_id)
    await wait_for(lambda: all(_agreed(a) for a in (seller, buyer)))
    deal_id = buyer.db.deals()[0].id
    return {"net": net, "seller": seller, "buyer": buyer, "store": store, "deal": deal_id, "match": match_id,
            "s_int": s_int, "b_int": b_int}  # fmt: skip


def _agreed(agent: AgentDouble) -> bool:
    deals = agent.db.deals()
    return bool(deals) and deals[-1].state == State.AGREED and agent.db.agreement(deals[-1].id) is not None
