"""The connection manager: inbound admission, per-IP limits, and trimming between watermarks.

Theory of operation
-------------------
Modelled on go-libp2p's ``p2p/net/connmgr`` (``BasicConnMgr``), plus the admission limits that go-libp2p
keeps in its resource manager. The policy (:class:`ConnManager`) does no I/O and reads no clock: ``P2PHost``
feeds it events with ``now`` (through :class:`SwarmTracker`) and carries out its decisions.

* **Admission** (before any handshake work): every inbound TCP connection asks :meth:`admit`. It is
  refused, with a reason, if ``max_inbound`` inbound connections are already open or handshaking
  (``--max-connections``), or ``max_per_ip`` of them come from the same IP (loopback is exempt by
  default, as in go-libp2p: ``per_ip_exempt``). An admitted connection holds
  its slot until it ends (:class:`Ticket`), so the limits bound what the node really holds: a client
  that connects and says nothing, or stops half-way through the Noise handshake, costs one slot for at
  most ``handshake_timeout``.
* **Tracking**: ``connected``/``disconnected`` (both directions, from the swarm's notifications) and
  stream activity keep one :class:`ConnInfo` per established connection.
* **Trimming** (go-libp2p's ``TrimOpenConns``): when more than ``high_water`` connections are
  established, :meth:`plan_trim` picks connections to close until ``low_water`` of the trimmable ones
  remain (protected connections come on top, as in go-libp2p), at most once per ``silence_period``.
  Never a protected peer (``protect(peer, tag)``: the DHT protects its routing-table neighbours), never
  a peer first seen less than ``grace_period`` ago. The least useful go first: peers with no open stream
  before busy ones, then inbound before outbound, then the longest idle. If fewer than ``low_water``
  connections are eligible, nothing is trimmed (we would kill useful connections).

Every count is reported to an optional :class:`ConnEvents` observer (the bootstrap's Prometheus metrics).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import trio
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.rcmgr import Direction
from multiaddr import Multiaddr

#: Default ``--max-connections``: inbound connections (open or handshaking) held at once.
DEFAULT_MAX_INBOUND = 512
#: Inbound connections (open or handshaking) from one IP address (IPv6: one /64) at once.
DEFAULT_MAX_PER_IP = 16
#: Networks exempt from the per-IP limit (go-libp2p's defaults: loopback; still under ``max_inbound``).
DEFAULT_PER_IP_EXEMPT = ("127.0.0.0/8", "::1/128")
#: Watermarks of established connections (both directions): trim above ``high``, down to ``low``.
DEFAULT_LOW_WATER = 160
DEFAULT_HIGH_WATER = 256
#: A new peer is never trimmed during its first ``grace_period`` seconds (go-libp2p: 1 minute).
DEFAULT_GRACE_PERIOD = 60.0
#: At most one trim per ``silence_period`` seconds (go-libp2p: 10 s).
DEFAULT_SILENCE_PERIOD = 10.0
#: Noise + yamux handshakes of one inbound connection, from accept to established.
DEFAULT_HANDSHAKE_TIMEOUT = 10.0

#: Refusal and close reasons (metric label values).
REFUSED_MAX_INBOUND = "max_inbound"
REFUSED_PER_IP = "per_ip"
REFUSED_STOPPING = "stopping"
FAILED_HANDSHAKE = "handshake_failed"
FAILED_HANDSHAKE_TIMEOUT = "handshake_timeout"
CLOSED_TRIMMED = "trimmed"

INBOUND = "inbound"
OUTBOUND = "outbound"

C = TypeVar("C")


class ConnEvents(Protocol):
    """Observer of connection counts (implemented by ``bootstrap.metrics.Metrics``)."""

    def conn_opened(self, direction: str) -> None: ...

    def conn_closed(self, direction: str, reason: str) -> None: ...

    def conn_refused(self, reason: str) -> None: ...

    def conn_current(self, inbound: int, outbound: int, pending_inbound: int) -> None: ...


@dataclass(frozen=True)
class ConnLimits:
    """The connection manager's limits (see the module docstring).

    Raises:
        ValueError: a limit out of range (``low_water`` must be below ``high_water``).
    """

    max_inbound: int = DEFAULT_MAX_INBOUND
    max_per_ip: int = DEFAULT_MAX_PER_IP
    per_ip_exempt: tuple[str, ...] = DEFAULT_PER_IP_EXEMPT
    low_water: int = DEFAULT_LOW_WATER
    high_water: int = DEFAULT_HIGH_WATER
    grace_period: float = DEFAULT_GRACE_PERIOD
    silence_period: float = DEFAULT_SILENCE_PERIOD
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT

    def __post_init__(self) -> None:
        if self.max_inbound < 1 or self.max_per_ip < 1:
            raise ValueError("max_inbound and max_per_ip must be at least 1")
        for net in self.per_ip_exempt:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"per_ip_exempt: {net!r} is not a network (e.g. 10.0.0.0/8)") from exc
        if not 0 <= self.low_water < self.high_water:
            raise ValueError("need 0 <= low_water < high_water")
        if self.grace_period < 0 or self.silence_period < 0 or self.handshake_timeout <= 0:
            raise ValueError("grace_period and silence_period must be >= 0, handshake_timeout > 0")


def ip_key(ip: str | None) -> str:
    """The unit of the per-IP limit: the IPv4 address, or the /64 of an IPv6 address (one host's
    allocation; a single machine easily has a whole /64 to pick source addresses from)."""
    if not ip:
        return "?"
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(addr) >> 64 << 64, 64)))
    return str(addr)


@dataclass
class ConnInfo(Generic[C]):
    """One established connection."""

    conn: C
    peer: str
    direction: str
    ip: str | None
    opened: float
    last_active: float
    streams: int = 0


@dataclass
class _PeerState(Generic[C]):
    first_seen: float
    conns: list[ConnInfo[C]] = field(default_factory=list)


@dataclass
class ConnStatistics:
    """Counters since start, and the current counts."""

    opened: dict[str, int] = field(default_factory=lambda: {INBOUND: 0, OUTBOUND: 0})
    closed: dict[str, int] = field(default_factory=lambda: {INBOUND: 0, OUTBOUND: 0})
    refused: dict[str, int] = field(default_factory=dict)
    trimmed: int = 0
    inbound: int = 0
    outbound: int = 0
    pending_inbound: int = 0
    admitted_inbound: int = 0
    tracked_ips: int = 0
    protected_peers: int = 0


class Ticket:
    """An admitted inbound connection's slot (returned exactly once by :meth:`release`)."""

    def __init__(self, manager: ConnManager[object], ip: str) -> None:
        self._manager = manager
        self.ip = ip
        self._established = False
        self._released = False

    def established(self, conn: object) -> None:
        if not self._established and not self._released:
            self._established = True
            self._manager._handshake_done()

    def failed(self, reason: str) -> None:
        self._manager._count_refused(reason)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._manager._release(self, handshaking=not self._established)


