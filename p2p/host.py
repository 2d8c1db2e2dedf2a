"""The libp2p host: py-libp2p 0.8.1 behind a small typed class, with its quirks fenced off.

Theory of operation
-------------------
``P2PHost`` owns one py-libp2p ``BasicHost`` built from the agent's ed25519 seed, so the libp2p peer id
is exactly ``Identity.peer_id``. The stack is TCP + **Noise only** + yamux, with libp2p's default
identify and ping handlers. Upper layers (the DHT and negotiation drivers) see peer ids and multiaddrs
as plain text, protocol ids as text, and streams as libp2p ``INetStream`` objects that they hand to
:mod:`p2p.framing`.

``open_host(identity, listen_addrs)`` (or ``P2PHost(...).run()``) is the entry point: an async
context manager that starts listening, checks every address really bound (py-libp2p only logs a bind
failure), yields the running host, and on exit (normal, error or cancellation) stops everything with
a bounded, shielded shutdown.

Where things live: :mod:`p2p.fences` changes py-libp2p's behaviour (each change named and explained:
the inbound slot leak, atomic Noise writes, no dial delay, no auto-connector / library pruner /
resource manager, our agent version); :mod:`p2p.peerstore` bounds the peerstore (our own key is never
evicted); :mod:`p2p.addrs` parses multiaddrs and decides what we advertise and which claimed addresses
we believe; :mod:`p2p.connmgr` admits inbound connections (``--max-connections``, per IP) and trims
between watermarks. This module puts them together.

Choices (the py-libp2p quirks they answer are detailed where they are handled):

- **Noise only.** ``new_host`` without ``sec_opt`` also offers TLS, SECIO and ``/plaintext/2.0.0``; we
  pass ``sec_opt={"/noise": ...}``. Noise authenticates the remote's ed25519 key: ``stream_peer_id``
  can be trusted.
- **We dial addresses ourselves** (:mod:`p2p.dialer`): in order, one attempt each, under one deadline.
- **Cancellation never corrupts or wedges a connection.** Noise writes are atomic (:mod:`p2p.fences`);
  a stream open cancelled half-way would leak one of the connection's 256 yamux stream slots, so
  ``open_stream`` runs libp2p's open shielded, bounded, and resets the stream if the caller was
  cancelled meanwhile (``p2p.streams.ShieldedOpener``).
- **Bounded inbound streams** (:mod:`p2p.streams`): ``MAX_INBOUND_STREAMS_PER_CONN`` per connection,
  ``MAX_INBOUND_STREAMS`` in all, protocol negotiation within ``STREAM_NEGOTIATION_TIMEOUT``; handlers
  bounded in time and never able to crash the host.
- **Shutdown really stops.** libp2p's stop path runs under cancellation and never closes its TCP
  listener, so ``_shutdown`` closes listeners and connections itself, shielded and bounded.
- **Bounded waits.** Every network wait runs under a deadline (``PeerTimeout``); other network failures
  raise ``DialError`` / ``P2PError``; bad bytes from a peer ``wire.errors.RemoteProtocolError``.
- **Busy ports are refused.** libp2p listens with SO_REUSEPORT (a second host on a taken port would
  silently share it): fixed ports are probed first (``p2p.addrs.check_ports_free``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import INetConn, INetStream
from libp2p.crypto.ed25519 import Ed25519PrivateKey
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol, TSecurityOptions
from libp2p.host.basic_host import BasicHost
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from p2p import fences
from p2p.addrs import (
    AddrPolicy,
    advertised_addrs,
    check_ports_free,
    parse_announce,
    parse_peer_id,
    parse_transport_addrs,
    split_peer_multiaddr,
)
from p2p.connmgr import CLOSED_TRIMMED, ConnEvents, ConnLimits, ConnManager, ConnStatistics, SwarmTracker
from p2p.dialer import MAX_DIAL_ADDRS, CircuitDial, Dialer
from p2p.errors import DialError, P2PError, PeerTimeout
from p2p.peerstore import BoundedPeerStore, PeerStoreStatistics
from p2p.streams import (
    DEFAULT_HANDLER_TIMEOUT,
    MAX_INBOUND_STREAMS,
    MAX_INBOUND_STREAMS_PER_CONN,
    STREAM_CLOSE_TIMEOUT,
    InboundStreamLimiter,
    ShieldedOpener,
    StreamCounters,
    StreamHandler,
    close_stream,
    guard_handler,
    reset_stream,
    stream_peer_id,
    stream_remote_ip,
)
from wire.identity import Identity

log = logging.getLogger(__name__)

#: Default listen address: loopback, ephemeral port.
DEFAULT_LISTEN = "/ip4/127.0.0.1/tcp/0"
#: Dial + Noise + yamux handshake on one peer, all its addresses together.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Open a stream: connect if needed, then multistream-select the protocol.
DEFAULT_STREAM_TIMEOUT = 5.0
#: Shutdown of the whole host (closing connections, cancelling background tasks).
SHUTDOWN_TIMEOUT = 3.0
#: How long the peerstore keeps addresses we were given (seconds; the driver re-supplies them).
PEER_ADDR_TTL = 3600
#: Multistream-select of the protocol of one inbound stream (a stream that says nothing is reset).
STREAM_NEGOTIATION_TIMEOUT = 10.0
#: How often the connection manager looks for connections to trim.
TRIM_CHECK_INTERVAL = 1.0


@dataclass
class HostStatistics:
    """Counters of one host since it started (see ``P2PHost.statistics``)."""

    dials_ok: int = 0
    dials_failed: int = 0
    streams_opened: int = 0
    streams_failed: int = 0
    inbound_streams: int = 0
    inbound_streams_refused: int = 0
    handler_errors: int = 0
    handler_timeouts: int = 0
    connected_peers: int = 0
    peerstore: PeerStoreStatistics | None = None


def key_pair_from_identity(identity: Identity) -> KeyPair:
    """The libp2p ed25519 key pair of an identity (same seed, so the same peer id)."""
    private_key = Ed25519PrivateKey.from_bytes(identity.seed)
    return KeyPair(private_key, private_key.get_public_key())


class P2PHost:
    """A py-libp2p host with typed methods. Build it with :func:`open_host`.

    Methods are only usable while the host runs (inside ``open_host``).
    """

    def __init__(
        self,
        identity: Identity,
        listen_addrs: Sequence[str] = (DEFAULT_LISTEN,),
        *,
        announce: Sequence[str] = (),
        limits: ConnLimits | None = None,
        conn_events: ConnEvents | None = None,
    ) -> None:
        """Build a host (not yet listening).

        Args:
            identity: our key; the libp2p peer id is derived from it.
            listen_addrs: multiaddrs to listen on (port 0: ephemeral).
            announce: the addresses to advertise instead of the listen addresses (an operator's
                ``--announce``; e.g. a public address in front of a NAT).
            limits: the connection manager's limits (``--max-connections`` is ``max_inbound``).
            conn_events: an observer of connection counts (Prometheus metrics).
        Raises:
            P2PError: a malformed listen or announce address.
        """
        self.identity = identity
        try:
            self._listen = [multiaddr.Multiaddr(a) for a in listen_addrs]
        except Exception as exc:
            raise P2PError(f"malformed listen address in {list(listen_addrs)!r}") from exc
        if not self._listen:
            raise P2PError("no listen address given")
        self._announce = parse_announce(announce)
        self._advertised: list[multiaddr.Multiaddr] = []
        self._advertised_text: tuple[list[multiaddr.Multiaddr], list[str]] = ([], [])
        self._addr_hook: Callable[[list[str]], list[str]] | None = None  # p2p.nat (set_nat_hooks)
        self._bound: list[multiaddr.Multiaddr] = []
        self.addr_policy = AddrPolicy(self._announce or self._listen)
        key_pair = key_pair_from_identity(identity)
        sec_opt: TSecurityOptions = {
            NOISE_PROTOCOL_ID: NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        }
        self.peerstore = BoundedPeerStore(ID.from_pubkey(key_pair.public_key), clock=trio.current_time)
        host = new_host(
            key_pair=key_pair, sec_opt=sec_opt, muxer_preference="YAMUX", peerstore_opt=self.peerstore,
            addrs_factory=self._addrs_factory, disable_identify_address_discovery=True,
        )  # fmt: skip
        if not isinstance(host, BasicHost):  # pragma: no cover - new_host without disc_opt
            raise TypeError("new_host did not return a BasicHost")
        self._host = host
        network = host.get_network()
        if not isinstance(network, Swarm):  # pragma: no cover
            raise TypeError("new_host did not build a Swarm")
        self._swarm = network
        fences.fence_swarm(self._swarm)
        self.connmgr: ConnManager[INetConn] = ConnManager(limits, conn_events)
        setattr(self._swarm, fences.ADMISSION_ATTR, self.connmgr)
        config = self._swarm.connection_config
        config.inbound_upgrade_timeout = self.connmgr.limits.handshake_timeout
        config.inbound_stream_protocol_negotiation_timeout = STREAM_NEGOTIATION_TIMEOUT
        self._swarm.register_notifee(SwarmTracker(self.connmgr))
        self._streams = StreamCounters()
        self.stream_limiter = InboundStreamLimiter(
            self._swarm.common_stream_handler,
            self._streams,
            on_refused=getattr(conn_events, "stream_refused", None),
        )
        self._swarm.set_stream_handler(self.stream_limiter)
        if str(host.get_id()) != identity.peer_id:  # pragma: no cover - guards a libp2p change
            raise RuntimeError("libp2p derived a different peer id from the identity key")
        self._dialer = Dialer(host, self._swarm, lambda: self.addr_policy)
        self.peerstore.attach(self._dialer.is_connected)
        self._stats = HostStatistics()
        self._running = False
        self._started = False
        self._opener = ShieldedOpener(host.new_stream)

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
        check_ports_free(self._listen)
        async with self._host.run(listen_addrs=self._listen), trio.open_nursery() as nursery:
            try:
                if len(self._swarm.listeners) != len(self._listen):
                    wanted = [str(a) for a in self._listen]
                    raise P2PError(
                        f"could not listen on all of {wanted!r} (bound: {list(self._swarm.listeners)!r})"
                    )
                self._bound = list(self._host.get_transport_addrs())
                self._advertised = advertised_addrs(self._bound, self._announce)
                self.addr_policy = AddrPolicy(self._advertised)
                nursery.start_soon(self._abort_opens_on_exit)
                nursery.start_soon(self._trim_loop)
                self._running = True
                yield self
            finally:
                self._running = False
                self.connmgr.stopping = True
                nursery.cancel_scope.cancel()
                await self._shutdown()

    async def _abort_opens_on_exit(self) -> None:
        """Abort the shielded stream opens once the host stops or is cancelled (this task lives in the
        host's scope; see ``ShieldedOpener.abort_all``)."""
        try:
            await trio.sleep_forever()
        finally:
            self._opener.abort_all()

    async def _trim_loop(self) -> None:
        """Close the connections the connection manager picks (above its high watermark); first forget
        the ones that ended unannounced. Then evict the peerstore entries it no longer keeps."""
        while True:
            await trio.sleep(TRIM_CHECK_INTERVAL)
            self.connmgr.reconcile(lambda conn: not conn.is_closed)
            await self.trim()
            self.peerstore.prune()

    async def trim(self, force: bool = False) -> int:
        """Trim connections now as the connection manager decides (``force``: down to the low
        watermark regardless of the high watermark and silence period). Returns how many were closed."""
        victims = self.connmgr.plan_trim(trio.current_time(), force=force)
        if victims:
            log.info(
                "trimming %d connections (%d established)", len(victims), len(self.connmgr.connections())
            )
            with trio.CancelScope(shield=True), trio.move_on_after(SHUTDOWN_TIMEOUT):
                async with trio.open_nursery() as nursery:
                    for info in victims:
                        setattr(info.conn, "_metaspace_close_reason", CLOSED_TRIMMED)  # noqa: B010
                        nursery.start_soon(self._close_connection, info.conn)
        return len(victims)

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

    def _addrs_factory(self, candidates: list[multiaddr.Multiaddr]) -> list[multiaddr.Multiaddr]:
        """What identify announces: our advertised addresses (never unspecified ones)."""
        base = list(self._advertised) or advertised_addrs(candidates, self._announce)
        if self._addr_hook is None:
            return base
        return [multiaddr.Multiaddr(a) for a in self._addr_hook([str(m) for m in base])]

    def set_nat_hooks(
        self,
        addr_hook: Callable[[list[str]], list[str]] | None,
        circuit_dial: CircuitDial | None,
    ) -> None:
        """Installed by :mod:`p2p.nat` (reachability, relays, hole punching): ``addr_hook`` turns our
        advertised addresses into what we announce (e.g. relay addresses first while we are not
        reachable); ``circuit_dial`` connects to a peer through a relay address."""
        self._addr_hook = addr_hook
        self._dialer.circuit_dial = circuit_dial

    def addrs(self) -> list[str]:
        """Our full advertised multiaddrs, ``/ip4/127.0.0.1/tcp/<bound port>/p2p/<peer id>`` (the
        ``--announce`` addresses if given; an unspecified listen address is expanded to our interfaces)."""
        suffix = f"/p2p/{self.peer_id}"
        return [a + suffix for a in self.listen_addrs()]

    def listen_addrs(self) -> list[str]:
        """Our advertised addresses without the ``/p2p/`` suffix (what a peer record carries)."""
        if not self._advertised:
            base = [str(a) for a in advertised_addrs(self._host.get_transport_addrs(), self._announce)]
        else:  # fixed once the host started: its text form is made once (a multiaddr prints slowly),
            if self._advertised_text[0] is not self._advertised:  # and every request carries it
                self._advertised_text = (self._advertised, [str(a) for a in self._advertised])
            base = list(self._advertised_text[1])
        return base if self._addr_hook is None else self._addr_hook(base)

    def bound_addrs(self) -> list[str]:
        """The addresses our listeners bound when the host started (may be unspecified, e.g.
        ``/ip4/0.0.0.0/tcp/4001``); still reported if a listener died since (the health probe uses them)."""
        return [str(a) for a in self._bound or self._host.get_transport_addrs()]

    def believable_addrs(self, addrs: Sequence[str]) -> list[str]:
        """The addresses of ``addrs`` (claimed by a remote peer) that we believe: see ``p2p.addrs``."""
        return self.addr_policy.filter(addrs)

    def peer_addrs(self, peer_id: str) -> list[str]:
        """Transport addresses the peerstore holds for a peer: those we were given, plus the
        believable listen addresses the peer announced through identify. Empty if none (never raises)."""
        try:
            return [str(m) for m in self._dialer.known_addrs(parse_peer_id(peer_id))]
        except DialError:
            return []

    def add_peer_addrs(self, peer_id: str, addrs: Sequence[str]) -> None:
        """Remember transport addresses of a peer (with or without ``/p2p/``), for ``PEER_ADDR_TTL``.

        Raises:
            DialError: malformed peer id or address.
        """
        pid = parse_peer_id(peer_id)
        maddrs = parse_transport_addrs(addrs, str(pid))
        if maddrs:
            self._host.get_peerstore().add_addrs(pid, maddrs, PEER_ADDR_TTL)

    def is_connected(self, peer_id: str) -> bool:
        try:
            pid = parse_peer_id(peer_id)
        except DialError:
            return False
        return self._dialer.is_connected(pid)

    def connected_peers(self) -> list[str]:
        return [str(p) for p, conns in self._swarm.connections.items() if any(not c.is_closed for c in conns)]

    def statistics(self) -> HostStatistics:
        """A snapshot of the host's counters."""
        stats = replace(self._stats, **asdict(self._streams), dials_ok=self._dialer.ok)
        stats.dials_failed = self._dialer.failed
        stats.connected_peers = len(self.connected_peers())
        stats.peerstore = self.peerstore.statistics()
        return stats

    def connection_statistics(self) -> ConnStatistics:
        """The connection manager's counters (opened, closed, refused by reason, current counts)."""
        return self.connmgr.statistics()

    def protect(self, peer_id: str, tag: str) -> None:
        """Never trim connections to ``peer_id`` while it holds ``tag`` (go-libp2p's ``Protect``)."""
        self.connmgr.protect(peer_id, tag)

    def unprotect(self, peer_id: str, tag: str) -> bool:
        """Remove one protection tag; True if another tag still protects the peer."""
        return self.connmgr.unprotect(peer_id, tag)

    def protect_only(self, tag: str, peer_ids: Sequence[str]) -> None:
        """Make ``peer_ids`` exactly the peers protected by ``tag`` (e.g. the routing table's)."""
        self.connmgr.protect_only(tag, peer_ids)

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
            await self._dialer.ensure_connection(pid, parse_transport_addrs(addrs or (), str(pid)))
            return
        assert scope.cancelled_caught
        raise PeerTimeout(f"connecting to {peer_id} took longer than {timeout} s")

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
        first = parse_transport_addrs(addrs or (), str(pid))
        deadline = trio.current_time() + timeout
        stream: INetStream | None = None
        with trio.move_on_at(deadline) as scope:
            try:
                await self._dialer.ensure_connection(pid, first)
                stream = await self._opener.open(pid, TProtocol(protocol), deadline)
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

    def set_handler(
        self, protocol: str, handler: StreamHandler, timeout: float | None = DEFAULT_HANDLER_TIMEOUT
    ) -> None:
        """Serve ``protocol`` with ``handler(stream)``.

        The handler runs for at most ``timeout`` seconds (``None``: unbounded). If it raises or times
        out the stream is reset and the error logged; if it returns, the stream is closed. It never
        takes the host down. ``stream_peer_id(stream)`` tells who is on the other end.
        """
        guarded = guard_handler(protocol, handler, timeout, self._streams)
        self._host.set_stream_handler(TProtocol(protocol), guarded)

    def remove_handler(self, protocol: str) -> None:
        self._host.remove_stream_handler(TProtocol(protocol))


@asynccontextmanager
async def open_host(
    identity: Identity,
    listen_addrs: Sequence[str] = (DEFAULT_LISTEN,),
    *,
    announce: Sequence[str] = (),
    limits: ConnLimits | None = None,
    conn_events: ConnEvents | None = None,
) -> AsyncIterator[P2PHost]:
    """Run a host listening on ``listen_addrs`` (port 0 = ephemeral) for the body of the block.

    ``host.addrs()`` then reports the actual bound ports. On exit every connection is closed and
    libp2p's background tasks are cancelled, within ``SHUTDOWN_TIMEOUT``. Other arguments as
    :class:`P2PHost`.

    Raises:
        P2PError: an address could not be bound, or a malformed listen/announce address.
    """
    host = P2PHost(identity, listen_addrs, announce=announce, limits=limits, conn_events=conn_events)
    async with host.run() as running:
        yield running


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_HANDLER_TIMEOUT",
    "DEFAULT_LISTEN",
    "DEFAULT_STREAM_TIMEOUT",
    "MAX_DIAL_ADDRS",
    "MAX_INBOUND_STREAMS",
    "MAX_INBOUND_STREAMS_PER_CONN",
    "SHUTDOWN_TIMEOUT",
    "STREAM_CLOSE_TIMEOUT",
    "ConnLimits",
    "DialError",
    "HostStatistics",
    "P2PError",
    "P2PHost",
    "PeerTimeout",
    "StreamHandler",
    "close_stream",
    "key_pair_from_identity",
    "open_host",
    "parse_peer_id",
    "reset_stream",
    "split_peer_multiaddr",
    "stream_peer_id",
    "stream_remote_ip",
]
