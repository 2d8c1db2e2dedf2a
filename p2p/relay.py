"""Circuit relay v2, the relay ("hop") side: what ``metaspace bootstrap --relay`` offers.

Why not py-libp2p's ``relay.circuit_v2.protocol.CircuitV2Protocol``: read against the spec
(libp2p/specs relay/circuit-v2.md) it is unusable for an operator's node:

- the circuit duration limit is only checked when data flows (an idle circuit is never ended), and a
  read has no timeout;
- circuits are kept in a dict keyed by *one* peer, so two circuits of one peer overwrite each other and
  a finished one tears down the other's streams;
- a reservation keeps its slot for its whole TTL after the peer disconnected (the spec ends it with the
  connection), and the per-IP limits of its ``HopConfig`` are never applied;
- the HOP stream is read in a loop, so every reservation holds a stream (and a task) for 30 s.

So this module implements the hop side from the spec, with explicit limits (:class:`RelayLimits`) and
counters; the protobuf messages are py-libp2p's (``relay.circuit_v2.pb.circuit_pb2``, which mirror the
spec's schema). Vouchers (optional in the spec) are not issued.

Theory of operation
-------------------
One HOP stream carries one request:

- ``RESERVE`` from peer P: refused over a relayed connection (``PERMISSION_DENIED``) or above
  ``max_reservations`` / ``max_reservations_per_ip`` (``RESOURCE_LIMIT_EXCEEDED``); otherwise P gets (or
  renews) a reservation until ``now + reservation_ttl`` and the answer names our addresses and the
  circuit limits. A reservation ends at its expiry or as soon as P has no connection to us any more;
  while it lives P's connection is protected from trimming.
- ``CONNECT`` from S to target T: T must hold a live reservation (``NO_RESERVATION``); the circuits in
  all, to T and from S are capped (``RESOURCE_LIMIT_EXCEEDED``). We open a STOP stream to T, send
  ``CONNECT{peer: S, limit}``, and on T's ``OK`` answer S ``OK`` and splice the two streams: bytes are
  copied both ways until both sides closed, the circuit's deadline (``circuit_duration``) passed, or
  ``circuit_bytes`` (both directions together) were used; past a limit both streams are reset. Every
  circuit gives its slots back when it ends, however it ends.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio
from libp2p.abc import INetStream
from libp2p.connection_types import ConnectionType
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.id import ID
from libp2p.relay.circuit_v2.pb.circuit_pb2 import HopMessage, Limit, PeerId, StopMessage
from libp2p.relay.circuit_v2.pb.circuit_pb2 import Reservation as PbReservation
from multiaddr import Multiaddr

from p2p.errors import P2PError
from p2p.host import P2PHost, close_stream, reset_stream, stream_peer_id, stream_remote_ip
from p2p.pbstream import read_pb, write_pb
from p2p.relay_limits import RelayLimits
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)

HOP_PROTOCOL = "/libp2p/circuit/relay/0.2.0/hop"
STOP_PROTOCOL = "/libp2p/circuit/relay/0.2.0/stop"
#: Largest HOP/STOP message (go-libp2p's limit; ours carry a peer id, a few addresses and limits).
MAX_RELAY_MESSAGE_BYTES = 4096
#: Addresses of ours a reservation answer names.
MAX_RESERVATION_ADDRS = 8
#: One read of a circuit's copy loop.
COPY_CHUNK = 64 * 1024
#: Protection tag of a reserved peer's connection (``P2PHost.protect``).
RESERVATION_TAG = "relay-reservation"

# Status codes of the spec (circuit_pb2.Status).
OK = 100
RESERVATION_REFUSED = 200
RESOURCE_LIMIT_EXCEEDED = 201
PERMISSION_DENIED = 202
CONNECTION_FAILED = 203
NO_RESERVATION = 204
MALFORMED_MESSAGE = 400
UNEXPECTED_MESSAGE = 401

STATUS_NAMES = {
    OK: "ok", RESERVATION_REFUSED: "reservation_refused", RESOURCE_LIMIT_EXCEEDED: "resource_limit_exceeded",
    PERMISSION_DENIED: "permission_denied", CONNECTION_FAILED: "connection_failed",
    NO_RESERVATION: "no_reservation", MALFORMED_MESSAGE: "malformed_message",
    UNEXPECTED_MESSAGE: "unexpected_message",
}  # fmt: skip


def status_name(code: int) -> str:
    """The spec's name of a relay status code (``"status_<n>"`` for unknown codes)."""
    return STATUS_NAMES.get(code, f"status_{code}")


