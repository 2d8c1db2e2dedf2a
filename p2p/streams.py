"""Streams: who is on the other end, closing and resetting safely, guarded handlers, inbound stream caps.

Used by :mod:`p2p.host` (and re-exported from it); the drivers use ``stream_peer_id`` and
``stream_remote_ip`` on the streams their handlers receive.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID

from p2p.errors import P2PError
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)

#: Longest an inbound stream handler may run before its stream is reset (a peer that opens a stream
#: and then says nothing must not hold a task forever). ``None`` per handler lifts it.
DEFAULT_HANDLER_TIMEOUT = 30.0
#: Close or reset of one stream.
STREAM_CLOSE_TIMEOUT = 1.0
#: Inbound streams one connection may hold open at once (the DHT needs a handful, a negotiation one).
MAX_INBOUND_STREAMS_PER_CONN = 64
#: Inbound streams all connections together may hold open at once.
MAX_INBOUND_STREAMS = 4096

StreamHandler = Callable[[INetStream], Awaitable[None]]

#: Handler failures caused by the network (logged at DEBUG: a peer going away is routine). Bad input
#: (``RemoteProtocolError``) is logged at INFO; anything else is a bug in the handler (WARNING, with
#: its traceback).
_NETWORK_FAILURES = (
    P2PError,
    BaseLibp2pError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
)


@dataclass
class StreamCounters:
    """Inbound stream counters of one host (part of ``HostStatistics``)."""

    inbound_streams: int = 0
    inbound_streams_refused: int = 0
    handler_errors: int = 0
    handler_timeouts: int = 0


def stream_peer_id(stream: INetStream) -> str:
    """The peer id text of the remote end of a stream, authenticated by the Noise handshake."""
    return str(stream.muxed_conn.peer_id)


def safe_peer(stream: INetStream) -> str:
    """``stream_peer_id`` for log lines: never raises."""
    try:
        return stream_peer_id(stream)
    except Exception:
        return "?"


def stream_remote_ip(stream: INetStream) -> str | None:
    """The IP address the connection carrying ``stream`` comes from, as the kernel observed it (not
    what the peer claims), or None if unknown. IPv4-mapped IPv6 addresses are given as IPv4."""
    try:
        remote = stream.muxed_conn.get_remote_address()  # type: ignore[attr-defined]
    except Exception:  # the connection is gone, or a transport without addresses
        return None
    if not remote:
        return None
    ip = str(remote[0]).split("%", 1)[0]
    return ip[7:] if ip.lower().startswith("::ffff:") and "." in ip else ip


async def reset_stream(stream: INetStream) -> None:
    """Reset a stream, bounded and shielded (safe in ``finally`` and during cancellation)."""
    with trio.CancelScope(shield=True), trio.move_on_after(STREAM_CLOSE_TIMEOUT):
        try:
            await stream.reset()
        except Exception as exc:  # the connection may already be gone
            log.debug("stream reset failed: %r", exc)


async def close_stream(stream: INetStream) -> None:
    """Close (FIN) a stream, bounded and shielded; fall back to a reset if closing fails."""
    with trio.CancelScope(shield=True), trio.move_on_after(STREAM_CLOSE_TIMEOUT):
        try:
            await stream.close()
            return
        except Exception as exc:
            log.debug("stream close failed, resetting: %r", exc)
    await reset_stream(stream)


def guard_handler(
    protocol: str, handler: StreamHandler, timeout: float | None, counters: StreamCounters
) -> StreamHandler:
    """``handler`` made safe to serve: it runs for at most ``timeout`` seconds (``None``: unbounded);
    if it raises or times out the stream is reset and the error logged (never propagated: in py-libp2p
    an exception escaping a handler takes the whole host down); if it returns, the stream is closed."""
    limit = math.inf if timeout is None else timeout

    async def guarded(stream: INetStream) -> None:
        counters.inbound_streams += 1
        ok = False
        try:
            with trio.move_on_after(limit) as scope:
                await handler(stream)
                ok = True
            if scope.cancelled_caught:
                counters.handler_timeouts += 1
                log.info("handler for %s from %s timed out", protocol, safe_peer(stream))
        except Exception as exc:
            counters.handler_errors += 1
            if isinstance(exc, _NETWORK_FAILURES):
                log.debug("handler for %s from %s failed: %r", protocol, safe_peer(stream), exc)
            elif isinstance(exc, RemoteProtocolError):
                log.info("handler for %s from %s failed: %r", protocol, safe_peer(stream), exc)
            else:
                log.warning("handler for %s from %s raised", protocol, safe_peer(stream), exc_info=True)
        finally:
            if ok:
                await close_stream(stream)
            else:
                await reset_stream(stream)

    return guarded


class InboundStreamLimiter:
    """Caps inbound streams per connection and in all; wraps libp2p's stream entry point.

    ``on_refused(reason)`` (``per_conn`` or ``total``) is told about every refusal (metrics).

    Every inbound stream passes here before protocol negotiation: past ``per_conn`` streams on its
    connection or ``total`` in all it is reset at once (a peer opening 10,000 streams costs us that
    many resets, not 10,000 tasks and buffers); else ``inner`` (libp2p's negotiation + handler) runs.

    This is also the one guard around the handlers we did not write (libp2p's identify and ping, and its
    protocol negotiation): whatever they raise is logged, counted (``handler_errors``) and ends that
    stream with a reset. Escaping, it would end the connection's task group and, through it, the swarm's:
    the whole host.
    """

    def __init__(
        self,
        inner: StreamHandler,
        counters: StreamCounters,
        per_conn: int = MAX_INBOUND_STREAMS_PER_CONN,
        total: int = MAX_INBOUND_STREAMS,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self._inner = inner
        self._on_refused = on_refused
        self._counters = counters
        self.per_conn = per_conn
        self.total = total
        self._held: dict[int, int] = {}
        self._held_total = 0

    @property
    def held(self) -> int:
        """Inbound streams open right now."""
        return self._held_total

    async def __call__(self, stream: INetStream) -> None:
        key = id(stream.muxed_conn)
        held = self._held.get(key, 0)
        if held >= self.per_conn or self._held_total >= self.total:
            self._counters.inbound_streams_refused += 1
            if self._on_refused is not None:
                self._on_refused("per_conn" if held >= self.per_conn else "total")
            await reset_stream(stream)
            return
        self._held[key] = held + 1
        self._held_total += 1
        try:
            await self._inner(stream)
        except Exception as exc:
            self._counters.handler_errors += 1
            if isinstance(exc, _NETWORK_FAILURES):
                log.debug("inbound stream from %s failed: %r", safe_peer(stream), exc)
            else:
                log.warning("a handler of a stream from %s raised", safe_peer(stream), exc_info=True)
            await reset_stream(stream)
        finally:
            self._held_total -= 1
            left = self._held[key] - 1
            if left:
                self._held[key] = left
            else:
                del self._held[key]


class ShieldedOpener:
    """libp2p's ``new_stream``, shielded from the caller's cancellation, bounded by a deadline.

    Cancelled half-way, libp2p loses the stream: a cancellation during yamux's SYN write or before
    ``new_stream``'s own cleanup leaks the stream and one of the connection's 256 stream slots for good
    (after 256 such losses the connection accepts no new stream), and the peer waits out its 10 s
    negotiation timeout. So the open runs to completion (or to our deadline, a far rarer event than a
    caller's cancellation); if the caller was cancelled meanwhile, the finished stream is reset and the
    cancellation re-raised. When the host stops, :meth:`abort_all` cancels the opens in progress (the
    connection tasks that would answer them are stopping too: they could only wait out their deadline).

    Args:
        new_stream: the host's ``new_stream(peer_id, [protocol])``.
    """

    def __init__(self, new_stream: Callable[[ID, list[TProtocol]], Awaitable[INetStream]]) -> None:
        self._new_stream = new_stream
        self._scopes: set[trio.CancelScope] = set()
        self.stopping = False

    def abort_all(self) -> None:
        """Cancel every open in progress and refuse new ones (the host is stopping)."""
        self.stopping = True
        for scope in list(self._scopes):
            scope.cancel()

    async def open(self, pid: ID, protocol: TProtocol, deadline: float) -> INetStream | None:
        """The new stream, or None past ``deadline`` (trio time).

        Raises:
            P2PError: the host is stopping, or stopped during the open.
            Exception: what libp2p's ``new_stream`` raises (the caller maps it).
        """
        if self.stopping:
            raise P2PError("the host is stopping")
        stream: INetStream | None = None
        with trio.CancelScope(shield=True) as shield, trio.move_on_at(deadline):
            self._scopes.add(shield)  # abort_all may still cancel it
            try:
                stream = await self._new_stream(pid, [protocol])
            finally:
                self._scopes.discard(shield)
        try:
            await trio.lowlevel.checkpoint_if_cancelled()  # the caller was cancelled meanwhile?
        except BaseException:
            if stream is not None:
                await reset_stream(stream)
            raise
        if stream is None and shield.cancel_called:
            raise P2PError("the host stopped while a stream was being opened")
        return stream


__all__ = [
    "DEFAULT_HANDLER_TIMEOUT",
    "MAX_INBOUND_STREAMS",
    "MAX_INBOUND_STREAMS_PER_CONN",
    "STREAM_CLOSE_TIMEOUT",
    "InboundStreamLimiter",
    "ShieldedOpener",
    "StreamCounters",
    "StreamHandler",
    "close_stream",
    "guard_handler",
    "reset_stream",
    "safe_peer",
    "stream_peer_id",
    "stream_remote_ip",
]
