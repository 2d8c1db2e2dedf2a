"""An in-memory network of :class:`~p2p.transport.Transport` s: the drivers' test bed without OS processes.

Theory of operation
-------------------
A :class:`MemoryNetwork` holds transports by peer id. ``open_stream`` on one of them finds the target,
"connects" (a connection is just the fact that two peers are linked; ``connected_peers`` lists them),
checks that the target serves the protocol (else :class:`~p2p.transport.ProtocolRefused`) and creates
a pair of :class:`MemoryStream` s: each direction is a :class:`_Pipe` with a receive window (a writer
blocks while the reader's buffer holds ``window`` bytes, like yamux), a FIN (``close``) and a reset flag.
The target's handler runs in the target transport's own nursery, guarded like ``P2PHost.set_handler``:
bounded in time, the stream closed when it returns and reset when it raises.

Faults a test can inject, all in virtual time under ``trio.testing.MockClock``:

* ``network.latency``: every write (and every stream open) takes this long to arrive;
* ``network.set_down(peer)``: the peer is gone: its streams reset, dials to it fail with ``DialError``;
* ``network.fail_opens(a, b, n)``: the next ``n`` stream opens from ``a`` to ``b`` fail (``DialError``);
* ``network.break_connection(a, b)``: every stream between ``a`` and ``b`` is reset (both sides see it);
* ``transport.disconnect(peer)``: the same, from one side, as ``P2PHost.disconnect`` does.

The streams keep py-libp2p's semantics (see :mod:`p2p.transport`): ``read(n)`` returns 1..n bytes or
``b""`` at EOF, a reset raises ``trio.BrokenResourceError`` on both sides, writes are split into window-sized
pieces and a cancelled write may have delivered a prefix (as yamux's would).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio
from multiaddr import Multiaddr

from p2p.addrs import AddrPolicy
from p2p.host import (
    DEFAULT_HANDLER_TIMEOUT,
    DEFAULT_STREAM_TIMEOUT,
    STREAM_CLOSE_TIMEOUT,
    DialError,
    P2PError,
    PeerTimeout,
)
from p2p.transport import ProtocolRefused, Stream

log = logging.getLogger(__name__)

#: Bytes a reader may have unread before the writer blocks (yamux's initial window).
DEFAULT_WINDOW = 256 * 1024


class _Pipe:
    """One direction of a stream: a bounded buffer, a FIN and a reset flag."""

    def __init__(self, window: int) -> None:
        self.buffer = bytearray()
        self.window = window
        self.fin = False
        self.broken = False
        self.lot = trio.lowlevel.ParkingLot()

    def wake(self) -> None:
        self.lot.unpark_all()


@dataclass(frozen=True)
class MemoryConn:
    """What ``Stream.muxed_conn`` is for a memory stream: the remote peer and its observed address."""

    peer_id: str
    remote_address: tuple[str, int]


class MemoryStream:
    """One end of an in-memory stream (see the module docstring for its semantics)."""

    def __init__(
        self, network: MemoryNetwork, conn: MemoryConn, inbound: _Pipe, outbound: _Pipe, protocol: str
    ) -> None:
        self._network = network
        self._conn = conn
        self._in = inbound
        self._out = outbound
        self.protocol = protocol
        self.local_peer = ""

    @property
    def muxed_conn(self) -> MemoryConn:
        return self._conn

    def get_remote_address(self) -> tuple[str, int] | None:
        return self._conn.remote_address

    @property
    def is_reset(self) -> bool:
        return self._in.broken

    async def read(self, n: int | None = None) -> bytes:
        pipe = self._in
        while True:
            if pipe.broken:
                raise trio.BrokenResourceError("stream was reset")
            if pipe.buffer:
                take = len(pipe.buffer) if n is None or n < 0 else min(n, len(pipe.buffer))
                data = bytes(pipe.buffer[:take])
                del pipe.buffer[:take]
                pipe.wake()  # a writer may wait for room
                await trio.lowlevel.checkpoint()
                return data
            if pipe.fin:
                await trio.lowlevel.checkpoint()
                return b""
            await pipe.lot.park()

    async def write(self, data: bytes) -> None:
        pipe = self._out
        view = memoryview(data)
        if self._network.latency > 0:
            await trio.sleep(self._network.latency)
        else:
            await trio.lowlevel.checkpoint()
        while view:
            if pipe.broken:
                raise trio.BrokenResourceError("stream was reset")
            if pipe.fin:
                raise trio.ClosedResourceError("stream is closed for writing")
            room = pipe.window - len(pipe.buffer)
            if room <= 0:
                await pipe.lot.park()
                continue
            pipe.buffer += view[:room]
            view = view[room:]
            pipe.wake()
            if view:
                await trio.lowlevel.checkpoint()  # a cancellation here delivers a prefix, as yamux may

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()
        if not self._out.broken:
            self._out.fin = True
            self._out.wake()

    async def reset(self) -> None:
        await trio.lowlevel.checkpoint()
        self.reset_nowait()

    def reset_nowait(self) -> None:
        for pipe in (self._in, self._out):
            pipe.broken = True
            pipe.buffer.clear()
            pipe.wake()


@dataclass
class MemoryStatistics:
    streams_opened: int = 0
    streams_failed: int = 0
    inbound_streams: int = 0
    handler_errors: int = 0
    handler_timeouts: int = 0
    opens_by_protocol: dict[str, int] = field(default_factory=dict)


class MemoryTransport:
    """One peer of a :class:`MemoryNetwork`; satisfies :class:`p2p.transport.Transport`.

    Build it with ``network.open(peer_id)`` (an async context manager that runs its handlers)."""

    def __init__(self, network: MemoryNetwork, peer_id: str, ip: str) -> None:
        self.network = network
        self._peer_id = peer_id
        self.ip = ip
        self._handlers: dict[str, tuple[Callable[[Stream], Awaitable[None]], float | None]] = {}
        self._nursery: trio.Nursery | None = None
        self.stats = MemoryStatistics()

    @property
    def peer_id(self) -> str:
        return self._peer_id

    def listen_addrs(self) -> list[str]:
        return [f"/ip4/{self.ip}/tcp/4001"]

    def believable_addrs(self, addrs: Sequence[str]) -> list[str]:
        """As ``P2PHost``: judged from our (private, 10.x) address."""
        return AddrPolicy([Multiaddr(a) for a in self.listen_addrs()]).filter(addrs)

    def connected_peers(self) -> list[str]:
        return sorted(self.network.links.get(self._peer_id, set()))

    def is_connected(self, peer_id: str) -> bool:
        return peer_id in self.network.links.get(self._peer_id, set())

    def set_handler(
        self,
        protocol: str,
        handler: Callable[[Stream], Awaitable[None]],
        timeout: float | None = DEFAULT_HANDLER_TIMEOUT,
    ) -> None:
        self._handlers[protocol] = (handler, timeout)

    def remove_handler(self, protocol: str) -> None:
        self._handlers.pop(protocol, None)

    def serves(self, protocol: str) -> bool:
        return protocol in self._handlers

    async def open_stream(
        self,
        peer_id: str,
        protocol: str,
        timeout: float = DEFAULT_STREAM_TIMEOUT,
        addrs: Sequence[str] | None = None,
    ) -> Stream:
        """See ``Transport.open_stream``.

        Raises:
            DialError: the peer is unknown, down, or an injected failure; ``ProtocolRefused``.
            PeerTimeout: not open within ``timeout`` (with ``network.latency`` > timeout).
        """
        with trio.move_on_after(timeout):
            try:
                return await self._open(peer_id, protocol)
            except P2PError:
                self.stats.streams_failed += 1
                raise
        self.stats.streams_failed += 1
        raise PeerTimeout(f"opening {protocol} to {peer_id} took longer than {timeout} s")

    async def _open(self, peer_id: str, protocol: str) -> Stream:
        net = self.network
        if self._nursery is None:
            raise P2PError("the transport is not running")
        if net.latency > 0:
            await trio.sleep(net.latency)  # the open's round trip
        else:
            await trio.lowlevel.checkpoint()
        target = net.transports.get(peer_id)
        if peer_id == self._peer_id:
            raise DialError("refusing to dial ourselves")
        if target is None or target._nursery is None or peer_id in net.down or self._peer_id in net.down:
            raise DialError(f"could not connect to {peer_id}")
        key = (self._peer_id, peer_id)
        if net.failing_opens.get(key, 0) > 0:
            net.failing_opens[key] -= 1
            raise DialError(f"could not open {protocol} to {peer_id} (injected failure)")
        net.link(self._peer_id, peer_id)
        entry = target._handlers.get(protocol)
        if entry is None:
            raise ProtocolRefused(f"{peer_id} does not serve {protocol}")
        ours, theirs = net.stream_pair(self, target, protocol)
        self.stats.streams_opened += 1
        self.stats.opens_by_protocol[protocol] = self.stats.opens_by_protocol.get(protocol, 0) + 1
        target._nursery.start_soon(target._serve, entry[0], entry[1], theirs)
        return ours

    async def _serve(
        self, handler: Callable[[Stream], Awaitable[None]], timeout: float | None, stream: MemoryStream
    ) -> None:
        """Run one inbound handler as ``P2PHost.set_handler`` does: bounded, never crashing us."""
        self.stats.inbound_streams += 1
        ok = False
        try:
            with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
                await handler(stream)
                ok = True
            if scope.cancelled_caught:
                self.stats.handler_timeouts += 1
        except Exception as exc:
            self.stats.handler_errors += 1
            log.debug("memory handler for %s failed: %r", stream.protocol, exc)
        finally:
            with trio.CancelScope(shield=True):
                if ok:
                    await stream.close()
                else:
                    await stream.reset()

    async def disconnect(self, peer_id: str, timeout: float = STREAM_CLOSE_TIMEOUT) -> None:
        await trio.lowlevel.checkpoint()
        self.network.break_connection(self._peer_id, peer_id)


class MemoryNetwork:
    """Transports by peer id, their links, their streams, and the faults to inject."""

    def __init__(self, *, latency: float = 0.0, window: int = DEFAULT_WINDOW) -> None:
        self.latency = latency
        self.window = window
        self.transports: dict[str, MemoryTransport] = {}
        self.links: dict[str, set[str]] = {}
        self.down: set[str] = set()
        self.failing_opens: dict[tuple[str, str], int] = {}
        self._streams: dict[frozenset[str], list[MemoryStream]] = {}
        self._serial = 0

    @asynccontextmanager
    async def open(self, peer_id: str) -> AsyncIterator[MemoryTransport]:
        """Run a transport for ``peer_id`` for the body of the block (its handlers run in it)."""
        self._serial += 1
        n = self._serial
        transport = MemoryTransport(self, peer_id, f"10.{(n >> 8) & 255}.{n & 255}.1")
        self.transports[peer_id] = transport
        try:
            async with trio.open_nursery() as nursery:
                transport._nursery = nursery
                try:
                    yield transport
                finally:
                    transport._nursery = None
                    nursery.cancel_scope.cancel()
        finally:
            self._drop(peer_id)
            self.transports.pop(peer_id, None)

    def stream_pair(
        self, a: MemoryTransport, b: MemoryTransport, protocol: str
    ) -> tuple[MemoryStream, MemoryStream]:
        """A new stream between ``a`` (returned first) and ``b``."""
        a_to_b, b_to_a = _Pipe(self.window), _Pipe(self.window)
        ours = MemoryStream(self, MemoryConn(b.peer_id, (b.ip, 4001)), b_to_a, a_to_b, protocol)
        theirs = MemoryStream(self, MemoryConn(a.peer_id, (a.ip, 50000)), a_to_b, b_to_a, protocol)
        ours.local_peer, theirs.local_peer = a.peer_id, b.peer_id
        streams = self._streams.setdefault(frozenset((a.peer_id, b.peer_id)), [])
        streams[:] = [s for s in streams if not s.is_reset]
        streams += [ours, theirs]
        return ours, theirs

    def link(self, a: str, b: str) -> None:
        self.links.setdefault(a, set()).add(b)
        self.links.setdefault(b, set()).add(a)

    def break_connection(self, a: str, b: str) -> None:
        """Reset every stream between ``a`` and ``b`` and unlink them."""
        for stream in self._streams.pop(frozenset((a, b)), []):
            stream.reset_nowait()
        self.links.get(a, set()).discard(b)
        self.links.get(b, set()).discard(a)

    def set_down(self, peer_id: str, down: bool = True) -> None:
        """Take a peer off the network (its connections break, dials fail) or bring it back."""
        if down:
            self.down.add(peer_id)
            self._drop(peer_id)
        else:
            self.down.discard(peer_id)

    def fail_opens(self, a: str, b: str, n: int) -> None:
        """Make the next ``n`` stream opens from ``a`` to ``b`` fail with ``DialError``."""
        self.failing_opens[(a, b)] = n

    def streams_between(self, a: str, b: str) -> list[MemoryStream]:
        """Live (not reset) streams between two peers, both ends."""
        return [s for s in self._streams.get(frozenset((a, b)), []) if not s.is_reset]

    def _drop(self, peer_id: str) -> None:
        for other in list(self.links.get(peer_id, set())):
            self.break_connection(peer_id, other)


__all__ = ["DEFAULT_WINDOW", "MemoryConn", "MemoryNetwork", "MemoryStream", "MemoryTransport"]
