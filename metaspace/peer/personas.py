"""Personas: ``share: nothing`` enforced — each intent with a key and an address of its own.

Theory of operation
-------------------
A human who shares nothing must not be profiled from the network: anyone can read every intent in the
DHT, so intents signed by one key (the agent's, which is also its DHT node's peer id) tell who wants
what, where, and when. Instead each such intent gets a **persona**:

* its key is derived from the agent's identity and the intent id
  (``HMAC-SHA256(identity seed, "metaspace/v1/persona/" || intent id)``: the agent re-derives it after a
  restart; nobody else can link it to the agent or to another persona);
* it runs a libp2p host of its own (same interface as the agent's, its own port), the only place where
  that intent takes INTENT_MATCH notices and negotiation streams; the intent's ``contact`` names it;
* everything about the intent is signed by the persona: the record, the notices it sends, and its
  negotiations (so the co-signed agreement names the persona's key too).

The agent's own host never answers for a persona's intent (and a persona's host for nothing else), so
asking one address about another's intent learns nothing. The DHT traffic (PUT, GET) still goes through
the agent's DHT node: the few nodes that store the record see which node put it. That — and the shared
IP address — is traffic analysis, outside the threat model (see DESIGN.md); readers of the DHT, and
counterparties of other intents, can't link them.

A persona host lives while its intent is live or a negotiation on it runs (``MAX_PERSONAS`` at once);
each costs about 10 ms to start and 70 KiB (measured: 10 hosts on loopback).

**Behind a NAT** a persona must be reachable the way the agent is, or nobody can announce a match to
it: each persona host runs a :class:`p2p.nat.NatService` that *follows* the agent's (``reach``, set by
the daemon): it takes the agent's AutoNAT verdict (no probing per persona), reserves one slot on a relay
the agent holds a slot on (then the agent's other candidates), advertises its relay address first (in
its intent's ``contact`` and its INTENT_MATCH ``addrs``), accepts relayed connections and hole-punches
(DCUtR) like the agent. Starting a persona waits up to ``RELAY_WAIT_S`` for that slot, so the contact
it publishes is reachable. The personas of one agent hold at most ``MAX_PERSONA_RELAY_SLOTS`` slots
together (a relay caps the slots per IP address: ``metaspace bootstrap --relay-max-reservations-per-ip``,
16 by default, i.e. the agent's own slot and its personas' for two agents behind one home address);
beyond that a persona has no relay address: its intent is still published and its host still reaches
out (it announces its own matches), but a counterpart can't call it back, and ``metaspace status``
says so ("no slot"). A slot ends with its persona's host. Privacy: the relay sees that those
personas come from the agent's IP address (as the DHT nodes do, see above).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import trio

from p2p.connmgr import ConnLimits
from p2p.host import P2PError, P2PHost, open_host
from wire.identity import Identity

log = logging.getLogger(__name__)

PERSONA_DOMAIN = b"metaspace/v1/persona/"
#: Persona hosts at once (live share-nothing intents): each is a TCP listener.
MAX_PERSONAS = 64
#: A persona host takes few connections: the counterparts of one intent.
PERSONA_LIMITS = ConnLimits(max_inbound=64, low_water=16, high_water=48)
#: Starting one persona host (bind, listen).
START_TIMEOUT_S = 10.0
#: Behind a NAT: how long starting a persona waits for its relay slot (its contact names the relay).
RELAY_WAIT_S = 10.0
#: Relay slots the personas of one agent hold together (each persona holds at most one).
MAX_PERSONA_RELAY_SLOTS = 6


def persona_identity(identity: Identity, intent_id: bytes) -> Identity:
    """The key of the persona that publishes ``intent_id`` (deterministic, unlinkable without the seed)."""
    return Identity(hmac.new(identity.seed, PERSONA_DOMAIN + intent_id, hashlib.sha256).digest())


def persona_listen(agent_listen: str) -> str:
    """Where a persona listens: the agent's listen address with an ephemeral port."""
    head, sep, _port = agent_listen.rpartition("/tcp/")
    return f"{head}{sep}0" if sep else agent_listen


#: ``(identity, listen addrs) -> async context manager yielding a running host`` (tests: memory hosts).
HostOpener = Callable[[Identity, Sequence[str]], AbstractAsyncContextManager[Any]]


