"""INTENT_MATCH notices: the checks a notice from another agent passes before the agent keeps anything.

Theory of operation
-------------------
An INTENT_MATCH says "my intent matches yours" and carries the sender's signed intent record. It costs
the receiver an embedding (its own index re-ranks the match) and, if believed, a row in its database, so
:class:`NoticeGate` is asked in two steps:

1. :meth:`NoticeGate.allow` — before any byte is decoded: a token bucket per peer (the stream's peer id,
   authenticated by Noise) and one for all peers together (free identities can't multiply the work).
2. :meth:`NoticeGate.check` — the whole notice is verified: the envelope's signature, its signer is the
   stream's peer, it was sent within ``NOTICE_MAX_AGE_S`` of our clock (a replayed notice is refused),
   the record is the signer's own intent, created not in the future, live, and on the other side
   (demand vs supply) of one of our live intents. Only then may the caller hold the record and rank it.

What the sender says about the match (its score) is never believed: the receiver ranks for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from p2p.ratelimit import RateLimiter
from wire.envelope import open_envelope, open_intent
from wire.errors import RemoteProtocolError
from wire.identity import pubkey_to_text
from wire.intent import Intent
from wire.limits import MAX_CLOCK_SKEW_S
from wire.messages import IntentMatch

#: Notices taken from one peer (per second sustained, and at once), and from all peers together (each
#: costs an embedding): an honest agent sends one per match it finds.
NOTICE_RATE_PER_PEER = 0.2
NOTICE_BURST_PER_PEER = 10.0
NOTICE_RATE_ALL = 5.0
NOTICE_BURST_ALL = 50.0
#: A notice whose ``sent`` time is further than this from our clock is refused (a replayed notice).
NOTICE_MAX_AGE_S = 600
#: The rate limiter's key for "all peers together".
_ALL_PEERS = "*"


@dataclass(frozen=True)
class CheckedNotice:
    """A verified notice: our live intent it names, the sender's live intent, and its signed record."""

    mine: Intent
    other: Intent
    record: bytes
    addrs: list[str] | None = None  # where the sender says it can be reached (relays behind a NAT)


class NoticeGate:
    """Rate limits and checks for INTENT_MATCH notices (see the module docstring)."""

    def __init__(self) -> None:
        self.per_peer = RateLimiter(rate=NOTICE_RATE_PER_PEER, burst=NOTICE_BURST_PER_PEER)
        # everybody together is never "banned": the bucket alone bounds the work
        self.all_peers = RateLimiter(rate=NOTICE_RATE_ALL, burst=NOTICE_BURST_ALL, ban_strikes=2**62)

    def allow(self, peer_id: str, now: float) -> bool:
        """Take a token for ``peer_id`` and one for all peers; False if either is exhausted."""
        if not self.per_peer.allow(peer_id, now):
            return False
        return self.all_peers.allow(_ALL_PEERS, now)

    def check(
        self, peer_id: str, data: bytes, now: float, own_intent: Callable[[bytes], Intent | None]
    ) -> CheckedNotice | None:
        """Verify a notice completely.

        Args:
            peer_id: the stream's (authenticated) peer.
            data: the notice's bytes.
            now: Unix time.
            own_intent: looks up one of our intents by id.

        Returns:
            The checked notice, or None if it names none of our live intents (or its own intent is no
            longer live): nothing to do, nothing wrong.

        Raises:
            RemoteProtocolError: malformed, badly signed, not from the stream's peer, not the sender's own
                intent, replayed (sent too long ago or in the future), or not the inverse of our intent.
        """
        env = open_envelope(data)
        notice = env.message
        if not isinstance(notice, IntentMatch) or pubkey_to_text(env.author) != peer_id:
            raise RemoteProtocolError("not an INTENT_MATCH from the stream's peer")
        if abs(notice.sent - now) > NOTICE_MAX_AGE_S:
            raise RemoteProtocolError("an INTENT_MATCH sent too long ago (or in the future)")
        _renv, other = open_intent(notice.record)
        if other.author != env.author or other.id != notice.my_intent:
            raise RemoteProtocolError("the notice's record is not the sender's intent")
        if other.created > now + MAX_CLOCK_SKEW_S:
            raise RemoteProtocolError("the notice's intent was created in the future")
        mine = own_intent(notice.your_intent)
        if mine is None or not mine.is_live(now) or not other.is_live(now):
            return None
        if other.action.demand == mine.action.demand:
            raise RemoteProtocolError("the notice's intent is on our side (not a counterpart of ours)")
        return CheckedNotice(mine, other, notice.record, notice.addrs)

    def statistics(self) -> dict[str, int]:
        return {
            "refused_per_peer": self.per_peer.refused,
            "refused_all_peers": self.all_peers.refused,
            "banned_peers": self.per_peer.statistics()["banned_now"],
        }
