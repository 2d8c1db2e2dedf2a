"""In-process helpers: shuttle messages between two sessions (aioquic's ``roundtrip_until_done``).

Used by tests, the simulator's tournament and the benchmark. No I/O: time is a number advanced by
``step`` per delivered message, and jumps to the next timer when nothing is in flight.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from negotiation.guardian import Guardian
from negotiation.margin import MAX_MARGIN, MIN_MARGIN, DigestRng
from negotiation.session import Position, Session
from negotiation.strategy import Strategy, make_strategy
from negotiation.types import (
    DEFAULT_DURATION_S,
    DEFAULT_MAX_ROUNDS,
    Agreed,
    Failed,
    NeedsApproval,
    Output,
    Role,
    Send,
)
from wire.identity import Identity
from wire.messages import Terms

#: tamper(index, sender, data) -> bytes to deliver, or None to drop the message.
Tamper = Callable[[int, Session, bytes], bytes | None]
#: approver(session, request) -> True (approve), False (decline) or None (leave it pending).
Approver = Callable[[Session, NeedsApproval], bool | None]


@dataclass
class PairResult:
    """What happened: every output of each side, the final time, and messages delivered."""

    outputs: dict[int, list[Output]] = field(default_factory=lambda: {0: [], 1: []})
    now: float = 0.0
    messages: int = 0

    def agreed(self, side: int) -> Agreed | None:
        return next((o for o in self.outputs[side] if isinstance(o, Agreed)), None)

    def failed(self, side: int) -> Failed | None:
        return next((o for o in self.outputs[side] if isinstance(o, Failed)), None)


def run_pair(
    a: Session,
    b: Session,
    *,
    now: float = 0.0,
    step: float = 0.01,
    max_steps: int = 10_000,
    tamper: Tamper | None = None,
    approver: Approver | None = None,
) -> PairResult:
    """Run two sessions against each other until both have ended (or nothing can happen any more).

    Args:
        a: one session (e.g. the seller's); its queued outputs (a START) are delivered first.
        b: the other session.
        now: the starting time.
        step: time each delivered message takes.
        max_steps: a bound on deliveries plus timer firings.
        tamper: optional hook to alter or drop messages in flight.
        approver: optional hook answering NeedsApproval (default: leave pending until the deadline).

    Returns:
        The outputs of both sides (index 0 = ``a``, 1 = ``b``).
    """
    sessions = (a, b)
    result = PairResult(now=now)
    flight: deque[tuple[int, bytes]] = deque()
    sent = 0
    for _ in range(max_steps):
        for side, s in enumerate(sessions):
            outs = s.poll()
            while outs:
                for o in outs:
                    result.outputs[side].append(o)
                    if isinstance(o, Send):
                        data: bytes | None = o.data
                        if tamper is not None:
                            data = tamper(sent, s, o.data)
                        sent += 1
                        if data is not None:
                            flight.append((1 - side, data))
                    elif isinstance(o, NeedsApproval) and approver is not None:
                        verdict = approver(s, o)
                        if verdict is True:
                            s.approve(result.now)
                        elif verdict is False:
                            s.decline(result.now)
                outs = s.poll()
        if flight:
            target, data = flight.popleft()
            result.now += step
            result.messages += 1
            sessions[target].handle_message(data, result.now)
            continue
        timers = [t for t in (a.next_timer(), b.next_timer()) if t is not None]
        if not timers:
            break
        result.now = max(result.now, min(timers))
        for s in sessions:
            t = s.next_timer()
            if t is not None and result.now >= t:
                s.handle_timer(result.now)
    return result


@dataclass
class Pair:
    """Two sessions built by :func:`make_pair`; ``first`` is the initiator."""

    seller: Session
    buyer: Session
    seller_identity: Identity
    buyer_identity: Identity

    @property
    def first(self) -> Session:
        return self.seller if self.seller.initiator else self.buyer

    @property
    def second(self) -> Session:
        return self.buyer if self.seller.initiator else self.seller

    def run(self, **kwargs: Any) -> PairResult:
        """:func:`run_pair` with the initiator first (side 0 of the result), from the creation time."""
        kwargs.setdefault("now", self.first.created)
        return run_pair(self.first, self.second, **kwargs)


def make_pair(
    *,
    seller_reservation: int = 5500,
    buyer_reservation: int = 7500,
    seller_opening: int = 8000,
    buyer_opening: int = 5000,
    seller_strategy: Strategy | None = None,
    buyer_strategy: Strategy | None = None,
    seller_guardian: Guardian | None = None,
    buyer_guardian: Guardian | None = None,
    seller_initiates: bool = True,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    quantity: int = 4,
    currency: str = "USD",
    now: float = 1_000_000.0,
    duration: float = DEFAULT_DURATION_S,
    seed: int = 1,
    margin_range: tuple[float, float] = (MIN_MARGIN, MAX_MARGIN),
    horizon: int | None = None,
) -> Pair:
    """Two matched sessions (the tire example by default: seller >= $55, buyer <= $75, 4 tires — a zone wide
    enough for both private margins).

    Identities, intent ids, the session id and each side's private margin (drawn from
    ``margin_range``) derive from ``seed``; the initiator's START is queued. ``max_rounds`` is both
    sides' horizon and the initiator's cap, unless ``horizon`` gives the responder another horizon.
    """
    seller_id = Identity(hashlib.sha256(b"seller%d" % seed).digest())
    buyer_id = Identity(hashlib.sha256(b"buyer%d" % seed).digest())
    sid = hashlib.sha256(b"session%d" % seed).digest()[:16]
    s_intent = hashlib.sha256(b"seller-intent%d" % seed).digest()[:16]
    b_intent = hashlib.sha256(b"buyer-intent%d" % seed).digest()[:16]
    terms = Terms(price_minor=0, currency=currency, quantity=quantity)
    common: dict[str, Any] = {"terms": terms, "now": now, "duration": duration, "margin_range": margin_range}
    own = horizon if horizon is not None else max_rounds
    seller = Session(
        seller_id,
        Role.SELLER,
        peer=buyer_id.pubkey,
        my_intent=s_intent,
        peer_intent=b_intent if seller_initiates else None,
        position=Position(seller_reservation, seller_opening),
        strategy=seller_strategy or make_strategy("linear"),
        guardian=seller_guardian,
        initiator=seller_initiates,
        rng=DigestRng(b"seller-margin%d" % seed),
        session_id=sid if seller_initiates else None,
        max_rounds=max_rounds if seller_initiates else own,
        **common,
    )
    buyer = Session(
        buyer_id,
        Role.BUYER,
        peer=seller_id.pubkey,
        my_intent=b_intent,
        peer_intent=None if seller_initiates else s_intent,
        position=Position(buyer_reservation, buyer_opening),
        strategy=buyer_strategy or make_strategy("linear"),
        guardian=buyer_guardian,
        initiator=not seller_initiates,
        rng=DigestRng(b"buyer-margin%d" % seed),
        session_id=None if seller_initiates else sid,
        max_rounds=own if seller_initiates else max_rounds,
        **common,
    )
    return Pair(seller, buyer, seller_id, buyer_id)
