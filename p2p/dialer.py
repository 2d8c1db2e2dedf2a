"""Dialing a peer for ``P2PHost``: its addresses in order, one attempt each, concurrent dials shared.

py-libp2p's ``dial_peer`` keeps at most one TCP address of a peer, skips loopback when any other
address is known, and its peerstore expires a peer's addresses 120 s after ``connect``. So we dial the
addresses ourselves with ``Swarm.dial_addr``: first those the caller gave, then the peerstore's (which
the peer fills through identify: only the ones ``AddrPolicy`` believes, at most ``MAX_DIAL_ADDRS``),
one attempt each, under the caller's deadline. Two tasks dialing the same peer share one dial.

Relay addresses (``.../p2p/<relay>/p2p-circuit``) are dialed through ``circuit_dial`` (set by
:mod:`p2p.nat` to :func:`p2p.relay_client.dial_via_relay`); without it they are skipped. While a peer
also has relay addresses, one direct attempt is bounded by ``DIRECT_WITH_RELAY_TIMEOUT`` so that an
unreachable address behind a NAT leaves time for the relay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import multiaddr
import trio
from libp2p.host.basic_host import BasicHost
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID

from p2p.addrs import CIRCUIT, AddrPolicy, strip_p2p
from p2p.errors import DialError
from wire.limits import MAX_ADDRS_PER_PEER

#: Addresses tried by one dial (ours first, then the peerstore's, which a peer fills via identify).
MAX_DIAL_ADDRS = MAX_ADDRS_PER_PEER
#: One direct attempt while the peer also has relay addresses (a NAT drops our SYN: don't wait it out).
DIRECT_WITH_RELAY_TIMEOUT = 3.0

#: ``circuit_dial(peer_id, relay_address)``: connect through a relay (``p2p.relay_client``).
CircuitDial = Callable[[str, str], Awaitable[None]]


class Dialer:
    """Connection establishment of one host (see the module docstring).

    Args:
        host: the py-libp2p host (its peerstore and our own id).
        swarm: its swarm.
        policy: the current address policy (it changes once the host knows its bound addresses).
    """

    def __init__(self, host: BasicHost, swarm: Swarm, policy: Callable[[], AddrPolicy]) -> None:
        self._host = host
        self._swarm = swarm
        self._policy = policy
        self._dials: dict[ID, trio.Event] = {}
        self.circuit_dial: CircuitDial | None = None
        self.ok = 0
        self.failed = 0

    def is_connected(self, pid: ID) -> bool:
        return any(not c.is_closed for c in self._swarm.get_connections(pid))

    async def ensure_connection(self, pid: ID, first: list[multiaddr.Multiaddr]) -> None:
        """Return once a connection to ``pid`` is up, dialing if needed (no deadline of its own).

        Raises:
            DialError: dialing ourselves, no address known, or every address failed.
        """
        if pid == self._host.get_id():
            raise DialError("refusing to dial ourselves")
        while True:
            if self.is_connected(pid):
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

    def known_addrs(self, pid: ID) -> list[multiaddr.Multiaddr]:
        """The peerstore's addresses of ``pid`` that the address policy believes (without ``/p2p/``)."""
        try:
            known = self._host.get_peerstore().addrs(pid)
        except Exception:  # the peerstore raises when it knows nothing of the peer
            return []
        policy = self._policy()
        out: list[multiaddr.Multiaddr] = []
        for maddr in map(strip_p2p, known):
            if maddr not in out and policy.allows(maddr):
                out.append(maddr)
        return out

    def candidates(self, pid: ID, first: list[multiaddr.Multiaddr]) -> list[multiaddr.Multiaddr]:
        """The addresses one dial tries, in order."""
        out: list[multiaddr.Multiaddr] = list(first)
        out.extend(m for m in self.known_addrs(pid) if m not in out)
        return out[:MAX_DIAL_ADDRS]

    async def _dial(self, pid: ID, first: list[multiaddr.Multiaddr]) -> None:
        candidates = self.candidates(pid, first)
        if not candidates:
            self.failed += 1
            raise DialError(f"no known address for {pid}")
        errors: list[str] = []
        relayed = any(CIRCUIT in str(m) for m in candidates)
        for maddr in candidates:
            if CIRCUIT in str(maddr):
                if self.circuit_dial is None:
                    errors.append(f"{maddr}: relay addresses are not dialed by this node")
                    continue
                try:
                    await self.circuit_dial(str(pid), str(maddr))
                except Exception as exc:  # DialError / RelayRefused with a reason, PeerTimeout
                    errors.append(f"{maddr}: {exc}")
                    continue
                self.ok += 1
                return
            try:
                with trio.fail_after(DIRECT_WITH_RELAY_TIMEOUT if relayed else float("inf")):
                    conn = await self._swarm.dial_addr(maddr, pid)
                    event_started = getattr(conn, "event_started", None)
                    if event_started is not None:
                        await event_started.wait()
            except Exception as exc:  # SwarmException and friends, one per address; TooSlowError
                errors.append(f"{maddr}: {exc!r}")
                continue
            self.ok += 1
            return
        self.failed += 1
        raise DialError(f"could not connect to {pid}: " + "; ".join(errors))


__all__ = ["DIRECT_WITH_RELAY_TIMEOUT", "MAX_DIAL_ADDRS", "CircuitDial", "Dialer"]