class RelayObserver(Protocol):
    """Receives relay events (``bootstrap.metrics.Metrics`` implements it)."""

    def relay_event(self, kind: str, outcome: str) -> None:
        """``kind`` is ``reservation`` or ``circuit``; ``outcome`` a status name or an end reason."""

    def relay_bytes(self, n: int) -> None:
        """``n`` more bytes were relayed."""


@dataclass
class RelayStatistics:
    """Counters of a relay since it started (see ``RelayService.statistics``)."""

    reservations: int = 0
    circuits: int = 0
    bytes_relayed: int = 0
    reservations_by_outcome: dict[str, int] = field(default_factory=dict)
    circuits_by_outcome: dict[str, int] = field(default_factory=dict)


@dataclass
class _Reservation:
    ip: str | None
    expires: float  # trio time


def stream_is_relayed(stream: INetStream) -> bool:
    """True if ``stream`` runs over a relayed (``/p2p-circuit``) connection (unknown: False)."""
    muxed: Any = stream.muxed_conn
    try:
        if muxed.get_connection_type() == ConnectionType.RELAYED:
            return True
        return any("/p2p-circuit" in str(a) for a in muxed.get_transport_addresses() or ())
    except Exception:  # a transport without this information
        return False


class RelayService:
    """The hop side of circuit relay v2 on a running host (see the module docstring).

    Args:
        host: the running host.
        limits: what the relay offers.
        observer: receives events for metrics (optional).
    """

    def __init__(
        self, host: P2PHost, limits: RelayLimits | None = None, observer: RelayObserver | None = None
    ):
        self.host = host
        self.limits = limits or RelayLimits()
        self.observer = observer
        self._reservations: dict[str, _Reservation] = {}
        self._circuits_to: Counter[str] = Counter()
        self._circuits_from: Counter[str] = Counter()
        self._circuits = 0
        self._bytes = 0
        self._outcomes: dict[str, Counter[str]] = {"reservation": Counter(), "circuit": Counter()}

    def start(self) -> None:
        """Serve HOP requests (each handler bounds itself: handshake timeout, circuit duration)."""
        self.host.set_handler(HOP_PROTOCOL, self._serve, timeout=None)

    def stop(self) -> None:
        self.host.remove_handler(HOP_PROTOCOL)

    # ------------------------------------------------------------------------------------ bookkeeping

    def _event(self, kind: str, outcome: str) -> None:
        self._outcomes[kind][outcome] += 1
        if self.observer is not None:
            self.observer.relay_event(kind, outcome)

    def _prune(self) -> None:
        """Forget reservations that expired or whose peer is no longer connected to us."""
        now = trio.current_time()
        for peer, rsvp in list(self._reservations.items()):
            if rsvp.expires <= now or not self.host.is_connected(peer):
                del self._reservations[peer]
                self.host.unprotect(peer, RESERVATION_TAG)

    def has_reservation(self, peer_id: str) -> bool:
        """True if ``peer_id`` holds a live reservation (expired or disconnected ones are dropped)."""
        self._prune()
        return peer_id in self._reservations

    def counts(self) -> tuple[int, int]:
        """(reservations, circuits) held now, without pruning (safe to read from another thread)."""
        return len(self._reservations), self._circuits

    def statistics(self) -> RelayStatistics:
        self._prune()
        return RelayStatistics(
            reservations=len(self._reservations),
            circuits=self._circuits,
            bytes_relayed=self._bytes,
            reservations_by_outcome=dict(self._outcomes["reservation"]),
            circuits_by_outcome=dict(self._outcomes["circuit"]),
        )

    # ------------------------------------------------------------------------------------ serving

    async def _serve(self, stream: INetStream) -> None:
        peer = stream_peer_id(stream)
        try:
            with trio.fail_after(self.limits.handshake_timeout):
                msg = await read_pb(stream, HopMessage, MAX_RELAY_MESSAGE_BYTES)
        except (RemoteProtocolError, trio.TooSlowError) as exc:
            log.debug("bad HOP request from %s: %s", peer, exc)
            await self._answer(stream, MALFORMED_MESSAGE)
            return
        if msg.type == HopMessage.RESERVE:
            await self._reserve(stream, peer)
        elif msg.type == HopMessage.CONNECT:
            await self._connect(stream, peer, msg)
        else:
            await self._answer(stream, UNEXPECTED_MESSAGE)

    async def _answer(self, stream: INetStream, status: int, **fields: Any) -> bool:
        """Write a HOP STATUS message; False if the stream broke."""
        try:
            with trio.fail_after(self.limits.handshake_timeout):
                await write_pb(stream, HopMessage(type=HopMessage.STATUS, status=status, **fields))  # type: ignore[arg-type]
            return True
        except (P2PError, trio.TooSlowError) as exc:
            log.debug("could not answer a HOP request: %s", exc)
            return False

    def _limit(self) -> Limit:
        return Limit(duration=int(self.limits.circuit_duration), data=int(self.limits.circuit_bytes))

    def _our_addrs(self) -> list[bytes]:
        out: list[bytes] = []
        for text in self.host.addrs()[:MAX_RESERVATION_ADDRS]:
            try:
                out.append(Multiaddr(text).to_bytes())
            except Exception:  # our own addresses are well formed; never fail a reservation on one
                continue
        return out

    async def _reserve(self, stream: INetStream, peer: str) -> None:
        if stream_is_relayed(stream):
            self._event("reservation", "permission_denied")
            await self._answer(stream, PERMISSION_DENIED)
            return
        self._prune()
        ip = stream_remote_ip(stream)
        if peer not in self._reservations:
            same_ip = sum(1 for r in self._reservations.values() if ip is not None and r.ip == ip)
            if len(self._reservations) >= self.limits.max_reservations:
                self._event("reservation", "refused_total")
                await self._answer(stream, RESOURCE_LIMIT_EXCEEDED)
                return
            if same_ip >= self.limits.max_reservations_per_ip:
                self._event("reservation", "refused_per_ip")
                await self._answer(stream, RESOURCE_LIMIT_EXCEEDED)
                return
        renewed = peer in self._reservations
        expires = trio.current_time() + self.limits.reservation_ttl
        self._reservations[peer] = _Reservation(ip, expires)
        self.host.protect(peer, RESERVATION_TAG)
        unix_expiry = int(self._unix(expires))
        rsvp = PbReservation(expire=unix_expiry, addrs=self._our_addrs())
        if await self._answer(stream, OK, reservation=rsvp, limit=self._limit()):
            self._event("reservation", "renewed" if renewed else "accepted")

    @staticmethod
    def _unix(trio_time: float) -> float:
        return time.time() + (trio_time - trio.current_time())

    async def _connect(self, stream: INetStream, source: str, msg: HopMessage) -> None:
        if stream_is_relayed(stream):
            self._event("circuit", "permission_denied")
            await self._answer(stream, PERMISSION_DENIED)
            return
        try:
            target = str(ID(bytes(msg.peer.id)))
            ID.from_base58(target)
        except Exception:
            self._event("circuit", "malformed_message")
            await self._answer(stream, MALFORMED_MESSAGE)
            return
        if not self.has_reservation(target):
            self._event("circuit", "no_reservation")
            await self._answer(stream, NO_RESERVATION)
            return
        per_peer = self.limits.max_circuits_per_peer
        if (
            self._circuits >= self.limits.max_circuits
            or self._circuits_to[target] >= per_peer
            or self._circuits_from[source] >= per_peer
        ):
            self._event("circuit", "resource_limit_exceeded")
            await self._answer(stream, RESOURCE_LIMIT_EXCEEDED)
            return
        self._circuits += 1
        self._circuits_to[target] += 1
        self._circuits_from[source] += 1
        try:
            await self._circuit(stream, source, target)
        finally:
            self._circuits -= 1
            for counter, key in ((self._circuits_to, target), (self._circuits_from, source)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    async def _circuit(self, src: INetStream, source: str, target: str) -> None:
        dst: INetStream | None = None
        try:
            with trio.fail_after(self.limits.handshake_timeout):
                dst = await self.host.open_stream(
                    target, STOP_PROTOCOL, timeout=self.limits.handshake_timeout
                )
                origin = PeerId(id=ID.from_base58(source).to_bytes())
                await write_pb(dst, StopMessage(type=StopMessage.CONNECT, peer=origin, limit=self._limit()))
                answer = await read_pb(dst, StopMessage, MAX_RELAY_MESSAGE_BYTES)
            if answer.type != StopMessage.STATUS or answer.status != OK:
                raise P2PError(f"the target answered {status_name(answer.status)}")
        except (P2PError, RemoteProtocolError, trio.TooSlowError) as exc:
            log.info("circuit %s -> %s failed: %s", source, target, exc)
            self._event("circuit", "connection_failed")
            await self._answer(src, CONNECTION_FAILED)
            if dst is not None:
                await reset_stream(dst)
            return
        if not await self._answer(src, OK, limit=self._limit()):
            self._event("circuit", "source_gone")
            await reset_stream(dst)
            return
        self._event("circuit", "opened")
        outcome = await self._splice(src, dst)
        self._event("circuit", outcome)

    async def _splice(self, a: INetStream, b: INetStream) -> str:
        """Copy both ways until both sides closed or a limit is reached; returns how it ended."""
        state = {"budget": self.limits.circuit_bytes, "outcome": "closed"}
        with trio.move_on_after(self.limits.circuit_duration) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._copy, a, b, state, nursery.cancel_scope)
                nursery.start_soon(self._copy, b, a, state, nursery.cancel_scope)
        if scope.cancelled_caught:
            state["outcome"] = "duration_limit"
        outcome = str(state["outcome"])
        if outcome == "closed":
            await close_stream(a)
            await close_stream(b)
        else:
            await reset_stream(a)
            await reset_stream(b)
        return outcome

    async def _copy(
        self, src: INetStream, dst: INetStream, state: dict[str, int | str], circuit: trio.CancelScope
    ) -> None:
        """Copy ``src`` to ``dst`` until EOF (then half-close ``dst``); a broken stream or the data
        limit ends the whole circuit (``circuit`` is cancelled, both streams are reset)."""
        while True:
            try:
                data = await src.read(COPY_CHUNK)
            except StreamEOF:
                data = b""
            except Exception:  # reset or broken: the circuit is over
                state["outcome"] = "reset"
                circuit.cancel()
                return
            if not data:
                await close_stream(dst)
                return
            budget = int(state["budget"]) - len(data)
            state["budget"] = budget
            if budget < 0:
                state["outcome"] = "data_limit"
                circuit.cancel()
                return
            try:
                await dst.write(data)
            except Exception:
                state["outcome"] = "reset"
                circuit.cancel()
                return
            self._bytes += len(data)
            if self.observer is not None:
                self.observer.relay_bytes(len(data))


__all__ = [
    "CONNECTION_FAILED",
    "HOP_PROTOCOL",
    "MAX_RELAY_MESSAGE_BYTES",
    "NO_RESERVATION",
    "OK",
    "PERMISSION_DENIED",
    "RESERVATION_REFUSED",
    "RESOURCE_LIMIT_EXCEEDED",
    "STOP_PROTOCOL",
    "RelayLimits",
    "RelayObserver",
    "RelayService",
    "RelayStatistics",
    "status_name",
    "stream_is_relayed",
]
