"""In-process bed for :class:`metaspace.peer.deals.DealMaker`: agents with a real database, real sessions
and the real stream driver, linked by in-memory streams instead of libp2p (all under trio's MockClock).

* :class:`MemoryNet` plays the hosts: ``open_stream`` links two :class:`MemoryStream` s and runs the
  target's handler guarded like ``P2PHost.set_handler`` (bounded by its timeout; a timeout is recorded
  in ``net.handler_timeouts``). Every written frame passes ``net.on_write`` hooks first (to look at the
  writer's database at the instant a frame leaves, as a ``kill -9`` would).
* :class:`AgentDouble` is the part of ``metaspace.peer.agent.Agent`` a DealMaker uses (identity, config,
  database, event bus, clock, own intents, known records, the firewall), with ``publish`` and
  ``add_match`` helpers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import trio

from metaspace.config import AgentConfig
from metaspace.peer.db import AgentDB, MatchRow
from metaspace.peer.events import EventBus
from metaspace.peer.firewall import Firewall, FirewallLimits
from metaspace.peer.trustdb import TrustDB
from wire.envelope import open_intent, seal_intent
from wire.geo import cell_at
from wire.identity import Identity
from wire.intent import Action, Intent, Price

log = logging.getLogger(__name__)

BASE = 1_700_000_000.0
CELL = cell_at(41.8781, -87.6298, 5)
Handler = Callable[[Any], Awaitable[None]]
WriteHook = Callable[[str, bytes], None]


class MemoryStream:
    """One end of an in-memory stream with py-libp2p's read/write/close/reset surface."""

    def __init__(
        self,
        net: MemoryNet,
        me: str,
        remote: str,
        inbox: trio.MemoryReceiveChannel[bytes],
        outbox: trio.MemorySendChannel[bytes],
    ) -> None:
        self.net, self.me = net, me
        self.muxed_conn = SimpleNamespace(peer_id=remote)
        self._inbox, self._outbox = inbox, outbox
        self._buf = b""

    async def read(self, n: int = -1) -> bytes:
        if not self._buf:
            try:
                self._buf = await self._inbox.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                return b""
        n = len(self._buf) if n is None or n < 0 else n
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    async def write(self, data: bytes) -> None:
        for hook in self.net.on_write:
            hook(self.me, data[4:])  # one write_frame = prefix + frame
        try:
            await self._outbox.send(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise trio.BrokenResourceError("stream closed") from exc

    async def close(self) -> None:
        await self._outbox.aclose()

    async def reset(self) -> None:
        await self._outbox.aclose()
        await self._inbox.aclose()


class MemoryHost:
    """The host surface a DealMaker uses: ``set_handler`` and ``open_stream``."""

    def __init__(self, net: MemoryNet, peer_id: str) -> None:
        self.net, self.peer_id = net, peer_id

    def set_handler(self, protocol: str, handler: Handler, timeout: float | None = None) -> None:
        self.net.handlers[self.peer_id] = (handler, math.inf if timeout is None else timeout)

    async def open_stream(
        self, peer: str, protocol: str, timeout: float = 10.0, addrs: Any = None
    ) -> MemoryStream:
        handler, limit = self.net.handlers[peer]
        a_send, b_recv = trio.open_memory_channel[bytes](math.inf)
        b_send, a_recv = trio.open_memory_channel[bytes](math.inf)
        ours = MemoryStream(self.net, self.peer_id, peer, a_recv, a_send)
        theirs = MemoryStream(self.net, peer, self.peer_id, b_recv, b_send)
        self.net.nursery.start_soon(self.net.guard, handler, theirs, limit)
        return ours


class MemoryNet:
    """Hosts by peer id, and the nursery their handlers run in."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.handlers: dict[str, tuple[Handler, float]] = {}
        self.on_write: list[WriteHook] = []
        self.handler_timeouts = 0
        self.handler_errors: list[BaseException] = []

    def host(self, peer_id: str) -> MemoryHost:
        return MemoryHost(self, peer_id)

    async def guard(self, handler: Handler, stream: MemoryStream, limit: float) -> None:
        with trio.move_on_after(limit) as scope:
            try:
                await handler(stream)
            except Exception as exc:  # P2PHost.set_handler: logged, the stream reset, the host lives on
                self.handler_errors.append(exc)
                await stream.reset()
                return
        if scope.cancelled_caught:
            self.handler_timeouts += 1
        await stream.close()


class AgentDouble:
    """What a DealMaker needs of an Agent, backed by a real AgentDB."""

    def __init__(self, name: str, db_path: Path, net: MemoryNet | None, **config: Any) -> None:
        self.identity = Identity(hashlib.sha256(name.encode()).digest())
        defaults: dict[str, Any] = {"autonomy": "full", "spend_limit_minor": None, "marketplace": "full"}
        self.config = AgentConfig(peer_id=self.identity.peer_id, **{**defaults, **config})
        self.db = AgentDB(db_path)
        self.db_path = db_path
        self.bus = EventBus()
        self.host = net.host(self.identity.peer_id) if net is not None else None
        self.records: dict[tuple[bytes, bytes], bytes] = {}
        self.dealer: Any = None
        self.reputations: Any = None
        self.handovers: Any = None  # no meeting arrangements in these doubles
        self.firewall = Firewall(TrustDB(None), self.bus, self.now, FirewallLimits(), self.identity.peer_id)

    def peer_info(self, peer: str) -> dict[str, Any]:
        return {"id": peer, "blocked": self.firewall.blocked(peer)}

    @property
    def peer_id(self) -> str:
        return self.identity.peer_id

    def now(self) -> float:
        try:
            return BASE + trio.current_time()
        except RuntimeError:  # outside trio.run
            return BASE

    def own_intent(self, intent_id: bytes) -> Intent | None:
        record = self.db.intent_record(intent_id.hex())
        return None if record is None else open_intent(record)[1]

    def known_record(self, author: bytes, intent_id: bytes) -> bytes | None:
        return self.records.get((author, intent_id))

    # who speaks for an intent: always the agent itself here (no personas)
    def is_private(self, intent: Intent) -> bool:
        return False

    def identity_for(self, intent: Intent) -> Identity:
        return self.identity

    async def host_for(self, intent: Intent) -> Any:
        return self.host

    def served_intent(self, intent_id: bytes, serving: bytes | None) -> Intent | None:
        return self.own_intent(intent_id) if serving is None else None

    def publish(
        self,
        action: Action,
        price: int | None,
        limit: int | None,
        *,
        currency: str = "USD",
        limit_cur: str | None = None,
    ) -> tuple[Intent, bytes]:
        """Store one of our intents (tires, 4 units) with its private limit; returns (intent, record)."""
        now = int(self.now())
        intent = Intent(
            id=os.urandom(16), author=self.identity.pubkey, seq=1, action=action, category="vehicles/tires",
            price=None if price is None else Price(price, currency), quantity=4, cell=CELL, created=now,
            expires=now + 86_400,
        )  # fmt: skip
        record = seal_intent(self.identity, intent)
        self.db.save_intent(intent.id.hex(), record, 1, False, intent.expires, now)
        if limit is not None:
            self.db.set_reservation(intent.id.hex(), limit, limit_cur or currency)
        return intent, record

    def know(self, intent: Intent, record: bytes) -> None:
        """Remember another agent's intent record (as a match or a DHT search would)."""
        self.records[(intent.author, intent.id)] = record

    def add_match(self, mine: Intent, other_record: bytes) -> str:
        _env, other = open_intent(other_record)
        match_id = hashlib.sha256(mine.id + other.id).hexdigest()[:16]
        self.db.save_match(
            MatchRow(match_id, mine.id.hex(), other_record, other.author.hex(), 0.9, 1.0, {}, "new", False,
                     self.now())
        )  # fmt: skip
        return match_id


def snapshot_db(path: Path, dest: Path) -> Path:
    """Copy what is committed (durable: ``synchronous=FULL``) in the database at ``path`` right now —
    what a ``kill -9`` at this instant would leave on disk."""
    src, dst = sqlite3.connect(str(path)), sqlite3.connect(str(dest))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return dest


async def wait_for(pred: Callable[[], Any], seconds: float = 600.0, step: float = 0.5) -> Any:
    """Poll ``pred`` in (virtual) time until it is truthy; fails after ``seconds``."""
    for _ in range(int(seconds / step)):
        value = pred()
        if value:
            return value
        await trio.sleep(step)
    raise AssertionError("condition not reached in time")
