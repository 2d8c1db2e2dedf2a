"""The libp2p host: py-libp2p 0.8.1 behind a small typed class, with its quirks fenced off.

Theory of operation
-------------------
``P2PHost`` owns one py-libp2p ``BasicHost`` built from the agent's ed25519 seed, so the libp2p peer id
is exactly ``Identity.peer_id``. The stack is TCP + **Noise only** + yamux, with libp2p's default
identify and ping handlers. Upper layers (the DHT and negotiation drivers) see peer ids and multiaddrs
as plain text, protocol ids as text, and streams as libp2p ``INetStream`` objects that they hand to
:mod:`p2p.framing`.

``open_host(identity, listen_addrs)`` (or ``make_host(...).run()``) is the entry point: an async
context manager that starts listening, checks every address really bound (py-libp2p only logs a bind
failure), yields the running host, and on exit (normal, error or cancellation) stops everything with
a bounded, shielded shutdown.

Choices, and the py-libp2p 0.8.1 quirks they answer:

- **Noise only.** ``new_host`` without ``sec_opt`` also offers TLS, SECIO and ``/plaintext/2.0.0``,
  so an unauthenticated, unencrypted peer could connect. We pass ``sec_opt={"/noise": ...}``.
  Noise authenticates the remote's ed25519 key, so ``stream_peer_id`` can be trusted.
- **No dial delay.** ``libp2p.network.swarm._HAPPY_EYEBALLS_DELAY`` (250 ms per dial) is set to 0.
- **No hidden retries or blacklists.** The swarm retries each failed dial 3 times with backoff and
  then refuses to dial the peer at all for 60 s (its "negative peer cache"); the DHT has its own
  failure policy, so we set ``max_retries=0`` and give the swarm a zero-TTL negative cache.
- **We dial addresses ourselves.** ``dial_peer`` keeps at most one TCP address of a peer, skips
  loopback when any other address is known, and the peerstore expires a peer's addresses 120 s after
  ``connect``. ``P2PHost`` dials the given addresses in order with ``Swarm.dial_addr``, one attempt
  each, all under one deadline, and de-duplicates concurrent dials to the same peer.
- **No auto-connector.** The swarm would otherwise dial every peer in its peerstore until it holds
  100 connections; a DHT node chooses whom it talks to.
- **Cancellation never corrupts or wedges a connection.** A cancelled write between Noise's
  encryption and the socket write desynchronises the cipher nonces and the peer drops the whole
  connection (every stream on it fails): each Noise write is made atomic (shielded, bounded; see
  ``_make_noise_writes_atomic``). A stream open cancelled half-way leaks one of the connection's 256
  yamux stream slots (measured: ~1 per 3 cancelled RPCs; at 256 the connection opens no stream
  again): ``open_stream`` runs libp2p's open shielded, bounded by its own timeout, and resets the
  stream if the caller was cancelled meanwhile. A cancelled RPC costs its own stream only.
- **Handlers never crash the host.** In py-libp2p an exception escaping a stream handler propagates
  through the connection's task group and the swarm service out of ``host.run`` (the whole host
  dies), and the remote waits. ``set_handler`` wraps every handler: a bound on its run time,
  exceptions caught and logged, the stream reset on failure and closed on success.
- **Shutdown really stops.** libp2p's stop path runs under cancellation and never closes its TCP
  listener (a trio *system* task that also runs inbound connections), so a "stopped" host kept
  accepting; a connection close interrupted half-way leaves the socket open. ``_shutdown`` closes
  listeners and connections itself, shielded and bounded.
- **Bounded waits.** Every network wait runs under a deadline and raises ``PeerTimeout``; any other
  network failure raises ``DialError`` / ``P2PError``. Bad bytes from a peer raise
  ``wire.errors.RemoteProtocolError`` (see :mod:`p2p.framing`).
- **Busy ports are refused.** libp2p listens with SO_REUSEPORT: a second host on a taken port would
  silently share it with the first. We probe fixed ports first and raise ``P2PError``.
- The libp2p wheel also installs stray top-level packages (``examples``, ``docs``, ``interop``,
  ``stubs``); nothing here imports them, and our own ``docs/`` folder is not a package.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import INetConn, INetStream
from libp2p.crypto.ed25519 import Ed25519PrivateKey
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol, TSecurityOptions
from libp2p.exceptions import BaseLibp2pError
from libp2p.host.basic_host import BasicHost
from libp2p.io.exceptions import ConnectionClosedError
from libp2p.network import swarm as _swarm_module
from libp2p.network.config import RetryConfig
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID
from libp2p.security.noise import io as _noise_io
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from wire.errors import RemoteProtocolError
from wire.identity import Identity
from wire.limits import MAX_ADDRS_PER_PEER

log = logging.getLogger(__name__)

# The 250 ms "happy eyeballs" head start would be paid on every single dial.
_swarm_module._HAPPY_EYEBALLS_DELAY = 0.0


#: Default listen address: loopback, ephemeral port.
DEFAULT_LISTEN = "/ip4/127.0.0.1/tcp/0"
#: Dial + Noise + yamux handshake on one peer, all its addresses together.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Open a stream: connect if needed, then multistream-select the protocol.
DEFAULT_STREAM_TIMEOUT = 5.0
#: Longest an inbound stream handler may run before its stream is reset (a peer that opens a stream
#: and then says nothing must not hold a task forever). ``None`` per handler lifts it.
DEFAULT_HANDLER_TIMEOUT = 30.0
#: Shutdown of the whole host (closing connections, cancelling background tasks).
SHUTDOWN_TIMEOUT = 3.0
#: Close or reset of one stream.
STREAM_CLOSE_TIMEOUT = 1.0
#: Addresses tried by one dial (ours first, then the peerstore's, which a peer fills via identify).
MAX_DIAL_ADDRS = MAX_ADDRS_PER_PEER
#: How long the peerstore keeps addresses we were given (seconds; the driver re-supplies them).
PEER_ADDR_TTL = 3600

#: Writing one encrypted Noise message to TCP (shielded from cancellation, see below). A write only
#: blocks when the peer stops reading (or its event loop stalls: generous, since on an overloaded box
#: 5 s stalls were seen); past this the connection is closed. Only the one task holding the
#: connection's write lock can be held this long; other writers queue, cancellably.
NOISE_WRITE_TIMEOUT = 20.0


def _make_noise_writes_atomic() -> None:
    """Make each Noise transport write atomic with respect to cancellation.

    ``NoiseTransportReadWriter.write_msg`` encrypts (advancing the cipher's nonce) and *then* awaits
    the socket write. A cancellation landing between the two (a caller's timeout, a lookup cancelling
    its straggling RPCs, a handler deadline) drops a ciphertext the peer's nonce counter expects: every
    later message on that connection fails to decrypt and the peer kills it, breaking all the other
    streams it carried. Yamux frames are written from the caller's task (and reads may write window
    updates), so any cancelled stream operation can do this. We shield the write, bounded by
    ``NOISE_WRITE_TIMEOUT``; if that expires the connection can't be trusted and is closed.
    Idempotent; applied when this module is imported.
    """
    cls = _noise_io.NoiseTransportReadWriter
    if getattr(cls, "_metaspace_atomic_writes", False):
        return
    original = cls.write_msg

    async def write_msg(
        self: _noise_io.NoiseTransportReadWriter, msg: bytes, prefix_encoded: bool = False
    ) -> None:
        with trio.CancelScope(shield=True):
            with trio.move_on_after(NOISE_WRITE_TIMEOUT):
                await original(self, msg, prefix_encoded)
                return
            with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
                try:
                    await self.close()
                except Exception as exc:
                    log.debug("closing a stuck connection failed: %r", exc)
        raise ConnectionClosedError(
            f"a Noise write took longer than {NOISE_WRITE_TIMEOUT} s; connection closed"
        )

    setattr(cls, "write_msg", write_msg)  # noqa: B010 - patching a library class on purpose
    setattr(cls, "_metaspace_atomic_writes", True)  # noqa: B010


_make_noise_writes_atomic()


StreamHandler = Callable[[INetStream], Awaitable[None]]


class P2PError(Exception):
    """The network failed us: a peer is unreachable, a stream broke, a wait timed out.

    Not raised for malformed bytes from a peer: that is ``wire.errors.RemoteProtocolError``.
    """


class DialError(P2PError):
    """No connection or no stream could be established to a peer (refused, bad address, protocol
    not supported by the peer, security handshake failed)."""


class PeerTimeout(P2PError):
    """A bounded network wait expired."""


@dataclass
class HostStatistics:
    """Counters of one host since it started (see ``P2PHost.statistics``)."""

    dials_ok: int = 0
    dials_failed: int = 0
    streams_opened: int = 0
    streams_failed: int = 0
    inbound_streams: int = 0
    handler_errors: int = 0
    handler_timeouts: int = 0
    connected_peers: int = 0


#: Handler failures caused by the network (logged at DEBUG: a peer going away is routine). Bad input
#: (``RemoteProtocolError``) is logged at INFO; anything else is a bug in the handler (WARNING, with
#: its traceback).
_NETWORK_FAILURES = (
    P2PError,
    BaseLibp2pError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
)


def key_pair_from_identity(identity: Identity) -> KeyPair:
    """The libp2p ed25519 key pair of an identity (same seed, so the same peer id)."""
    private_key = Ed25519PrivateKey.from_bytes(identity.seed)
    return KeyPair(private_key, private_key.get_public_key())


def parse_peer_id(peer_id: str) -> ID:
    """Parse a peer id text ("12D3KooW...").

    Raises:
        DialError: not a valid peer id.
    """
    try:
        return ID.from_base58(peer_id)
    except Exception as exc:  # base58 / multihash errors come in several types
        raise DialError(f"invalid peer id {peer_id!r}") from exc


def _p2p_component(maddr: multiaddr.Multiaddr) -> str | None:
    """The peer id text of a ``/p2p/`` component, or None if there is none."""
    for proto in maddr.protocols():
        if proto.name == "p2p":
            value = maddr.value_for_protocol("p2p")
            return str(value) if value else None
    return None


def split_peer_multiaddr(addr: str) -> tuple[str, str]:
    """Split ``/ip4/1.2.3.4/tcp/5/p2p/<peer id>`` into (peer id text, transport address text).

    Raises:
        DialError: malformed, or without a trailing ``/p2p/<peer id>``.
    """
    try:
        maddr = multiaddr.Multiaddr(addr)
        peer_text = _p2p_component(maddr)
    except Exception as exc:
        raise DialError(f"malformed multiaddr {addr!r}") from exc
    if not peer_text:
        raise DialError(f"multiaddr {addr!r} does not end with /p2p/<peer id>")
    peer_id = parse_peer_id(str(peer_text))
    transport = maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}"))
    if not str(transport):
        raise DialError(f"multiaddr {addr!r} has no transport address")
    return str(peer_id), str(transport)


def stream_peer_id(stream: INetStream) -> str:
    """The peer id text of the remote end of a stream, authenticated by the Noise handshake."""
    return str(stream.muxed_conn.peer_id)


def _parse_transport_addrs(addrs: Sequence[str], peer_id: str) -> list[multiaddr.Multiaddr]:
    """Parse transport addresses of ``peer_id``; a ``/p2p/`` suffix, if any, must name that peer."""
    out: list[multiaddr.Multiaddr] = []
    for text in addrs:
        try:
            maddr = multiaddr.Multiaddr(text)
            peer_text = _p2p_component(maddr)
            if peer_text:
                maddr = maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}"))
        except Exception as exc:
            raise DialError(f"malformed multiaddr {text!r}") from exc
        if peer_text and str(parse_peer_id(peer_text)) != peer_id:
            raise DialError(f"multiaddr {text!r} names another peer than {peer_id}")
        if not str(maddr):
            raise DialError(f"multiaddr {text!r} has no transport address")
        out.append(maddr)
    return out


def _check_ports_free(maddrs: Sequence[multiaddr.Multiaddr]) -> None:
    """Refuse fixed TCP ports that are already bound.

    py-libp2p binds its listeners with SO_REUSEPORT, so a second host on a busy port would *succeed*
    and the kernel would split incoming connections between the two processes. A probe socket without
    SO_REUSEPORT can't bind a port any live socket holds, so it detects that (small race: the port
    could be taken between the probe and libp2p's bind).

    Raises:
        P2PError: a port is in use.
    """
    for maddr in maddrs:
        names = [p.name for p in maddr.protocols()]
        if "tcp" not in names:
            continue
        port = int(maddr.value_for_protocol("tcp"))
        if port == 0:
            continue
        family, ip = (
            (socket.AF_INET6, maddr.value_for_protocol("ip6"))
            if "ip6" in names
            else (socket.AF_INET, maddr.value_for_protocol("ip4") if "ip4" in names else "0.0.0.0")
        )
        probe = socket.socket(family, socket.SOCK_STREAM)
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((str(ip), port))
        except OSError as exc:
            raise P2PError(f"could not listen on {maddr}: {exc}") from exc
        finally:
            probe.close()


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


class P2PHost:
    """A py-libp2p host with typed methods. Build it with :func:`open_host`.

    Methods are only usable while the host runs (inside ``open_host``).
    """

    def __init__(self, identity: Identity, listen_addrs: Sequence[str] = (DEFAULT_LISTEN,)) -> None:
        self.identity = identity
        try:
            self._listen = [multiaddr.Multiaddr(a) for a in listen_addrs]
        except Exception as exc:
            raise P2PError(f"malformed listen address in {list(listen_addrs)!r}") from exc
        if not self._listen:
            raise P2PError("no listen address given")
        key_pair = key_pair_from_identity(identity)
        sec_opt: TSecurityOptions = {
            NOISE_PROTOCOL_ID: NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        }
        host = new_host(key_pair=key_pair, sec_opt=sec_opt, muxer_preference="YAMUX")
        if not isinstance(host, BasicHost):  # pragma: no cover - new_host without disc_opt
            raise TypeError("new_host did not return a BasicHost")
        self._host = host
        network = host.get_network()
        if not isinstance(network, Swarm):  # pragma: no cover
            raise TypeError("new_host did not build a Swarm")
        self._swarm = network
        self._swarm.retry_config = RetryConfig(max_retries=0)
        if hasattr(self._swarm, "_negative_peer_cache"):
            self._swarm._negative_peer_cache = _swarm_module._NegativePeerCache(ttl=0.0)

        async def _no_auto_connect() -> None:
            return None

        # Instance attribute shadows the method the swarm's background task calls.
        self._swarm.auto_connector.maybe_connect = _no_auto_connect  # type: ignore[method-assign]
        if str(host.get_id()) != identity.peer_id:  # pragma: no cover - guards a libp2p change
            raise RuntimeError("libp2p derived a different peer id from the identity key")
        self._dials: dict[ID, trio.Event] = {}
        self._stats = HostStatistics()
        self._running = False
        self._started = False
        self._open_scopes: set[trio.CancelScope] = set()
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    @asynccontextmanager
    async def run(self) -> AsyncIterator[P2PHost]:
        """Listen and serve for the body of the block; shut down (bounded, shielded) on exit.

        Raises:
            P2PError: an address could not be bound (py-libp2p itself only logs that).
        """
        if self._started:
            raise P2PError("a P2PHost runs once")
        self._started = True
        _check_ports_free(self._listen)
        async with self._host.run(listen_addrs=self._listen), trio.open_nursery() as nursery:
            try:
                if len(self._swarm.listeners) != len(self._listen):
                    wanted = [str(a) for a in self._listen]
                    raise P2PError(
                        f"could not listen on all of {wanted!r} (bound: {list(self._swarm.listeners)!r})"
                    )
                nursery.start_soon(self._abort_opens_on_exit)
                self._running = True
                yield self
            finally:
                self._running = False
                nursery.cancel_scope.cancel()
                await self._shutdown()

    async def _abort_opens_on_exit(self) -> None:
        """Cancel the shielded stream opens (``_new_stream``) once the host stops or is cancelled.

        Those opens shield themselves from their callers' cancellation; but when the host itself is
        cancelled its connection tasks stop reading, so an open in progress could only wait out its
        timeout. This task lives in the host's scope: cancelled with it, it aborts them.
        """
        try:
            await trio.sleep_forever()
        finally:
            self._stopping = True
            for scope in list(self._open_scopes):
                scope.cancel()

    async def _shutdown(self) -> None:
        """Stop listening, close every connection, cancel libp2p's identify system tasks. Bounded.

        libp2p's own stop path runs its cleanup *under cancellation*: the first ``await`` in it raises
        ``Cancelled`` and the listeners are never closed. The TCP listener lives in a trio *system*
        task, and inbound connections run inside it, so a "stopped" host would keep accepting and
        serving connections until ``trio.run`` returns. So we close them here, first, shielded.
        """
        with trio.CancelScope(shield=True), trio.move_on_after(SHUTDOWN_TIMEOUT) as scope:
            for cancel_scope in list(self._host._identify_tasks):
                cancel_scope.cancel()
            listeners = list(self._swarm.listeners.values())
            async with trio.open_nursery() as nursery:
                for listener in listeners:
                    nursery.start_soon(self._close_quietly, listener.close, "listener")
            # Each SwarmConn.close() sleeps ~0.2 s; libp2p would close them one after the other.
            conns = [c for conns in list(self._swarm.connections.values()) for c in conns]
            async with trio.open_nursery() as nursery:
                for conn in conns:
                    nursery.start_soon(self._close_connection, conn)
        if scope.cancelled_caught:
            log.warning("host shutdown exceeded %.1f s", SHUTDOWN_TIMEOUT)

    @classmethod
    async def _close_connection(cls, conn: INetConn) -> None:
        await cls._close_quietly(conn.close, "connection")
        # If libp2p's own stop path began this close under cancellation, SwarmConn.close() returned
        # at once ("already closing") with the socket still open: finish the muxer's close here.
        muxed = conn.muxed_conn
        if not muxed.is_closed:
            await cls._close_quietly(muxed.close, "muxed connection")

    @staticmethod
    async def _close_quietly(close: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await close()
        except Exception as exc:
            log.debug("error closing %s: %r", what, exc)

    def _check_running(self) -> None:
        if not self._running:
            raise P2PError("the host is not running (use it inside open_host)")

    # ------------------------------------------------------------------ addresses and peers

    @property
    def peer_id(self) -> str:
        """Our peer id text (equals ``identity.peer_id``)."""
        return str(self._host.get_id())

    @property
    def libp2p_host(self) -> BasicHost:
        """The underlying py-libp2p host (escape hatch; prefer the typed methods)."""
        return self._host

    def addrs(self) -> list[str]:
        """Our full listen multiaddrs, ``/ip4/127.0.0.1/tcp/<bound port>/p2p/<peer id>``."""
        suffix = f"/p2p/{self.peer_id}"
        return [str(a) + suffix for a in self._host.get_transport_addrs()]

    def listen_addrs(self) -> list[str]:
        """Our listen addresses without the ``/p2p/`` suffix (what a peer record carries)."""
        return [str(a) for a in self._host.get_transport_addrs()]

    def peer_addrs(self, peer_id: str) -> list[str]:
        """Transport addresses the peerstore holds for a peer: those we were given, plus the
        listen addresses the peer announced through identify. Empty if none (never raises)."""
        try:
            maddrs = self._host.get_peerstore().addrs(parse_peer_id(peer_id))
        except Exception:
            return []
        out: list[str] = []
        for maddr in maddrs:
            peer_text = _p2p_component(maddr)
            text = str(maddr.decapsulate(multiaddr.Multiaddr(f"/p2p/{peer_text}")) if peer_text else maddr)
            if text and text not in out:
                out.append(text)
        return out

    def add_peer_addrs(self, peer_id: str, addrs: Sequence[str]) -> None:
        """Remember transport addresses of a peer (with or without ``/p2p/``), for ``PEER_ADDR_TTL``.

        Raises:
            DialError: malformed peer id or address.
        """
        pid = parse_peer_id(peer_id)
        maddrs = _parse_transport_addrs(addrs, str(pid))
        if maddrs:
            self._host.get_peerstore().add_addrs(pid, maddrs, PEER_ADDR_TTL)

    def is_connected(self, peer_id: str) -> bool:
        try:
            pid = parse_peer_id(peer_id)
        except DialError:
            return False
        return any(not c.is_closed for c in self._swarm.get_connections(pid))

    def connected_peers(self) -> list[str]:
        return [str(p) for p, conns in self._swarm.connections.items() if any(not c.is_closed for c in conns)]

    def statistics(self) -> HostStatistics:
        """A snapshot of the host's counters."""
        stats = replace(self._stats)
        stats.connected_peers = len(self.connected_peers())
        return stats

    # ------------------------------------------------------------------ dialing

    async def connect(self, addr: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> str:
        """Connect to a peer given one full multiaddr (``.../p2p/<peer id>``); reuse a live connection.

        Returns:
            The peer id text of the peer (authenticated by Noise).
        Raises:
            DialError: malformed address, refused, handshake failed (e.g. the peer offers no Noise).
            PeerTimeout: not connected within ``timeout``.
        """
        peer_id, transport = split_peer_multiaddr(addr)
        await self.ensure_connection(peer_id, [transport], timeout=timeout)
        return peer_id

    async def ensure_connection(
        self, peer_id: str, addrs: Sequence[str] | None = None, timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        """Make sure a connection to ``peer_id`` is up, dialing ``addrs`` (then the peerstore's) if not.

        Raises:
            DialError: no address worked (or none is known).
            PeerTimeout: not connected within ``timeout``.
        """
        self._check_running()
        pid = parse_peer_id(peer_id)
        if addrs:
            self.add_peer_addrs(peer_id, addrs)
        with trio.move_on_after(timeout) as scope:
            await self._ensure_connection(pid, _parse_transport_addrs(addrs or (), str(pid)))
            return
        assert scope.cancelled_caught
        raise PeerTimeout(f"connecting to {peer_id} took longer than {timeout} s")

    async def _ensure_connection(self, pid: ID, first: list[multiaddr.Multiaddr]) -> None:
        if pid == self._host.get_id():
            raise DialError("refusing to dial ourselves")
        while True:
            if any(not c.is_closed for c in self._swarm.get_connections(pid)):
                return
            pending = self._dials.get(pid)
            if pending is None:
                break
            await pending.wait()  # someone else is dialing this peer: share their result
        done = trio.Event()
        self._dials[pid] = done
        try:
            await self._dial(pid, first)
        finally:
            self._dials.pop(pid, None)
            done.set()

    async def _dial(self, pid: ID, first: list[multiaddr.Multiaddr]) -> None:
        candidates: list[multiaddr.Multiaddr] = list(first)
        try:
            known = self._host.get_peerstore().addrs(pid)
        except Exception:
            known = []
        for maddr in known:
            if maddr not in candidates:
                candidates.append(maddr)
        # The peerstore also holds what the peer announced about itself through identify: bound
        # how many addresses one dial may try.
        candidates = candidates[:MAX_DIAL_ADDRS]
        if not candidates:
            self._stats.dials_failed += 1
            raise DialError(f"no known address for {pid}")
        errors: list[str] = []
        for maddr in candidates:
            try:
                conn = await self._swarm.dial_addr(maddr, pid)
                event_started = getattr(conn, "event_started", None)
                if event_started is not None:
                    await event_started.wait()
            except Exception as exc:  # SwarmException and friends, one per address
                errors.append(f"{maddr}: {exc!r}")
                continue
            self._stats.dials_ok += 1
            return
        self._stats.dials_failed += 1
        raise DialError(f"could not connect to {pid}: " + "; ".join(errors))

    async def disconnect(self, peer_id: str, timeout: float = STREAM_CLOSE_TIMEOUT) -> None:
        """Close every connection to a peer; its open streams fail. Bounded and shielded (a close
        interrupted half-way would leave libp2p believing the connection closed and the socket open).
        Safe to call from a handler serving that very peer. Never raises for network errors.

        Raises:
            DialError: ``peer_id`` is not a valid peer id.
        """
        pid = parse_peer_id(peer_id)
        conns = list(self._swarm.get_connections(pid))
        with trio.CancelScope(shield=True), trio.move_on_after(timeout):
            async with trio.open_nursery() as nursery:
                for conn in conns:
                    nursery.start_soon(self._close_connection, conn)

    # ------------------------------------------------------------------ streams

    async def open_stream(
        self,
        peer_id: str,
        protocol: str,
        timeout: float = DEFAULT_STREAM_TIMEOUT,
        addrs: Sequence[str] | None = None,
    ) -> INetStream:
        """Open a stream to a peer on a protocol, connecting first if needed (within ``timeout``).

        The caller owns the stream and must close or reset it (``p2p.framing.rpc`` does).

        Raises:
            DialError: no connection, or the peer does not speak ``protocol``.
            PeerTimeout: not done within ``timeout``.
        """
        self._check_running()
        pid = parse_peer_id(peer_id)
        if addrs:
            self.add_peer_addrs(peer_id, addrs)
        first = _parse_transport_addrs(addrs or (), str(pid))
        deadline = trio.current_time() + timeout
        stream: INetStream | None = None
        with trio.move_on_at(deadline) as scope:
            try:
                await self._ensure_connection(pid, first)
                stream = await self._new_stream(pid, TProtocol(protocol), deadline)
            except DialError:
                self._stats.streams_failed += 1
                raise
            except Exception as exc:  # StreamFailure, SwarmException, ...
                self._stats.streams_failed += 1
                raise DialError(f"could not open {protocol} to {peer_id}: {exc!r}") from exc
            if stream is not None:
                self._stats.streams_opened += 1
                return stream
        self._stats.streams_failed += 1
        assert scope.cancelled_caught or stream is None
        raise PeerTimeout(f"opening {protocol} to {peer_id} took longer than {timeout} s")

    async def _new_stream(self, pid: ID, protocol: TProtocol, deadline: float) -> INetStream | None:
        """libp2p's ``new_stream``, shielded from the caller's cancellation, bounded by ``deadline``.

        Cancelled half-way, libp2p loses the stream: a cancellation during yamux's SYN write or
        before ``new_stream``'s own cleanup leaks the stream and one of the connection's 256 stream
        slots for good (after 256 such losses the connection accepts no new stream), and the peer
        waits out its 10 s negotiation timeout. So the open runs to completion (or to our deadline, a
        far rarer event than a caller's cancellation); if the caller was cancelled meanwhile, the
        finished stream is reset and the cancellation re-raised. Returns None past the deadline.
        When the host stops, ``_abort_opens_on_exit`` cancels the open (the connection tasks that
        would answer it are stopping too).
        """
        if self._stopping:
            raise P2PError("the host is stopping")
        stream: INetStream | None = None
        with trio.CancelScope(shield=True) as shield, trio.move_on_at(deadline):
            self._open_scopes.add(shield)  # the host's shutdown may still cancel it
            try:
                stream = await self._host.new_stream(pid, [protocol])
            finally:
                self._open_scopes.discard(shield)
        try:
            await trio.lowlevel.checkpoint_if_cancelled()  # the caller was cancelled meanwhile?
        except BaseException:
            if stream is not None:
                await reset_stream(stream)
            raise
        if stream is None and shield.cancel_called:
            raise P2PError("the host stopped while a stream was being opened")
        return stream

    def set_handler(
        self, protocol: str, handler: StreamHandler, timeout: float | None = DEFAULT_HANDLER_TIMEOUT
    ) -> None:
        """Serve ``protocol`` with ``handler(stream)``.

        The handler runs for at most ``timeout`` seconds (``None``: unbounded). If it raises or times
        out the stream is reset and the error logged; if it returns, the stream is closed. It never
        takes the host down. ``stream_peer_id(stream)`` tells who is on the other end.
        """
        limit = math.inf if timeout is None else timeout

        async def _guarded(stream: INetStream) -> None:
            self._stats.inbound_streams += 1
            ok = False
            try:
                with trio.move_on_after(limit) as scope:
                    await handler(stream)
                    ok = True
                if scope.cancelled_caught:
                    self._stats.handler_timeouts += 1
                    log.info("handler for %s from %s timed out", protocol, _safe_peer(stream))
            except Exception as exc:
                self._stats.handler_errors += 1
                if isinstance(exc, _NETWORK_FAILURES):
                    log.debug("handler for %s from %s failed: %r", protocol, _safe_peer(stream), exc)
                elif isinstance(exc, RemoteProtocolError):
                    log.info("handler for %s from %s failed: %r", protocol, _safe_peer(stream), exc)
                else:
                    log.warning("handler for %s from %s raised", protocol, _safe_peer(stream), exc_info=True)
            finally:
                if ok:
                    await close_stream(stream)
                else:
                    await reset_stream(stream)

        self._host.set_stream_handler(TProtocol(protocol), _guarded)

    def remove_handler(self, protocol: str) -> None:
        self._host.remove_stream_handler(TProtocol(protocol))


def _safe_peer(stream: INetStream) -> str:
    try:
        return stream_peer_id(stream)
    except Exception:
        return "?"


def make_host(identity: Identity, listen_addrs: Sequence[str] = (DEFAULT_LISTEN,)) -> P2PHost:
    """Build a host, not yet listening: ``async with make_host(...).run() as host:``."""
    return P2PHost(identity, listen_addrs)


@asynccontextmanager
async def open_host(
    identity: Identity, listen_addrs: Sequence[str] = (DEFAULT_LISTEN,)
) -> AsyncIterator[P2PHost]:
    """Run a host listening on ``listen_addrs`` (port 0 = ephemeral) for the body of the block.

    ``host.addrs()`` then reports the actual bound ports. On exit every connection is closed and
    libp2p's background tasks are cancelled, within ``SHUTDOWN_TIMEOUT``.

    Raises:
        P2PError: an address could not be bound.
    """
    async with P2PHost(identity, listen_addrs).run() as host:
        yield host


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_HANDLER_TIMEOUT",
    "DEFAULT_LISTEN",
    "DEFAULT_STREAM_TIMEOUT",
    "DialError",
    "HostStatistics",
    "P2PError",
    "P2PHost",
    "PeerTimeout",
    "StreamHandler",
    "close_stream",
    "key_pair_from_identity",
    "make_host",
    "open_host",
    "parse_peer_id",
    "reset_stream",
    "split_peer_multiaddr",
    "stream_peer_id",
]
