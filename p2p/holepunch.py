"""DCUtR (libp2p/specs relay/DCUtR.md): upgrade a relayed connection to a direct one by hole punching.

Why not py-libp2p's ``relay.circuit_v2.dcutr.DCUtRProtocol``: its building blocks are right and used
here — ``Swarm.dial_addr(addr, peer, source)`` dials *from our listen port* (the listener has
SO_REUSEPORT), and ``Swarm.dial_addr_as_responder`` upgrades a dial as the security *responder*, which a
TCP simultaneous open needs (both ends called ``connect``; the spec makes the DCUtR initiator the
server). But the service around them does not fit: it hole-punches every relayed connection it sees
every 2 s from a background loop (including ones we opened), predicts its public address from
py-libp2p's observed-address manager (which our host disables), has no bound on the addresses it dials
and no record of what happened. So the exchange is driven here, once per inbound relayed connection,
with its outcome kept for ``metaspace status``.

Theory of operation
-------------------
A dialed B through a relay, so B holds an *inbound* relayed connection; B runs the exchange
(:meth:`HolePuncher.initiate`), A answers (the ``/libp2p/dcutr`` handler):

1. B opens a DCUtR stream on the relayed connection and sends ``CONNECT`` with its addresses (the
   public address the relay observes, the same IP with our listen port — a NAT that keeps ports maps
   the listen port there — and our own listen addresses), and starts a clock.
2. A answers ``CONNECT`` with its addresses. B measures the round trip (RTT), sends ``SYNC`` and waits
   RTT/2; A dials as soon as ``SYNC`` arrives: both SYNs cross at about the same time.
3. Each side dials every address of the other at once, from its listen port; A upgrades as the
   security initiator, B as the responder. The first connection that comes up wins; the other dials
   are cancelled (bounded by ``PUNCH_TIMEOUT``: the kernel retransmits a dropped SYN at 1 s and 3 s).
4. B tries ``MAX_ATTEMPTS`` times. The outcome — ``direct`` or ``relayed`` with a reason — is recorded
   (:attr:`HolePuncher.results`); a failure changes nothing for the relayed connection, which keeps
   working. Once direct, new streams go direct (the swarm prefers direct connections); the relayed
   connection is left to its streams and closed by the relay's limits or when idle.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import multiaddr
import trio
from libp2p.abc import INetStream
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.peer.id import ID
from libp2p.relay.circuit_v2.pb.dcutr_pb2 import HolePunch

from p2p.errors import P2PError
from p2p.host import P2PHost, close_stream, reset_stream, stream_peer_id
from p2p.pbstream import read_pb, write_pb
from p2p.relay_client import connection_kind, is_circuit
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)

DCUTR_PROTOCOL = "/libp2p/dcutr"
IDENTIFY_PROTOCOL = "/ipfs/id/1.0.0"
#: Spec: DCUtR messages are at most 4 KiB.
MAX_DCUTR_MESSAGE_BYTES = 4096
#: Identify answers carry protocols, addresses and a signed record.
MAX_IDENTIFY_BYTES = 64 * 1024
#: Addresses sent in, and dialed from, one CONNECT.
MAX_PUNCH_ADDRS = 8
#: The CONNECT/CONNECT/SYNC exchange over the relay.
EXCHANGE_TIMEOUT = 10.0
#: One round of simultaneous dials.
PUNCH_TIMEOUT = 6.0
#: Rounds per relayed connection (spec: retry twice).
MAX_ATTEMPTS = 3
#: Pause between rounds.
RETRY_PAUSE = 1.0
#: Outcomes kept for ``status``.
MAX_RESULTS = 32
#: Hole punches in progress at once (each holds a stream and up to MAX_PUNCH_ADDRS dials).
MAX_CONCURRENT_PUNCHES = 4


@dataclass(frozen=True)
class PunchResult:
    """How one upgrade attempt ended.

    Attributes:
        peer: the other peer.
        outcome: ``direct`` (a direct connection is up) or ``relayed`` (still relayed only).
        attempts: rounds run.
        rtt_ms: the relay round trip measured in the last round.
        reason: why it stayed relayed (empty when direct).
        at: Unix time of the end.
    """

    peer: str
    outcome: str
    attempts: int
    rtt_ms: float | None
    reason: str
    at: float


def _tcp_addrs(raw: list[bytes]) -> list[multiaddr.Multiaddr]:
    out: list[multiaddr.Multiaddr] = []
    for item in raw[:MAX_PUNCH_ADDRS]:
        try:
            maddr = multiaddr.Multiaddr(bytes(item))
            names = [p.name for p in maddr.protocols()]
        except Exception:
            continue
        if len(names) == 2 and names[0] in ("ip4", "ip6") and names[1] == "tcp" and maddr not in out:
            out.append(maddr)
    return out


async def observed_address(host: P2PHost, peer: str) -> str | None:
    """The address ``peer`` sees us connect from (its identify answer's ``observed_addr``), or None."""
    stream: INetStream | None = None
    try:
        with trio.fail_after(EXCHANGE_TIMEOUT):
            stream = await host.open_stream(peer, IDENTIFY_PROTOCOL, timeout=EXCHANGE_TIMEOUT)
            msg = await read_pb(stream, Identify, MAX_IDENTIFY_BYTES)
        return str(multiaddr.Multiaddr(bytes(msg.observed_addr))) if msg.observed_addr else None
    except (P2PError, RemoteProtocolError, trio.TooSlowError, ValueError) as exc:
        log.debug("identify of %s failed: %s", peer, exc)
        return None
    finally:
        if stream is not None:
            await close_stream(stream)


class HolePuncher:
    """Run DCUtR on a host (see the module docstring).

    Args:
        host: the running host.
        our_addrs: our candidate direct addresses to send (observed, predicted, listen), best first.
    """

    def __init__(self, host: P2PHost, our_addrs: Callable[[], list[str]]) -> None:
        self.host = host
        self.our_addrs = our_addrs
        self.results: deque[PunchResult] = deque(maxlen=MAX_RESULTS)
        self._busy: set[str] = set()
        self._slots = trio.Semaphore(MAX_CONCURRENT_PUNCHES)

    def start(self) -> None:
        self.host.set_handler(DCUTR_PROTOCOL, self._serve, timeout=EXCHANGE_TIMEOUT + PUNCH_TIMEOUT + 5)

    def stop(self) -> None:
        self.host.remove_handler(DCUTR_PROTOCOL)

    def last_result(self, peer: str) -> PunchResult | None:
        for result in reversed(self.results):
            if result.peer == peer:
                return result
        return None

    def _connect_msg(self) -> HolePunch:
        msg = HolePunch(type=HolePunch.CONNECT)
        for text in self.our_addrs()[:MAX_PUNCH_ADDRS]:
            try:
                msg.ObsAddrs.append(multiaddr.Multiaddr(text).to_bytes())
            except Exception:
                continue
        return msg

    def _source(self) -> tuple[str, int] | None:
        """Our TCP listen (ip, port): hole-punch dials leave from it."""
        for text in self.host.bound_addrs():
            try:
                maddr = multiaddr.Multiaddr(text)
                ip = maddr.value_for_protocol("ip4")
                return str(ip), int(maddr.value_for_protocol("tcp"))
            except Exception:
                continue
        return None

    # ---------------------------------------------------------------------------------- B: initiate

    async def initiate(self, peer: str) -> PunchResult:
        """Run the exchange with ``peer`` (over our relayed connection to it) until a direct connection
        is up or ``MAX_ATTEMPTS`` rounds failed. Never raises for network failures."""
        if peer in self._busy:
            return self._record(peer, "relayed", 0, None, "a hole punch with this peer is already running")
        self._busy.add(peer)
        try:
            async with self._slots:
                return await self._initiate(peer)
        finally:
            self._busy.discard(peer)

    async def _initiate(self, peer: str) -> PunchResult:
        reason, rtt = "", None
        attempt = 0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if connection_kind(self.host, peer) == "direct":
                return self._record(peer, "direct", attempt - 1, rtt, "")
            if connection_kind(self.host, peer) is None:
                return self._record(peer, "relayed", attempt - 1, rtt, "the relayed connection closed")
            try:
                rtt, theirs = await self._exchange(peer)
            except (P2PError, RemoteProtocolError, trio.TooSlowError) as exc:
                reason = f"the exchange over the relay failed: {exc}"
                await trio.sleep(RETRY_PAUSE)
                continue
            if not theirs:
                return self._record(peer, "relayed", attempt, rtt, "the peer sent no direct address")
            await trio.sleep(rtt / 2)
            if await self._punch(peer, theirs, as_responder=True):
                return self._record(peer, "direct", attempt, rtt, "")
            reason = f"no direct connection to {', '.join(str(a) for a in theirs)} (NAT dropped the SYNs)"
            await trio.sleep(RETRY_PAUSE)
        return self._record(peer, "relayed", attempt, rtt, reason)

    async def _exchange(self, peer: str) -> tuple[float, list[multiaddr.Multiaddr]]:
        stream = await self.host.open_stream(peer, DCUTR_PROTOCOL, timeout=EXCHANGE_TIMEOUT)
        ok = False
        try:
            with trio.fail_after(EXCHANGE_TIMEOUT):
                started = trio.current_time()
                await write_pb(stream, self._connect_msg())
                answer = await read_pb(stream, HolePunch, MAX_DCUTR_MESSAGE_BYTES)
                rtt = trio.current_time() - started
                if answer.type != HolePunch.CONNECT:
                    raise RemoteProtocolError("expected CONNECT")
                await write_pb(stream, HolePunch(type=HolePunch.SYNC))
            ok = True
            return rtt, _tcp_addrs(list(answer.ObsAddrs))
        finally:
            await (close_stream(stream) if ok else reset_stream(stream))

    # ---------------------------------------------------------------------------------- A: answer

    async def _serve(self, stream: INetStream) -> None:
        peer = stream_peer_id(stream)
        try:
            with trio.fail_after(EXCHANGE_TIMEOUT):
                connect = await read_pb(stream, HolePunch, MAX_DCUTR_MESSAGE_BYTES)
                if connect.type != HolePunch.CONNECT:
                    raise RemoteProtocolError("expected CONNECT")
                await write_pb(stream, self._connect_msg())
                sync = await read_pb(stream, HolePunch, MAX_DCUTR_MESSAGE_BYTES)
                if sync.type != HolePunch.SYNC:
                    raise RemoteProtocolError("expected SYNC")
        except (P2PError, RemoteProtocolError, trio.TooSlowError) as exc:
            log.info("DCUtR exchange with %s failed: %s", peer, exc)
            return
        theirs = _tcp_addrs(list(connect.ObsAddrs))
        if theirs and connection_kind(self.host, peer) != "direct":
            async with self._slots:
                direct = await self._punch(peer, theirs, as_responder=False)
            reason = "" if direct else f"none of our dials to {', '.join(str(a) for a in theirs)} got through"
            self._record(peer, "direct" if direct else "relayed", 1, None, reason)

    # ---------------------------------------------------------------------------------- both: dial

    async def _punch(self, peer: str, addrs: list[multiaddr.Multiaddr], *, as_responder: bool) -> bool:
        """Dial every address at once from our listen port; True once a direct connection is up."""
        swarm: Any = self.host.libp2p_host.get_network()
        pid = ID.from_base58(peer)
        source = self._source()
        done = trio.Event()
        pending = [len(addrs)]

        async def dial(addr: multiaddr.Multiaddr) -> None:
            try:
                await _dial(addr)
            finally:
                pending[0] -= 1
                if pending[0] <= 0 or connection_kind(self.host, peer) == "direct":
                    done.set()

        async def _dial(addr: multiaddr.Multiaddr) -> None:
            try:
                if as_responder:
                    await swarm.dial_addr_as_responder(addr, pid, source)
                else:
                    await swarm.dial_addr(addr, pid, source)
            except Exception as exc:  # refused, timed out in the kernel, handshake failed
                log.debug("hole-punch dial of %s at %s failed: %r", peer, addr, exc)

        with trio.move_on_after(PUNCH_TIMEOUT):
            async with trio.open_nursery() as nursery:
                for addr in addrs:
                    nursery.start_soon(dial, addr)
                await done.wait()
                nursery.cancel_scope.cancel()
        return connection_kind(self.host, peer) == "direct"

    def _record(self, peer: str, outcome: str, attempts: int, rtt: float | None, reason: str) -> PunchResult:
        result = PunchResult(
            peer, outcome, attempts, None if rtt is None else round(rtt * 1000, 1), reason, time.time()
        )
        self.results.append(result)
        log.info("hole punch with %s: %s%s", peer, outcome, f" ({reason})" if reason else "")
        return result


def direct_candidates(observed: str | None, listen_addrs: list[str], bound_port: int | None) -> list[str]:
    """Our addresses worth sending in a CONNECT, best first: the observed public address with our
    listen port (what an endpoint-independent, port-preserving NAT maps it to), the observed address
    itself, then our own (non-relay) listen addresses (peers on the same network)."""
    out: list[str] = []
    if observed:
        try:
            maddr = multiaddr.Multiaddr(observed)
            proto = "ip4" if "ip4" in [p.name for p in maddr.protocols()] else "ip6"
            ip = maddr.value_for_protocol(proto)
            if bound_port:
                out.append(f"/{proto}/{ip}/tcp/{bound_port}")
            out.append(f"/{proto}/{ip}/tcp/{maddr.value_for_protocol('tcp')}")
        except Exception:  # an observed address without ip/tcp
            pass
    out.extend(a for a in listen_addrs if not is_circuit(a))
    seen: list[str] = []
    for a in out:
        if a not in seen:
            seen.append(a)
    return seen[:MAX_PUNCH_ADDRS]


__all__ = [
    "DCUTR_PROTOCOL",
    "MAX_ATTEMPTS",
    "PUNCH_TIMEOUT",
    "HolePuncher",
    "PunchResult",
    "direct_candidates",
    "observed_address",
]
