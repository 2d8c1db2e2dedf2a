"""Circuit relay v2, the client side: reserve a slot on a relay, dial a peer through one, accept
relayed connections (the STOP side). Spec: libp2p/specs relay/circuit-v2.md.

py-libp2p's ``CircuitV2Transport`` is not used: it is welded to its own relay discovery, its py-libp2p
KadDHT and a performance tracker, and its STOP handler returns as soon as the connection is upgraded
(our stream handlers close a stream when the handler returns, which would cut the connection). The
pieces it rests on are sound and used here: ``RawConnection`` over a stream, the swarm's
``upgrade_outbound_raw_conn`` / ``upgrade_inbound_raw_conn`` (Noise + yamux on top of the relayed
stream, registered in the swarm like any connection), and the protobuf messages.

Theory of operation
-------------------
* **Addresses.** A relay address is ``<relay transport>/p2p/<relay>/p2p-circuit``; a peer behind the relay
  is dialed at that address followed by ``/p2p/<peer>``. :func:`parse_circuit` splits one.
* **Reserve** (:func:`reserve`): one HOP stream, ``RESERVE`` -> ``STATUS``. ``OK`` yields a
  :class:`Reservation` (expiry, the relay's addresses, the circuit limits); any other status raises
  :class:`RelayRefused` naming it. The caller keeps the connection to the relay open (a reservation
  ends with it) and renews before the expiry.
* **Dial** (:func:`dial_via_relay`): one HOP stream, ``CONNECT{peer}`` -> ``STATUS``; on ``OK`` the stream
  becomes the raw connection, upgraded as an outbound connection (Noise authenticates the target) and
  tagged ``RELAYED`` with its circuit address, so the swarm prefers any direct connection over it.
* **Accept** (:class:`StopServer`): a relay opens a STOP stream with ``CONNECT{peer: source}``; if the
  relay is one we chose (``allowed``) and we hold fewer than ``max_inbound`` relayed connections, we
  answer ``OK``, upgrade the stream as an inbound connection, check that Noise authenticated the source
  the relay named, tell ``on_relayed`` (hole punching starts there), and hold the handler until the
  connection ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import multiaddr
import trio
from libp2p.abc import INetStream
from libp2p.connection_types import ConnectionType
from libp2p.network.connection.raw_connection import RawConnection
from libp2p.peer.id import ID
from libp2p.relay.circuit_v2.pb.circuit_pb2 import HopMessage, PeerId, StopMessage

from p2p.addrs import parse_peer_id
from p2p.errors import DialError, P2PError
from p2p.host import P2PHost, close_stream, reset_stream, stream_peer_id
from p2p.pbstream import read_pb, write_pb
from p2p.relay import (
    HOP_PROTOCOL,
    MAX_RELAY_MESSAGE_BYTES,
    OK,
    PERMISSION_DENIED,
    RESOURCE_LIMIT_EXCEEDED,
    STOP_PROTOCOL,
    status_name,
    stream_is_relayed,
)
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)

CIRCUIT = "/p2p-circuit"
#: Reserving, or setting up one circuit (HOP exchange + Noise + yamux through the relay).
RELAY_TIMEOUT = 10.0
#: Relayed connections we accept at once (each one holds a stream on a relay connection).
MAX_RELAYED_INBOUND = 32
#: Relay addresses kept from one reservation answer.
MAX_RELAY_ADDRS = 4

#: What a relay's refusal means, for the person reading the error.
REFUSAL_TEXT = {
    "no_reservation": "the other agent holds no reservation on that relay",
    "resource_limit_exceeded": "the relay is full",
    "permission_denied": "the relay refused us",
    "reservation_refused": "the relay refused the reservation",
    "connection_failed": "the relay could not reach the other agent",
    "malformed_message": "the relay did not understand the request",
}


class RelayRefused(DialError):
    """A relay answered a reservation or a CONNECT with a status other than OK.

    Attributes:
        relay: the relay's peer id.
        status: the spec's name of its answer (``no_reservation``, ``resource_limit_exceeded``...).
    """

    def __init__(self, relay: str, status: str, what: str) -> None:
        self.relay = relay
        self.status = status
        reason = REFUSAL_TEXT.get(status, status)
        super().__init__(f"relay {relay} refused the {what}: {reason} ({status})")


@dataclass
class Reservation:
    """A slot on a relay (see :func:`reserve`)."""

    relay: str
    relay_addrs: list[str]
    expires: float  # Unix time
    duration: int = 0
    data: int = 0
    obtained: float = field(default_factory=time.time)

    def circuit_addrs(self) -> list[str]:
        """Our addresses through this relay (without our own ``/p2p/`` suffix)."""
        return [f"{a}/p2p/{self.relay}{CIRCUIT}" for a in self.relay_addrs]


def is_circuit(addr: str) -> bool:
    return CIRCUIT in addr


def parse_circuit(addr: str) -> tuple[str, str, str | None]:
    """Split ``<transport>/p2p/<relay>/p2p-circuit[/p2p/<target>]``.

    Returns:
        (relay peer id, relay transport address, target peer id or None).
    Raises:
        DialError: not a well-formed relay address.
    """
    if addr.count(CIRCUIT) != 1:
        raise DialError(f"not a relay address: {addr!r}")
    head, tail = addr.split(CIRCUIT, 1)
    if "/p2p/" not in head:
        raise DialError(f"relay address {addr!r} does not name the relay (/p2p/<relay>/p2p-circuit)")
    transport, relay = head.rsplit("/p2p/", 1)
    relay = str(parse_peer_id(relay))
    target: str | None = None
    if tail:
        if not tail.startswith("/p2p/") or tail.count("/") != 2:
            raise DialError(f"malformed relay address {addr!r}")
        target = str(parse_peer_id(tail[len("/p2p/") :]))
    try:
        multiaddr.Multiaddr(transport)
    except Exception as exc:
        raise DialError(f"malformed relay address {addr!r}") from exc
    if not transport:
        raise DialError(f"relay address {addr!r} has no transport address for the relay")
    return relay, transport, target


def _swarm(host: P2PHost) -> Any:
    return host.libp2p_host.get_network()


async def _hop(host: P2PHost, relay: str, addrs: Sequence[str], request: HopMessage, what: str) -> Any:
    """Open a HOP stream, send ``request``, read the STATUS. Returns (stream, answer); the caller owns
    the stream. Raises RelayRefused / DialError / PeerTimeout."""
    stream = await host.open_stream(relay, HOP_PROTOCOL, timeout=RELAY_TIMEOUT, addrs=list(addrs) or None)
    try:
        with trio.fail_after(RELAY_TIMEOUT):
            await write_pb(stream, request)
            answer = await read_pb(stream, HopMessage, MAX_RELAY_MESSAGE_BYTES)
    except (P2PError, RemoteProtocolError, trio.TooSlowError) as exc:
        await reset_stream(stream)
        raise DialError(f"relay {relay} did not answer the {what}: {exc!r}") from None
    if answer.type != HopMessage.STATUS or answer.status != OK:
        await reset_stream(stream)
        raise RelayRefused(relay, status_name(int(answer.status)), what)
    return stream, answer


async def reserve(host: P2PHost, relay: str, relay_addrs: Sequence[str] = ()) -> Reservation:
    """Reserve a slot on ``relay`` (connecting through ``relay_addrs`` if needed).

    Raises:
        RelayRefused: the relay answered something else than OK.
        DialError, PeerTimeout: the relay could not be reached or did not answer in time.
    """
    stream, answer = await _hop(host, relay, relay_addrs, HopMessage(type=HopMessage.RESERVE), "reservation")
    await close_stream(stream)
    addrs: list[str] = []
    for raw in list(answer.reservation.addrs)[:MAX_RELAY_ADDRS]:
        try:
            text = str(multiaddr.Multiaddr(bytes(raw)))
        except Exception:
            continue
        if text.endswith(f"/p2p/{relay}"):
            text = text[: -len(f"/p2p/{relay}")]
        if "/p2p" not in text and host.addr_policy.filter([text]) and text not in addrs:
            addrs.append(text)
    if not addrs:  # the relay named no address we can use: the ones we reached it at
        addrs = [a for a in (list(relay_addrs) or host.peer_addrs(relay)) if not is_circuit(a)][
            :MAX_RELAY_ADDRS
        ]
    expires = float(answer.reservation.expire) if answer.HasField("reservation") else time.time() + 60.0
    return Reservation(
        relay=relay, relay_addrs=addrs, expires=expires,
        duration=int(answer.limit.duration), data=int(answer.limit.data),
    )  # fmt: skip


async def dial_via_relay(host: P2PHost, target: str, circuit_addr: str) -> None:
    """Connect to ``target`` through the relay named by ``circuit_addr``; the connection is registered
    in the swarm (tagged RELAYED) like any other. Bounded by ``RELAY_TIMEOUT`` per step.

    Raises:
        RelayRefused: the relay refused (e.g. ``no_reservation``: the target holds no slot there).
        DialError, PeerTimeout: the relay is unreachable, or the handshake through it failed.
    """
    relay, transport, named = parse_circuit(circuit_addr)
    if named is not None and named != target:
        raise DialError(f"relay address {circuit_addr!r} names another peer than {target}")
    if relay == target:
        raise DialError(f"{target} advertises itself as its own relay")
    request = HopMessage(type=HopMessage.CONNECT, peer=PeerId(id=ID.from_base58(target).to_bytes()))
    stream, _answer = await _hop(host, relay, [transport], request, "connection")
    full = multiaddr.Multiaddr(f"{transport}/p2p/{relay}{CIRCUIT}/p2p/{target}")
    raw = RawConnection(stream, True, ConnectionType.RELAYED, [full])
    swarm = _swarm(host)
    with trio.move_on_after(RELAY_TIMEOUT) as scope:
        try:
            await swarm.upgrade_outbound_raw_conn(raw, ID.from_base58(target))
        except Exception as exc:  # SwarmException and the errors under it
            await reset_stream(stream)
            raise DialError(f"handshake with {target} through relay {relay} failed: {exc!r}") from None
        return
    assert scope.cancelled_caught
    await reset_stream(stream)
    raise DialError(f"handshake with {target} through relay {relay} took longer than {RELAY_TIMEOUT} s")


async def _until_closed(conn: Any) -> None:
    for name in ("event_shutting_down", "event_closed"):
        event = getattr(conn, name, None)
        if isinstance(event, trio.Event):
            await event.wait()
            return
    while not conn.is_closed:  # pragma: no cover - a muxer without either event
        await trio.sleep(1.0)


@dataclass
class StopStatistics:
    accepted: int = 0
    refused: int = 0
    failed: int = 0
    active: int = 0


class StopServer:
    """Accept relayed connections (the STOP side; see the module docstring).

    Args:
        host: the running host.
        allowed: which relays may hand us connections (None: any).
        on_relayed: called with (source peer id, relay peer id) once a relayed connection is up.
        max_inbound: relayed connections held at once.
    """

    def __init__(
        self,
        host: P2PHost,
        *,
        allowed: Callable[[str], bool] | None = None,
        on_relayed: Callable[[str, str], None] | None = None,
        max_inbound: int = MAX_RELAYED_INBOUND,
    ) -> None:
        self.host = host
        self.allowed = allowed
        self.on_relayed = on_relayed
        self.max_inbound = max_inbound
        self.stats = StopStatistics()

    def start(self) -> None:
        self.host.set_handler(STOP_PROTOCOL, self._serve, timeout=None)

    def stop(self) -> None:
        self.host.remove_handler(STOP_PROTOCOL)

    async def _status(self, stream: INetStream, status: int) -> bool:
        try:
            with trio.fail_after(RELAY_TIMEOUT):
                await write_pb(stream, StopMessage(type=StopMessage.STATUS, status=status))  # type: ignore[arg-type]
            return True
        except (P2PError, trio.TooSlowError):
            return False

    async def _serve(self, stream: INetStream) -> None:
        relay = stream_peer_id(stream)
        if stream_is_relayed(stream) or (self.allowed is not None and not self.allowed(relay)):
            self.stats.refused += 1
            await self._status(stream, PERMISSION_DENIED)
            return
        if self.stats.active >= self.max_inbound:
            self.stats.refused += 1
            await self._status(stream, RESOURCE_LIMIT_EXCEEDED)
            return
        try:
            with trio.fail_after(RELAY_TIMEOUT):
                msg = await read_pb(stream, StopMessage, MAX_RELAY_MESSAGE_BYTES)
            source = str(ID(bytes(msg.peer.id)))
            ID.from_base58(source)
        except (P2PError, RemoteProtocolError, trio.TooSlowError, ValueError) as exc:
            self.stats.failed += 1
            log.debug("bad STOP request from relay %s: %r", relay, exc)
            return
        if msg.type != StopMessage.CONNECT or not await self._status(stream, OK):
            self.stats.failed += 1
            return
        self.stats.active += 1
        try:
            await self._accept(stream, relay, source)
        finally:
            self.stats.active -= 1

    async def _accept(self, stream: INetStream, relay: str, source: str) -> None:
        maddr = multiaddr.Multiaddr(f"/p2p/{relay}{CIRCUIT}/p2p/{source}")
        raw = RawConnection(stream, False, ConnectionType.RELAYED, [maddr])
        muxed: Any = None
        with trio.move_on_after(RELAY_TIMEOUT):
            try:
                muxed = await _swarm(self.host).upgrade_inbound_raw_conn(raw, maddr)
            except Exception as exc:
                log.info("relayed connection from %s via %s failed its handshake: %r", source, relay, exc)
        if muxed is None:
            self.stats.failed += 1
            await reset_stream(stream)
            return
        if str(muxed.peer_id) != source:
            self.stats.failed += 1
            log.info("relay %s named %s but the connection authenticated %s", relay, source, muxed.peer_id)
            with trio.CancelScope(shield=True), trio.move_on_after(RELAY_TIMEOUT):
                await muxed.close()
            return
        self.stats.accepted += 1
        if self.on_relayed is not None:
            self.on_relayed(source, relay)
        await _until_closed(muxed)


def connection_kind(host: P2PHost, peer_id: str) -> str | None:
    """``"direct"`` if an open direct connection to ``peer_id`` exists, ``"relayed"`` if only relayed
    ones, None if none."""
    try:
        conns = _swarm(host).get_connections(parse_peer_id(peer_id))
    except DialError:
        return None
    kinds = set()
    for conn in conns:
        if conn.is_closed:
            continue
        try:
            relayed = conn.get_connection_type() == ConnectionType.RELAYED
        except Exception:
            relayed = False
        kinds.add("relayed" if relayed else "direct")
    if "direct" in kinds:
        return "direct"
    return "relayed" if kinds else None


__all__ = [
    "CIRCUIT",
    "MAX_RELAYED_INBOUND",
    "RELAY_TIMEOUT",
    "RelayRefused",
    "Reservation",
    "StopServer",
    "connection_kind",
    "dial_via_relay",
    "is_circuit",
    "parse_circuit",
    "reserve",
]
