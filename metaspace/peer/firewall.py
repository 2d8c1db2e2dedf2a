"""The privacy firewall, incoming side (spec 6.1 ``filter_incoming``): blocked peers are dropped first.

Theory of operation
-------------------
Every message another agent sends us — an INTENT_MATCH notice, a negotiation, a rating or a
TRUST_VERIFICATION — passes :meth:`Firewall.admit` before its first byte is read: the stream's peer id
(authenticated by the Noise handshake) is looked up in the block list, and a blocked peer's stream is
reset at once (no decoding, no signature check, no database row, no notification). The agent's own
watcher drops records of blocked authors before they are ranked, and our agent never opens a
negotiation with a blocked peer. (The DHT itself is not filtered: storing and serving records for the
network is not talking to a peer.)

* The human blocks and unblocks peers by id (``metaspace block PEER`` / ``unblock``); such a block lasts
  until lifted.
* A peer that *floods* is blocked automatically for ``auto_block_s`` (0 disables it): more than
  ``max_notices`` INTENT_MATCH notices, ``max_openings`` negotiation openings or ``max_trust`` trust
  messages within ``window_s``, or more than ``max_refused`` openings that the negotiation admission
  control (``negotiation.admission``) refused in that window — a peer that keeps opening sessions we
  keep refusing. The human is told once per block (a ``peer_blocked`` event), not per dropped message.

Blocks are kept in the agent's trust database (they survive a restart); the flood counters live in
memory and are bounded (at most ``max_tracked`` peers, each at most its cap of timestamps).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from libp2p.abc import INetStream

from metaspace.api.contract import BadRequest, NotFound
from metaspace.peer.trustdb import TrustDB
from p2p.host import P2PError, stream_peer_id
from p2p.streams import reset_stream
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import pubkey_from_text, pubkey_to_text

log = logging.getLogger(__name__)

#: The kinds of incoming messages counted (each with its own cap).
KINDS = ("match", "negotiation", "trust", "refused")
MANUAL = "manual"
#: Automatic blocks kept at once (many identities flooding at once can't grow the list without bound).
MAX_AUTO_BLOCKS = 10_000


class Emitter(Protocol):
    def emit(self, event: dict[str, Any], now: float) -> dict[str, Any]: ...


class Dropped(P2PError):
    """A blocked peer's message, dropped unread (logged at debug level, like a network failure)."""


@dataclass(frozen=True)
class FirewallLimits:
    """Flood thresholds per peer within ``window_s``, and how long an automatic block lasts.

    Attributes:
        window_s: the counting window.
        max_notices: INTENT_MATCH notices (an honest agent sends one per match it finds).
        max_openings: negotiation openings.
        max_trust: ratings pushed and TRUST_VERIFICATION requests.
        max_refused: openings the admission control refused (too many at once, too soon again).
        auto_block_s: how long a flooding peer stays blocked (0: never block automatically).
        max_tracked: peers whose counters are kept (least recently seen forgotten first).
    """

    window_s: float = 600.0
    max_notices: int = 60
    max_openings: int = 30
    max_trust: int = 60
    max_refused: int = 10
    auto_block_s: float = 3600.0
    max_tracked: int = 4096

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.auto_block_s < 0:
            raise ValueError("window_s must be positive and auto_block_s >= 0")
        if min(self.max_notices, self.max_openings, self.max_trust, self.max_refused, self.max_tracked) < 1:
            raise ValueError("flood thresholds must be >= 1")

    def cap(self, kind: str) -> int:
        return {"match": self.max_notices, "negotiation": self.max_openings, "trust": self.max_trust,
                "refused": self.max_refused}[kind]  # fmt: skip


