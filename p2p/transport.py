"""The transport seam: what the DHT and negotiation drivers need from a network, and nothing more.

The drivers never touch py-libp2p directly. They see a :class:`Transport` (open a stream to a peer on a
protocol, serve a protocol, know our addresses and who we are connected to) and :class:`Stream` s
(read, write, close, reset, and the authenticated peer at the other end). ``p2p.host.P2PHost`` satisfies
``Transport`` structurally (mypy checks it: see ``_check_host_is_a_transport``), and so does the in-memory
network of :mod:`p2p.memory`, on which the drivers are tested under trio's ``MockClock`` without OS
processes.

Stream semantics every implementation keeps (they are py-libp2p's):

* ``read(n)`` returns between 1 and ``n`` bytes, or ``b""`` / raises libp2p's ``StreamEOF`` once the
  remote closed its side and everything was read; a reset or broken stream raises (libp2p's errors,
  ``trio.BrokenResourceError`` or ``trio.ClosedResourceError``);
* ``write`` blocks while the remote's receive window is full; a reset or closed stream raises;
* ``close`` half-closes (our side: the remote reads EOF), ``reset`` ends both sides at once;
* ``muxed_conn.peer_id`` is the remote peer, authenticated by the transport (Noise for libp2p);
  ``get_remote_address()`` the observed ``(ip, port)`` of the connection, or None.

Errors of ``Transport.open_stream``: ``DialError`` (no connection; or :class:`ProtocolRefused`, its
subclass, when the peer answered that it does not serve the protocol, see :func:`is_protocol_refusal`),
``PeerTimeout`` (not open within the timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import trio
from libp2p.protocol_muxer.exceptions import MultiselectClientError, ProtocolNotSupportedError

from p2p.host import DEFAULT_HANDLER_TIMEOUT, DEFAULT_STREAM_TIMEOUT, STREAM_CLOSE_TIMEOUT, DialError

log = logging.getLogger(__name__)


class StreamConn(Protocol):
    """The connection a stream runs on, as far as the drivers care: whom it reaches."""

    @property
    def peer_id(self) -> object:
        """The authenticated remote peer; ``str()`` gives its text form ("12D3KooW...")."""
        ...


class Stream(Protocol):
    """One bidirectional byte stream to one peer (a py-libp2p ``INetStream`` is one)."""

    @property
    def muxed_conn(self) -> StreamConn: ...

    async def read(self, n: int | None = None) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    async def reset(self) -> None: ...

    def get_remote_address(self) -> tuple[str, int] | None: ...


#: ``handler(stream)``: serves one inbound stream (see ``Transport.set_handler``).
Handler = Callable[[Stream], Awaitable[None]]


class Transport(Protocol):
    """A running network endpoint: ``p2p.host.P2PHost`` or ``p2p.memory.MemoryTransport``."""

    @property
    def peer_id(self) -> str:
        """Our own peer id text."""
        ...

    def listen_addrs(self) -> list[str]:
        """Our listen addresses without ``/p2p/`` (what our DHT requests announce)."""
        ...

    def connected_peers(self) -> list[str]:
        """Peer ids we hold a live connection to."""
        ...

    def believable_addrs(self, addrs: Sequence[str]) -> list[str]:
        """The addresses of ``addrs`` (claimed by a remote peer) we believe from where we stand (a loopback
        or private address only if we run on one ourselves: ``p2p.addrs.AddrPolicy``)."""
        ...

    async def open_stream(
        self,
        peer_id: str,
        protocol: str,
        timeout: float = DEFAULT_STREAM_TIMEOUT,
        addrs: Sequence[str] | None = None,
    ) -> Stream:
        """Open a stream to ``peer_id`` on ``protocol`` (dialing ``addrs`` first if not connected).

        The caller owns the stream and must close or reset it.

        Raises:
            DialError: no connection; ``ProtocolRefused`` (or a libp2p refusal, see
                ``is_protocol_refusal``) if the peer does not serve ``protocol``.
            PeerTimeout: not open within ``timeout``.
        """
        ...

    def set_handler(
        self, protocol: str, handler: Callable[[Stream], Awaitable[None]], timeout: float | None = ...
    ) -> None:
        """Serve ``protocol``: ``handler(stream)`` runs for at most ``timeout`` s (None: unbounded); the
        stream is closed when it returns and reset when it raises or times out; it never takes the
        transport down."""
        ...

    def remove_handler(self, protocol: str) -> None: ...

    async def disconnect(self, peer_id: str, timeout: float = STREAM_CLOSE_TIMEOUT) -> None:
        """Close every connection to ``peer_id`` (its streams fail). Never raises for network errors."""
        ...


class ProtocolRefused(DialError):
    """The peer is reachable but does not serve the protocol we asked for."""


def is_protocol_refusal(exc: BaseException) -> bool:
    """True if ``exc`` (a ``DialError`` from ``open_stream``) says the peer refused the *protocol*, as
    opposed to a failed connection: a :class:`ProtocolRefused`, or a py-libp2p multistream-select
    rejection ("na" for every protocol offered) anywhere in its cause chain."""
    seen: BaseException | None = exc
    for _ in range(8):  # cause chains are short; never loop on a cyclic one
        if seen is None:
            return False
        if isinstance(seen, ProtocolRefused | ProtocolNotSupportedError):
            return True
        if isinstance(seen, MultiselectClientError) and str(seen).startswith("protocols not supported"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def reset_stream(stream: Stream) -> None:
    """Reset a stream, bounded and shielded (safe in ``finally`` and during cancellation)."""
    with trio.CancelScope(shield=True), trio.move_on_after(STREAM_CLOSE_TIMEOUT):
        try:
            await stream.reset()
        except Exception as exc:  # the connection may already be gone
            log.debug("stream reset failed: %r", exc)


async def close_stream(stream: Stream) -> None:
    """Close (FIN) a stream, bounded and shielded; fall back to a reset if closing fails."""
    with trio.CancelScope(shield=True), trio.move_on_after(STREAM_CLOSE_TIMEOUT):
        try:
            await stream.close()
            return
        except Exception as exc:
            log.debug("stream close failed, resetting: %r", exc)
    await reset_stream(stream)


def stream_peer(stream: Stream) -> str:
    """The authenticated peer id text of the remote end of ``stream``."""
    return str(stream.muxed_conn.peer_id)


def stream_remote_ip(stream: Stream) -> str | None:
    """The IP address the connection of ``stream`` comes from, as the kernel observed it (not what the
    peer claims), or None if unknown. IPv4-mapped IPv6 addresses are given as IPv4."""
    try:
        addr = stream.get_remote_address()
    except Exception:  # a closed connection may raise instead of returning None
        return None
    if not addr:
        return None
    ip = str(addr[0]).split("%", 1)[0]
    return ip[7:] if ip.lower().startswith("::ffff:") and "." in ip else ip


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the authenticated peer id, and the IP its connection was observed from."""

    peer_id: str
    ip: str | None

    @classmethod
    def of(cls, stream: Stream) -> Caller:
        return cls(stream_peer(stream), stream_remote_ip(stream))


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply, and the IP the connection that carried it was observed at (None if unknown)."""

    payload: bytes
    ip: str | None


if TYPE_CHECKING:  # pragma: no cover - a static check only: P2PHost must satisfy the seam
    from p2p.host import P2PHost
    from p2p.memory import MemoryTransport

    def _check_host_is_a_transport(host: P2PHost, memory: MemoryTransport) -> tuple[Transport, Transport]:
        return host, memory


__all__ = [
    "DEFAULT_HANDLER_TIMEOUT",
    "Caller",
    "Handler",
    "ProtocolRefused",
    "Reply",
    "Stream",
    "StreamConn",
    "Transport",
    "close_stream",
    "is_protocol_refusal",
    "reset_stream",
    "stream_peer",
    "stream_remote_ip",
]