class ConnManager(Generic[C]):
    """Admission, tracking and trimming of one host's connections (see the module docstring).

    Args:
        limits: the limits.
        events: an optional observer of the counts (Prometheus metrics).
    """

    def __init__(self, limits: ConnLimits | None = None, events: ConnEvents | None = None) -> None:
        self.limits = limits or ConnLimits()
        self.events = events
        self._exempt = [ipaddress.ip_network(n, strict=False) for n in self.limits.per_ip_exempt]
        self.stopping = False
        self._admitted = 0
        #: Admitted inbound connections still in their handshakes (counted by their tickets: it never
        #: depends on the order of libp2p's notifications and our own release).
        self._handshaking = 0
        self._established = {INBOUND: 0, OUTBOUND: 0}
        self._per_ip: dict[str, int] = {}
        self._conns: dict[int, ConnInfo[C]] = {}
        self._peers: dict[str, _PeerState[C]] = {}
        self._protected: dict[str, set[str]] = {}
        self._last_trim = float("-inf")
        self._stats = ConnStatistics()
        self._probes: dict[tuple[str, int], bool] = {}

    # ------------------------------------------------------------------------------------ admission

    def admit(self, remote: tuple[str, int] | None) -> Ticket | None:
        """A slot for a new inbound connection from ``remote`` (ip, port), or None if refused.

        A connection from an address announced by :meth:`expect_probe` (our own health probe) is marked
        seen and closed at once, uncounted."""
        if remote is not None and (str(remote[0]), int(remote[1])) in self._probes:
            self._probes[(str(remote[0]), int(remote[1]))] = True
            return None
        ip = ip_key(remote[0] if remote else None)
        if self.stopping:
            reason = REFUSED_STOPPING
        elif self._admitted >= self.limits.max_inbound:
            reason = REFUSED_MAX_INBOUND
        elif self._per_ip.get(ip, 0) >= self.limits.max_per_ip and not self._exempt_ip(remote):
            reason = REFUSED_PER_IP
        else:
            self._admitted += 1
            self._handshaking += 1
            self._stats.admitted_inbound += 1
            self._per_ip[ip] = self._per_ip.get(ip, 0) + 1
            self._report_current()
            return Ticket(self, ip)  # type: ignore[arg-type]
        self._count_refused(reason)
        return None

    def _exempt_ip(self, remote: tuple[str, int] | None) -> bool:
        if remote is None or not self._exempt:
            return False
        try:
            addr = ipaddress.ip_address(str(remote[0]).split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr.version == net.version and addr in net for net in self._exempt)

    def _handshake_done(self) -> None:
        self._handshaking -= 1
        self._report_current()

    def _release(self, ticket: Ticket, handshaking: bool) -> None:
        self._admitted -= 1
        if handshaking:
            self._handshaking -= 1
        left = self._per_ip[ticket.ip] - 1
        if left:
            self._per_ip[ticket.ip] = left
        else:
            del self._per_ip[ticket.ip]
        self._report_current()

    def _count_refused(self, reason: str) -> None:
        self._stats.refused[reason] = self._stats.refused.get(reason, 0) + 1
        if self.events is not None:
            self.events.conn_refused(reason)

    def expect_probe(self, local: tuple[str, int]) -> None:
        """Our health probe will connect from ``local`` (ip, port): recognise it (see ``p2p.health``)."""
        self._probes[(str(local[0]), int(local[1]))] = False

    def probe_seen(self, local: tuple[str, int]) -> bool:
        """True once the probe from ``local`` reached admission (the listener accepts)."""
        return self._probes.get((str(local[0]), int(local[1])), False)

    def forget_probe(self, local: tuple[str, int]) -> None:
        self._probes.pop((str(local[0]), int(local[1])), None)

    # ------------------------------------------------------------------------------------ tracking

    def connected(self, conn: C, peer: str, direction: str, ip: str | None, now: float) -> None:
        """An established connection (either direction) was registered."""
        if id(conn) in self._conns:
            return
        info = ConnInfo(conn, peer, direction, ip, now, now)
        self._conns[id(conn)] = info
        state = self._peers.get(peer)
        if state is None:
            state = self._peers[peer] = _PeerState(first_seen=now)
        state.conns.append(info)
        self._established[direction] += 1
        self._stats.opened[direction] = self._stats.opened.get(direction, 0) + 1
        if self.events is not None:
            self.events.conn_opened(direction)
        self._report_current()

    def disconnected(self, conn: C, reason: str = "closed") -> None:
        """A connection ended (closed by either side, trimmed, or failed)."""
        info = self._conns.pop(id(conn), None)
        if info is None:
            return
        state = self._peers.get(info.peer)
        if state is not None:
            state.conns = [c for c in state.conns if c is not info]
            if not state.conns:
                del self._peers[info.peer]
        self._established[info.direction] -= 1
        self._stats.closed[info.direction] = self._stats.closed.get(info.direction, 0) + 1
        if self.events is not None:
            self.events.conn_closed(info.direction, reason)
        self._report_current()

    def reconcile(self, is_live: Callable[[C], bool]) -> int:
        """Forget connections that ended without a ``disconnected`` event (a close interrupted half-way
        skips libp2p's notification). Returns how many were forgotten."""
        gone = [info.conn for info in self._conns.values() if not is_live(info.conn)]
        for conn in gone:
            self.disconnected(conn, "closed")
        return len(gone)

    def stream_opened(self, conn: C, now: float) -> None:
        info = self._conns.get(id(conn))
        if info is not None:
            info.streams += 1
            info.last_active = now

    def stream_closed(self, conn: C, now: float) -> None:
        info = self._conns.get(id(conn))
        if info is not None:
            info.streams = max(0, info.streams - 1)
            info.last_active = now

    def connections(self) -> list[ConnInfo[C]]:
        return list(self._conns.values())

    # ------------------------------------------------------------------------------------ protection

    def protect(self, peer: str, tag: str) -> None:
        """Never trim ``peer`` while it holds at least one protection tag."""
        self._protected.setdefault(peer, set()).add(tag)

    def unprotect(self, peer: str, tag: str) -> bool:
        """Remove one tag; True if the peer is still protected by another."""
        tags = self._protected.get(peer)
        if tags is None:
            return False
        tags.discard(tag)
        if not tags:
            del self._protected[peer]
            return False
        return True

    def is_protected(self, peer: str, tag: str = "") -> bool:
        tags = self._protected.get(peer)
        return bool(tags) and (not tag or tag in tags)  # type: ignore[operator]

    def protect_only(self, tag: str, peers: Iterable[str]) -> None:
        """Make ``peers`` exactly the set protected by ``tag`` (e.g. the routing table's contacts)."""
        wanted = set(peers)
        for peer in [p for p, tags in self._protected.items() if tag in tags and p not in wanted]:
            self.unprotect(peer, tag)
        for peer in wanted:
            self.protect(peer, tag)

    # ------------------------------------------------------------------------------------ trimming

    def plan_trim(self, now: float, force: bool = False) -> list[ConnInfo[C]]:
        """The connections to close now to get from above ``high_water`` down to ``low_water`` (empty if
        nothing should be trimmed). Marks the trim time (the silence period starts) when it trims.

        Args:
            now: current time (seconds, the caller's clock).
            force: ignore the high watermark and the silence period (an operator's explicit request).
        """
        lim = self.limits
        if not force and (len(self._conns) <= lim.high_water or now - self._last_trim < lim.silence_period):
            return []
        candidates = [
            state for peer, state in self._peers.items()
            if peer not in self._protected and now - state.first_seen >= lim.grace_period
        ]  # fmt: skip
        eligible = sum(len(s.conns) for s in candidates)
        if eligible < lim.low_water and not force:
            return []
        self._last_trim = now

        def usefulness(state: _PeerState[C]) -> tuple[bool, bool, float]:
            busy = any(c.streams for c in state.conns)
            outbound = any(c.direction == OUTBOUND for c in state.conns)
            return (busy, outbound, max(c.last_active for c in state.conns))

        candidates.sort(key=usefulness)
        target = eligible - lim.low_water
        out: list[ConnInfo[C]] = []
        for state in candidates:
            if target <= 0:
                break
            out.extend(state.conns)
            target -= len(state.conns)
        self._stats.trimmed += len(out)
        return out

    # ------------------------------------------------------------------------------------ reporting

    def _report_current(self) -> None:
        if self.events is not None:
            established = self._established
            self.events.conn_current(established[INBOUND], established[OUTBOUND], self._handshaking)

    def statistics(self) -> ConnStatistics:
        """A snapshot of the counters and current counts."""
        s = self._stats
        inbound = self._established[INBOUND]
        return ConnStatistics(
            opened=dict(s.opened), closed=dict(s.closed), refused=dict(s.refused), trimmed=s.trimmed,
            inbound=inbound, outbound=self._established[OUTBOUND],
            pending_inbound=self._handshaking, admitted_inbound=s.admitted_inbound,
            tracked_ips=len(self._per_ip), protected_peers=len(self._protected),
        )  # fmt: skip