def check_peer(text: object) -> str:
    """A peer id as the human typed it (``12D3KooW...``).

    Raises:
        BadRequest: not an agent's peer id.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("give the agent's peer id (12D3KooW..., shown by `metaspace matches` and `deals`)")
    try:
        pubkey_from_text(text.strip())
    except (LocalProtocolError, RemoteProtocolError, ValueError):
        raise BadRequest(
            f"{text.strip()[:60]!r} is not an agent's peer id (12D3KooW..., shown by `metaspace matches`)"
        ) from None
    return text.strip()


class Firewall:
    """The block list and the flood meter (see the module docstring).

    Args:
        db: where blocks are kept.
        bus: where the human is told about automatic blocks.
        now: the clock.
        limits: the flood thresholds.
        me: our own peer id (we never block ourselves).
    """

    def __init__(
        self,
        db: TrustDB,
        bus: Emitter,
        now: Callable[[], float],
        limits: FirewallLimits | None = None,
        me: str = "",
    ) -> None:
        self.db = db
        self.bus = bus
        self.now = now
        self.limits = limits or FirewallLimits()
        self.me = me
        self._blocked: dict[str, tuple[str, float | None]] = {
            b.peer: (b.reason, b.until) for b in db.blocks()
        }
        self._seen: OrderedDict[str, dict[str, deque[float]]] = OrderedDict()
        self.stats = {"dropped": 0, "auto_blocks": 0, **{f"dropped_{k}": 0 for k in KINDS}}

    # ------------------------------------------------------------------------------- the one check

    def blocked(self, peer: str) -> bool:
        """Is ``peer`` (a peer id) blocked now? An expired automatic block is lifted here."""
        entry = self._blocked.get(peer)
        if entry is None:
            return False
        until = entry[1]
        if until is not None and self.now() >= until:
            del self._blocked[peer]
            self.db.unblock(peer)
            return False
        return True

    def blocked_key(self, pubkey: bytes) -> bool:
        """:meth:`blocked` for a public key (a record's author); nothing blocked costs no encoding."""
        return bool(self._blocked) and self.blocked(pubkey_to_text(pubkey))

    def admit(self, peer: str, kind: str) -> bool:
        """The one place every incoming message is checked before any work is done on it.

        Args:
            peer: the stream's authenticated peer id.
            kind: ``match``, ``negotiation`` or ``trust``.

        Returns:
            False to drop it unread (blocked, or this message made the peer a flooder); True to go on.
        """
        if self.blocked(peer):
            self._dropped(kind)
            return False
        if self._count(peer, kind):
            self._dropped(kind)
            return False
        return True

    def note_refused(self, peer: str) -> None:
        """The admission control refused a session ``peer`` opened (counts towards a flood)."""
        if not self.blocked(peer):
            self._count(peer, "refused")

    def _dropped(self, kind: str) -> None:
        self.stats["dropped"] += 1
        self.stats[f"dropped_{kind}"] += 1

    def _count(self, peer: str, kind: str) -> bool:
        """Count one message; True if it makes ``peer`` a flooder (who is then blocked)."""
        lim = self.limits
        now = self.now()
        counters = self._seen.pop(peer, None) or {}
        self._seen[peer] = counters
        while len(self._seen) > lim.max_tracked:
            self._seen.popitem(last=False)
        times = counters.setdefault(kind, deque())
        while times and now - times[0] >= lim.window_s:
            times.popleft()
        times.append(now)
        if len(times) <= lim.cap(kind) or lim.auto_block_s <= 0 or peer == self.me:
            return False
        self._auto_block(peer, kind, now)
        return True

    def _forget_expired(self, now: float) -> None:
        """Drop automatic blocks that ran out (kept at most MAX_AUTO_BLOCKS: the oldest go first)."""
        auto = [(until, peer) for peer, (_r, until) in self._blocked.items() if until is not None]
        for until, peer in sorted(auto):
            if until > now and len(auto) <= MAX_AUTO_BLOCKS:
                break
            del self._blocked[peer]
            self.db.unblock(peer)
            auto.remove((until, peer))

    def _auto_block(self, peer: str, kind: str, now: float) -> None:
        reason = (
            "flood_matches" if kind == "match" else "flood_trust" if kind == "trust" else "flood_negotiations"
        )
        until = now + self.limits.auto_block_s
        self._blocked[peer] = (reason, until)
        if len(self._blocked) > MAX_AUTO_BLOCKS:
            self._forget_expired(now)
        self._seen.pop(peer, None)
        self.db.block(peer, reason, until, now)
        self.stats["auto_blocks"] += 1
        log.warning("peer %s blocked until %.0f: %s", peer, until, reason)
        self.bus.emit({"kind": "peer_blocked", "peer": peer, "reason": reason, "until": until}, now)

    # --------------------------------------------------------------------------------------- gates

    def gate_rpc(
        self, kind: str, handler: Callable[[str, bytes], Awaitable[bytes]]
    ) -> Callable[[str, bytes], Awaitable[bytes]]:
        """``handler`` (a ``p2p.framing.serve_rpc`` handler) behind :meth:`admit`."""

        async def gated(peer_id: str, request: bytes) -> bytes:
            if not self.admit(peer_id, kind):
                raise Dropped(f"{kind} from blocked peer {peer_id} dropped")
            return await handler(peer_id, request)

        return gated

    def gate_stream(
        self, kind: str, handler: Callable[[INetStream], Awaitable[None]]
    ) -> Callable[[INetStream], Awaitable[None]]:
        """``handler`` (a host stream handler) behind :meth:`admit`: a blocked peer's stream is reset."""

        async def gated(stream: INetStream) -> None:
            if not self.admit(stream_peer_id(stream), kind):
                await reset_stream(stream)
                return
            await handler(stream)

        return gated

    # ------------------------------------------------------------------------- the human's commands

    def block(self, peer: str, reason: str = MANUAL) -> dict[str, Any]:
        """Block ``peer`` until unblocked (``metaspace block PEER``).

        Raises:
            BadRequest: not a peer id, or our own.
        """
        peer = check_peer(peer)
        if peer == self.me:
            raise BadRequest("that is this agent's own id")
        now = self.now()
        self._blocked[peer] = (reason, None)
        self.db.block(peer, reason, None, now)
        return {"peer": peer, "blocked": True, "reason": reason, "until": None}

    def unblock(self, peer: str) -> dict[str, Any]:
        """Lift a block (``metaspace unblock PEER``).

        Raises:
            BadRequest: not a peer id. NotFound: it was not blocked.
        """
        peer = check_peer(peer)
        known = self._blocked.pop(peer, None) is not None
        if not self.db.unblock(peer) and not known:
            raise NotFound(f"{peer} is not blocked")
        self._seen.pop(peer, None)
        return {"peer": peer, "blocked": False}

    def list(self) -> list[dict[str, Any]]:
        """Blocked peers now (expired automatic blocks are lifted first)."""
        out = []
        for peer in list(self._blocked):
            if self.blocked(peer):
                reason, until = self._blocked[peer]
                out.append({"peer": peer, "reason": reason, "until": until})
        return out

    def statistics(self) -> dict[str, Any]:
        return {**self.stats, "blocked": len(self._blocked), "tracked": len(self._seen)}
