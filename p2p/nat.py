"""Reachability for an agent peer: am I reachable, and if not, how do others reach me?

Theory of operation
-------------------
:class:`NatService` runs beside the DHT node of an agent (``metaspace peer``) and puts together
:mod:`p2p.autonat`, :mod:`p2p.relay_client` and :mod:`p2p.holepunch`:

* **Reachability** (a small state table, ``unknown`` -> ``public`` | ``private``): once connected to a
  bootstrap node, it asks up to ``MAX_PROBE_SERVERS`` of them (AutoNAT) to dial it back on its listen
  port, and asks one (identify) which address it sees us at. Verdicts: more "dialed you" than "could not
  dial you" -> ``public``; any "could not" otherwise -> ``private``; no verdict at all -> ``unknown``
  with the servers' reasons. Probed again every ``PROBE_INTERVAL`` (``UNKNOWN_RETRY`` while unknown).
* **Relays** (while not ``public``): reserve a slot on up to ``MAX_RELAYS`` relays, trying the candidates
  in order (``relays``, by default the bootstrap nodes); a refusal is recorded with its reason and the
  next candidate tried. A reservation is renewed ``RENEW_MARGIN`` seconds before it expires, and made
  again at once when the connection to its relay dropped (the relay restarted, or went away: then the
  next candidate). Relay connections are protected from trimming.
* **What we advertise** (the host's address hook, used by identify, the DHT's contact info and
  INTENT_MATCH): while ``private``, our relay addresses first, then our listen addresses; otherwise our
  listen addresses (plus relay addresses while ``unknown``).
* **Connections**: relay addresses are dialed through :func:`p2p.relay_client.dial_via_relay`; a relayed
  connection we accept (only from relays we reserved on) starts a DCUtR hole punch
  (:class:`p2p.holepunch.HolePuncher`); its outcome is in :meth:`NatService.status`.
* **Telling the human why**: :meth:`status` carries the reachability, the reason, each relay's state and
  the last hole punches; ``metaspace status`` and the web page show it.
* **Followers** (``leader=``): a second host of the same owner, on the same machine (behind the same
  NAT), takes the leader's reachability instead of probing again, tries the relays the leader holds
  slots on first (then the leader's other candidates), holds at most ``max_relays`` slots, and learns
  its own observed address from its relay (identify): it advertises, accepts relayed connections and
  hole-punches like the leader. Several services may share a :class:`RelayBudget` (a cap on the slots
  they hold together: a relay limits the slots per IP address). A follower's slots end with its host.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import trio

from p2p.addrs import split_peer_multiaddr
from p2p.autonat import Verdict, probe
from p2p.errors import P2PError
from p2p.holepunch import HolePuncher, direct_candidates, observed_address
from p2p.host import P2PHost
from p2p.relay_client import Reservation, StopServer, connection_kind, dial_via_relay, is_circuit, reserve

log = logging.getLogger(__name__)

#: Re-check reachability this often once known (seconds), and while unknown.
PROBE_INTERVAL = 600.0
UNKNOWN_RETRY = 20.0
#: Bootstrap nodes asked per check.
MAX_PROBE_SERVERS = 3
#: Relays we hold slots on at once.
MAX_RELAYS = 2
#: Renew a reservation this long before it expires; check the relays this often.
RENEW_MARGIN = 120.0
RELAY_CHECK_INTERVAL = 2.0
#: A relay candidate that refused or could not be reached is tried again after this long (seconds);
#: one that does not relay at all (no HOP protocol) after ``NOT_A_RELAY_BACKOFF``.
RELAY_RETRY_BACKOFF = 30.0
NOT_A_RELAY_BACKOFF = 600.0
#: Addresses we advertise (``wire.limits.MAX_ADDRS_PER_PEER``).
MAX_ADVERTISED = 4
#: Protection tag of the connections to our relays.
RELAY_TAG = "relay"

UNKNOWN, PUBLIC, PRIVATE = "unknown", "public", "private"


class RelayBudget:
    """Relay slots several :class:`NatService` share (hosts behind one IP address: a relay caps the
    slots per address). A service that finds the budget spent holds no slot and says so in its status.

    Args:
        limit: slots held at once by all the services sharing it.
    Raises:
        ValueError: ``limit`` below 0.
    """

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("a relay budget can't be negative")
        self.limit = limit
        self.used = 0

    def take(self) -> bool:
        """One slot, if any is left (True), else False."""
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def give(self, count: int = 1) -> None:
        """Give ``count`` slots back."""
        self.used = max(0, self.used - count)


@dataclass
class RelayState:
    """One relay candidate as the status shows it."""

    relay: str
    addrs: list[str]
    state: str = "idle"  # idle | reserved | refused | unreachable
    detail: str = ""
    expires: float | None = None
    retry_at: float = 0.0  # trio time before which it is not tried again


def decide(verdicts: Sequence[Verdict]) -> tuple[str, str]:
    """Reachability from AutoNAT verdicts: (state, reason)."""
    yes = [v for v in verdicts if v.reachable is True]
    no = [v for v in verdicts if v.reachable is False]
    if yes and len(yes) >= len(no):
        return PUBLIC, f"{len(yes)} of {len(verdicts)} bootstrap nodes dialed us back at {yes[0].addr}"
    if no:
        return PRIVATE, (
            f"{len(no)} of {len(verdicts)} bootstrap nodes could not dial us back "
            f"({no[0].detail}): we are behind a NAT or a firewall"
        )
    if not verdicts:
        return UNKNOWN, "no bootstrap node to ask yet"
    reasons = "; ".join(f"{v.server[:12]}…: {v.detail}" for v in verdicts[:3])
    return UNKNOWN, f"no bootstrap node could tell ({reasons})"


class NatService:
    """Reachability, relay slots and hole punching for one host (see the module docstring).

    Args:
        host: the running host.
        seeds: full multiaddrs of the bootstrap nodes (AutoNAT servers, and relay candidates).
        relays: full multiaddrs of relays to use (default: the seeds, or the leader's candidates).
        leader: follow this service's reachability instead of probing (a second host of one owner).
        max_relays: relay slots held at once.
        budget: relay slots shared with other services (None: only ``max_relays``).
    """

    def __init__(
        self,
        host: P2PHost,
        seeds: Sequence[str],
        relays: Sequence[str] | None = None,
        *,
        leader: NatService | None = None,
        max_relays: int = MAX_RELAYS,
        budget: RelayBudget | None = None,
    ) -> None:
        self.host = host
        self.leader = leader
        self.max_relays = max_relays
        self.budget = budget
        self.seeds: list[tuple[str, str]] = [split_peer_multiaddr(a) for a in seeds]
        self.relays: list[RelayState] = []
        if relays is not None or leader is None:
            for addr in list(relays) if relays is not None else list(seeds):
                peer, transport = split_peer_multiaddr(addr)
                if all(r.relay != peer for r in self.relays):
                    self.relays.append(RelayState(peer, [transport]))
        else:
            self.relays = [RelayState(r.relay, list(r.addrs)) for r in leader.relays]
        self.reachability = UNKNOWN
        self.reason = "not checked yet"
        self.verdicts: list[Verdict] = []
        self.observed: str | None = None
        self.checked_at: float | None = None
        self.reservations: dict[str, Reservation] = {}
        self.puncher = HolePuncher(host, self._punch_addrs)
        self.stop_server = StopServer(host, allowed=self._is_our_relay, on_relayed=self._on_relayed)
        self._nursery: trio.Nursery | None = None
        self._wake = trio.Event()
        self._changed = trio.Event()

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Install the hooks and handlers, then check reachability and keep relay slots until cancelled."""
        self.host.set_nat_hooks(self._advertise, self._circuit_dial)
        self.stop_server.start()
        self.puncher.start()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.leader is None:
                    nursery.start_soon(self._probe_loop)
                else:
                    self._follow()
                nursery.start_soon(self._relay_loop)
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            if self.budget is not None:
                self.budget.give(len(self.reservations))
            for relay in list(self.reservations):
                self.host.unprotect(relay, RELAY_TAG)
            self.reservations.clear()  # a slot ends with the connection to its relay (the host's)
            self.host.set_nat_hooks(None, None)
            self.stop_server.stop()
            self.puncher.stop()

    def _follow(self) -> None:
        """Take the leader's reachability (a follower does not probe)."""
        assert self.leader is not None
        lead = self.leader
        if (lead.reachability, lead.checked_at) != (self.reachability, self.checked_at):
            self.reachability, self.reason, self.checked_at = lead.reachability, lead.reason, lead.checked_at
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def settled(self) -> bool:
        """True once what we advertise is worth publishing: reachable (or no check to wait for), or
        behind a NAT with a relay slot, or no slot to be had (the budget is spent, or every candidate
        refused or could not be reached)."""
        lead = self.leader or self
        if lead.reachability == UNKNOWN:
            return lead.checked_at is not None or not lead.seeds
        if lead.reachability == PUBLIC or self.reservations:
            return True
        states = [r.state for r in self.relays]
        return "no slot" in states or all(s not in ("idle", "reserved") for s in states)

    async def wait_settled(self) -> None:
        """Return once :meth:`settled` (the caller bounds the wait)."""
        while not self.settled():
            await self._changed.wait()

    async def _probe_loop(self) -> None:
        while True:
            await self.check()
            delay = UNKNOWN_RETRY if self.reachability == UNKNOWN else PROBE_INTERVAL
            self._wake = trio.Event()
            with trio.move_on_after(delay):
                await self._wake.wait()

    def recheck(self) -> None:
        """Check reachability again now (e.g. after a network change)."""
        self._wake.set()

    async def check(self) -> str:
        """One reachability check against the bootstrap nodes we are connected to (or can reach)."""
        servers = [peer for peer, _t in self.seeds if peer != self.host.peer_id][:MAX_PROBE_SERVERS]
        ports_from = [a for a in self.host.bound_addrs() if "/tcp/" in a]
        verdicts: list[Verdict] = []

        async def ask(peer: str, transport: str) -> None:
            try:
                await self.host.ensure_connection(peer, [transport])
            except P2PError as exc:
                verdicts.append(Verdict(peer, None, detail=f"unreachable: {exc}"))
                return
            verdicts.append(await probe(self.host, peer, ports_from))

        async with trio.open_nursery() as nursery:
            for peer, transport in self.seeds:
                if peer in servers:
                    nursery.start_soon(ask, peer, transport)
        for peer in servers:
            if self.host.is_connected(peer):
                observed = await observed_address(self.host, peer)
                if observed is not None:
                    self.observed = observed
                    break
        self.verdicts = verdicts
        state, reason = decide(verdicts)
        if state != self.reachability:
            log.info("reachability: %s (%s)", state, reason)
        self.reachability, self.reason = state, reason
        self.checked_at = time.time()
        return state

    async def _relay_loop(self) -> None:
        while True:
            if self.leader is not None:
                self._follow()
            if self.reachability == PUBLIC:
                for relay in list(self.reservations):
                    self._drop(relay, "idle", "not needed: we are publicly reachable")
            elif self.reachability == PRIVATE or self.reservations:
                await self._keep_reservations()
            await trio.sleep(RELAY_CHECK_INTERVAL)

    def _drop(self, relay: str, state: str, detail: str) -> None:
        if self.reservations.pop(relay, None) is not None and self.budget is not None:
            self.budget.give()
        self.host.unprotect(relay, RELAY_TAG)
        self._notify()
        for r in self.relays:
            if r.relay == relay:
                r.state, r.detail, r.expires = state, detail, None

    async def _keep_reservations(self) -> None:
        now = time.time()
        for relay, rsvp in list(self.reservations.items()):
            if not self.host.is_connected(relay):
                self._drop(relay, "idle", "the connection to the relay closed; reserving again")
            elif rsvp.expires - now < RENEW_MARGIN:
                self._drop(relay, "idle", "renewing")
        for cand in self._candidates():
            if len(self.reservations) >= self.max_relays:
                break
            if cand.relay in self.reservations or cand.relay == self.host.peer_id:
                continue
            if trio.current_time() < cand.retry_at:
                continue
            if self.budget is not None and not self.budget.take():
                self._clear_no_slot()
                cand.state = "no slot"
                cand.detail = f"the {self.budget.limit} relay slots we may hold together are all in use"
                self._notify()
                break
            try:
                rsvp = await reserve(self.host, cand.relay, cand.addrs)
            except P2PError as exc:  # RelayRefused, DialError, PeerTimeout
                if self.budget is not None:
                    self.budget.give()
                refused = getattr(exc, "status", None)
                not_a_relay = not refused and "not supported" in str(exc)
                cand.state = "refused" if refused else ("not a relay" if not_a_relay else "unreachable")
                cand.detail = "it does not offer circuit relay v2" if not_a_relay else str(exc)[:300]
                backoff = NOT_A_RELAY_BACKOFF if not_a_relay else RELAY_RETRY_BACKOFF
                cand.retry_at = trio.current_time() + backoff
                log.info("no slot on relay %s (retry in %.0f s): %s", cand.relay, backoff, exc)
                self._notify()
                continue
            self.reservations[cand.relay] = rsvp
            self.host.protect(cand.relay, RELAY_TAG)
            self._clear_no_slot()
            cand.state, cand.detail, cand.expires = "reserved", "", rsvp.expires
            log.info("reserved a slot on relay %s until %s", cand.relay, time.ctime(rsvp.expires))
            if self.leader is not None:  # our own mapping, for hole punching (the leader's is its own)
                self.observed = await observed_address(self.host, cand.relay) or self.observed
            self._notify()

    def _clear_no_slot(self) -> None:
        for r in self.relays:
            if r.state == "no slot":
                r.state, r.detail = "idle", ""

    def _candidates(self) -> list[RelayState]:
        """Relay candidates in the order to try: a follower first tries where its leader holds slots."""
        if self.leader is None:
            return list(self.relays)
        held = self.leader.reservations
        return sorted(self.relays, key=lambda r: r.relay not in held)

    # ------------------------------------------------------------------------------------ hooks

    def _is_our_relay(self, relay: str) -> bool:
        return relay in self.reservations or any(r.relay == relay for r in self.relays)

    def relay_addrs(self) -> list[str]:
        """Our addresses through our relays (without our ``/p2p/`` suffix), one per relay first."""
        firsts = [r.circuit_addrs()[0] for r in self.reservations.values() if r.relay_addrs]
        rest = [a for r in self.reservations.values() for a in r.circuit_addrs()[1:]]
        return firsts + rest

    def _advertise(self, base: list[str]) -> list[str]:
        if self.reachability == PUBLIC:
            return base
        direct = [a for a in base if not is_circuit(a)]
        out = self.relay_addrs() + direct
        return out[:MAX_ADVERTISED] if self.relay_addrs() else base

    async def _circuit_dial(self, peer: str, addr: str) -> None:
        await dial_via_relay(self.host, peer, addr)

    def _on_relayed(self, source: str, relay: str) -> None:
        log.info("relayed connection from %s via %s; trying to upgrade it to a direct one", source, relay)
        if self._nursery is not None:
            self._nursery.start_soon(self.puncher.initiate, source)

    def _punch_addrs(self) -> list[str]:
        port: int | None = None
        for text in self.host.bound_addrs():
            if "/tcp/" in text:
                port = int(text.rsplit("/tcp/", 1)[1].split("/", 1)[0])
                break
        base = [a for a in self.host.listen_addrs() if not is_circuit(a)]
        return direct_candidates(self.observed, base, port)

    # ------------------------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        """What ``metaspace status`` and the web page show (JSON-able)."""
        now = time.time()
        connections: dict[str, str] = {}
        for peer in self.host.connected_peers():
            kind = connection_kind(self.host, peer)
            if kind is not None:
                connections[peer] = kind
        return {
            "reachability": self.reachability,
            "reason": self.reason,
            "observed_addr": self.observed,
            "checked_at": self.checked_at,
            "verdicts": [asdict(v) for v in self.verdicts],
            "relays": [
                {
                    "relay": r.relay,
                    "state": r.state,
                    "detail": r.detail,
                    "expires_in_s": None if r.expires is None else max(0, int(r.expires - now)),
                }
                for r in self.relays
            ],
            "relay_addrs": [f"{a}/p2p/{self.host.peer_id}" for a in self.relay_addrs()],
            "hole_punches": [asdict(r) for r in list(self.puncher.results)[-8:]],
            "connections": connections,
            "stop": asdict(self.stop_server.stats),
        }


__all__ = ["MAX_RELAYS", "PRIVATE", "PUBLIC", "UNKNOWN", "NatService", "RelayBudget", "RelayState", "decide"]