# ------------------------------------------------------------------------------ py-libp2p glue


def _conn_ip(conn: INetConn) -> str | None:
    try:
        remote = conn.muxed_conn.get_remote_address()  # type: ignore[attr-defined]
    except Exception:  # the connection is already gone
        return None
    return str(remote[0]) if remote else None


class SwarmTracker(INotifee):
    """Feeds a py-libp2p swarm's connection notifications to a :class:`ConnManager` (``now`` is
    trio's clock). A connection closed by a trim carries ``_metaspace_close_reason``."""

    def __init__(self, manager: ConnManager[INetConn]) -> None:
        self._manager = manager

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        conn = getattr(stream, "swarm_conn", None)
        if conn is not None:
            self._manager.stream_opened(conn, trio.current_time())

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        conn = getattr(stream, "swarm_conn", None)
        if conn is not None:
            self._manager.stream_closed(conn, trio.current_time())

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        direction = INBOUND if getattr(conn, "direction", None) == Direction.INBOUND else OUTBOUND
        peer = str(conn.muxed_conn.peer_id)
        self._manager.connected(conn, peer, direction, _conn_ip(conn), trio.current_time())

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self._manager.disconnected(conn, getattr(conn, "_metaspace_close_reason", "closed"))

    async def listen(self, network: INetwork, multiaddr: Multiaddr) -> None:
        return None

    async def listen_close(self, network: INetwork, multiaddr: Multiaddr) -> None:
        return None


__all__ = [
    "CLOSED_TRIMMED",
    "ConnEvents",
    "ConnInfo",
    "ConnLimits",
    "ConnManager",
    "ConnStatistics",
    "SwarmTracker",
    "Ticket",
    "ip_key",
]