class Reachability(Protocol):
    """What makes one persona host reachable behind a NAT (:class:`p2p.nat.NatService`, following the
    agent's)."""

    async def run(self, *, task_status: Any = ...) -> None: ...

    async def wait_settled(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


#: ``host -> its reachability service`` (the daemon: a NatService following the agent's).
ReachFactory = Callable[[P2PHost], Reachability]


def open_persona_host(identity: Identity, listen: Sequence[str]) -> AbstractAsyncContextManager[P2PHost]:
    """A real libp2p host for a persona (Noise, yamux, ``PERSONA_LIMITS``)."""
    return open_host(identity, listen, limits=PERSONA_LIMITS)


class TooManyPersonas(P2PError):
    """``MAX_PERSONAS`` persona hosts run already."""


class Personas:
    """The persona hosts of one agent (see the module docstring).

    Args:
        identity: the agent's identity (personas' keys are derived from it).
        listen: where persona hosts listen (port 0).
        serve: called with each new persona host and its intent id, to set its protocol handlers (the
            agent sets it).
        max_personas: the most persona hosts at once.
        opener: starts one host (default: a libp2p host, :func:`open_persona_host`).
    """

    def __init__(
        self,
        identity: Identity,
        listen: Sequence[str],
        *,
        max_personas: int = MAX_PERSONAS,
        opener: HostOpener = open_persona_host,
    ) -> None:
        self.identity = identity
        self.listen = list(listen)
        self.serve: Callable[[P2PHost, bytes], None] = lambda host, intent_id: None
        self.reach: ReachFactory | None = None
        self._reach: dict[bytes, Reachability] = {}
        self.max_personas = max_personas
        self.opener = opener
        self._hosts: dict[bytes, tuple[P2PHost, trio.Event]] = {}
        self._starting: dict[bytes, trio.Event] = {}
        self._nursery: trio.Nursery | None = None

    def __len__(self) -> int:
        return len(self._hosts)

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Own the persona hosts until cancelled (then every one of them stops)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def identity_for(self, intent_id: bytes) -> Identity:
        return persona_identity(self.identity, intent_id)

    def host(self, intent_id: bytes) -> P2PHost | None:
        entry = self._hosts.get(intent_id)
        return None if entry is None else entry[0]

    def intent_ids(self) -> list[bytes]:
        return list(self._hosts)

    async def ensure(self, intent_id: bytes, prefer: Sequence[str] = ()) -> P2PHost:
        """The running host of ``intent_id``'s persona, started if needed.

        Args:
            intent_id: the intent.
            prefer: addresses it had before (its intent's ``contact``): after a restart the persona
                listens on the same port again if it is free, so its published contact stays right.

        Raises:
            TooManyPersonas: ``max_personas`` run already.
            P2PError: not running, or the host could not start (e.g. no port could be bound).
        """
        while True:
            entry = self._hosts.get(intent_id)
            if entry is not None:
                return entry[0]
            starting = self._starting.get(intent_id)
            if starting is None:
                break
            await starting.wait()
        if self._nursery is None:
            raise P2PError("personas are not running")
        if len(self._hosts) + len(self._starting) >= self.max_personas:
            raise TooManyPersonas(f"{self.max_personas} private intents are live already; withdraw one first")
        self._starting[intent_id] = done = trio.Event()
        try:
            with trio.fail_after(START_TIMEOUT_S + RELAY_WAIT_S):
                for listen in (self._same_ports(prefer), self.listen):
                    if not listen:
                        continue
                    try:
                        host: P2PHost = await self._nursery.start(self._run_one, intent_id, listen)
                        return host
                    except P2PError as exc:
                        if listen is self.listen:
                            raise
                        log.info("persona port taken (%s); listening on a new one", exc)
                raise P2PError("personas have no listen address")
        except trio.TooSlowError:
            raise P2PError("the intent's own host did not start in time") from None
        finally:
            del self._starting[intent_id]
            done.set()

    def _same_ports(self, prefer: Sequence[str]) -> list[str]:
        """Our listen addresses with the ports of ``prefer`` (only when they are as many, one for one)."""
        ports = [a.rpartition("/tcp/")[2] for a in prefer]
        if not prefer or len(ports) != len(self.listen) or not all(p.isdigit() for p in ports):
            return []
        return [
            f"{listen.rpartition('/tcp/')[0]}/tcp/{port}"
            for listen, port in zip(self.listen, ports, strict=True)
            if "/tcp/" in listen
        ]

    async def _run_one(
        self, intent_id: bytes, listen: list[str], *, task_status: Any = trio.TASK_STATUS_IGNORED
    ) -> None:
        stop = trio.Event()
        ident = self.identity_for(intent_id)
        reach: Reachability | None = None
        try:
            async with self.opener(ident, listen) as host, trio.open_nursery() as nursery:
                if self.reach is not None:
                    reach = self.reach(host)
                    await nursery.start(reach.run)
                    with trio.move_on_after(RELAY_WAIT_S):
                        await reach.wait_settled()  # behind a NAT: the relay slot the contact names
                    self._reach[intent_id] = reach
                self.serve(host, intent_id)
                self._hosts[intent_id] = (host, stop)
                task_status.started(host)
                await stop.wait()
                nursery.cancel_scope.cancel()  # the reachability service ends (its slot with the host)
        finally:
            entry = self._hosts.get(intent_id)
            if entry is not None and entry[1] is stop:
                del self._hosts[intent_id]
            if reach is not None and self._reach.get(intent_id) is reach:
                del self._reach[intent_id]

    def network(self) -> list[dict[str, Any]]:
        """Each persona host's reachability, relay slot, connections and hole punches (for the agent's
        ``status``: local only; it links the personas to the agent)."""
        out = []
        for intent_id, (host, _stop) in list(self._hosts.items()):
            reach = self._reach.get(intent_id)
            doc = {"intent_id": intent_id.hex(), "peer_id": host.peer_id, "addrs": host.listen_addrs()}
            out.append(doc | ({} if reach is None else reach.status()))
        return out

    def stop(self, intent_id: bytes) -> bool:
        """Stop one persona host (its connections close); True if it ran."""
        entry = self._hosts.pop(intent_id, None)
        if entry is None:
            return False
        entry[1].set()  # its task closes the host
        return True
