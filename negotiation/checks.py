"""Argument and NEGOTIATION_START checks of :class:`negotiation.session.Session` (kept out of the state
machine so that it reads as transitions only).

``check_args`` raises :class:`~wire.errors.LocalProtocolError` for a session our own code built wrong;
``start_problem`` names what is wrong with a peer's NEGOTIATION_START (the session then ends with
``FailReason.BAD_START``). ``peek_start`` lets a driver read a first message before any session exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from negotiation.margin import MARGIN_CAP
from negotiation.table import next_state
from negotiation.types import (
    AGREEMENT_CLOCK_SKEW_S,
    CONFIRM_GRACE_S,
    MAX_AGREEMENT_TTL_S,
    MAX_DURATION_S,
    MAX_SESSION_ROUNDS,
    FailReason,
    Input,
    Role,
)
from wire.envelope import Envelope, open_envelope
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import INTENT_ID_LEN
from wire.limits import MAX_AMOUNT_MINOR
from wire.messages import SESSION_ID_LEN, Agreement, NegotiationStart, Terms

if TYPE_CHECKING:
    from negotiation.session import Session


def peek_start(data: bytes) -> tuple[bytes, NegotiationStart]:
    """Verify a first message and return its signer and NEGOTIATION_START (to pick the local intent).

    Args:
        data: the first envelope received on a negotiation stream.

    Returns:
        ``(author_pubkey, start)``.

    Raises:
        RemoteProtocolError: not a validly signed NEGOTIATION_START.
    """
    env = open_envelope(data)
    if not isinstance(env.message, NegotiationStart):
        raise RemoteProtocolError("the first negotiation message must be NEGOTIATION_START")
    return env.author, env.message


def same_fixed_terms(a: Terms, b: Terms) -> bool:
    """True if two terms differ at most in price (currency, quantity and pickup window are fixed)."""
    return (a.currency, a.quantity, a.pickup_start, a.pickup_end) == (
        b.currency,
        b.quantity,
        b.pickup_start,
        b.pickup_end,
    )


def check_args(s: Session, duration: float) -> None:
    """Check a session's constructor arguments.

    Args:
        s: the session being built (its attributes are set).
        duration: the duration it was given.

    Raises:
        LocalProtocolError: inconsistent arguments.
    """
    if len(s.peer) != 32 or len(s.my_intent) != INTENT_ID_LEN:
        raise LocalProtocolError("peer must be a 32-byte key and my_intent a 16-byte id")
    if s.peer_intent is not None and len(s.peer_intent) != INTENT_ID_LEN:
        raise LocalProtocolError("peer_intent must be a 16-byte id")
    if s.initiator and (s.session_id is None or s.peer_intent is None):
        raise LocalProtocolError("the initiator needs a session id and the peer's intent id")
    if s.session_id is not None and len(s.session_id) != SESSION_ID_LEN:
        raise LocalProtocolError(f"a session id has {SESSION_ID_LEN} bytes")
    if not 1 <= s.max_rounds <= MAX_SESSION_ROUNDS:
        raise LocalProtocolError(f"max_rounds must be in [1, {MAX_SESSION_ROUNDS}]")
    if not 0 < duration <= MAX_DURATION_S:
        raise LocalProtocolError(f"duration must be in (0, {MAX_DURATION_S}] seconds")
    if not 0 < s.agreement_ttl <= MAX_AGREEMENT_TTL_S:
        raise LocalProtocolError("agreement_ttl out of range")
    if not 0 <= s.spare_rounds < MAX_SESSION_ROUNDS:
        raise LocalProtocolError("spare_rounds out of range")
    if not 0.0 <= s.margin <= MARGIN_CAP:
        raise LocalProtocolError(f"the private margin must be in [0, {MARGIN_CAP}]")
    res, opening = s.position.reservation, s.position.opening
    if not (0 <= res <= MAX_AMOUNT_MINOR and 0 <= opening <= MAX_AMOUNT_MINOR):
        raise LocalProtocolError("prices out of range")
    if (opening < res) if s.role is Role.SELLER else (opening > res):
        raise LocalProtocolError("the opening price must be on the good side of the reservation")


def start_problem(s: Session, start: NegotiationStart, now: float) -> str:
    """What makes a peer's NEGOTIATION_START unacceptable to responder ``s`` ("" if nothing).

    The START's round cap may be at most our own (``s.horizon``); its deadline must lie in the future
    and within the protocol's bound (the session then shortens it to its own duration).

    Args:
        s: the responder session, still in WAIT_START.
        start: the peer's START.
        now: current time.

    Returns:
        A short description of the first problem found, or "".
    """
    seller_side = s.role is Role.SELLER
    ours, theirs = (start.seller, start.buyer) if seller_side else (start.buyer, start.seller)
    my_intent = start.seller_intent if seller_side else start.buyer_intent
    their_intent = start.buyer_intent if seller_side else start.seller_intent
    t = start.terms
    if ours != s.identity.pubkey or theirs != s.peer:
        return "keys do not match"
    if my_intent != s.my_intent or (s.peer_intent is not None and their_intent != s.peer_intent):
        return "intent ids do not match"
    if not 1 <= start.max_rounds <= min(s.horizon, MAX_SESSION_ROUNDS):
        return f"max_rounds {start.max_rounds} not accepted"
    if not now < start.deadline <= now + MAX_DURATION_S + AGREEMENT_CLOCK_SKEW_S:
        return "deadline out of range"
    if t.currency != s.template.currency or t.quantity > s.template.quantity:
        return "currency or quantity not acceptable"
    if t.pickup_start is not None and t.pickup_end is not None and t.pickup_start > t.pickup_end:
        return "pickup window inverted"
    return ""


def message_problem(
    s: Session, env: Envelope, event: Input | None, now: float
) -> tuple[FailReason, str, Input] | None:
    """What is wrong with a message for session ``s`` before its content is looked at, if anything.

    Checks, in order: a message type that is not a negotiation message, the session id, a stale
    (replayed) round, a round that skips ahead (a REJECT may skip), whether the state takes this input at
    all (``negotiation.table``), and the deadline (a CONFIRM gets ``CONFIRM_GRACE_S`` more; a REJECT is
    always taken).

    Args:
        s: the session.
        env: the opened envelope, signed by the expected peer.
        event: the input its message type maps to (None: not a negotiation message).
        now: current time.

    Returns:
        ``(reason, detail, input)`` to end the session with, or None.
    """
    if event is None:
        return FailReason.BAD_MESSAGE, f"{env.type.name} is not a negotiation message", Input.PROTOCOL_ERROR
    msg = env.message
    session, rnd = msg.session, msg.round  # type: ignore[attr-defined]
    if s.session_id is not None and session != s.session_id:
        return FailReason.WRONG_SESSION, "another session id", Input.PROTOCOL_ERROR
    if rnd <= s.round:
        return FailReason.STALE_ROUND, f"round {rnd} after {s.round}", Input.PROTOCOL_ERROR
    if event is not Input.RECV_REJECT and rnd != s.round + 1:
        return FailReason.BAD_ROUND, f"round {rnd} after {s.round}", Input.PROTOCOL_ERROR
    if next_state(s.state, event) is None:
        return FailReason.OUT_OF_TURN, f"{env.type.name} in {s.state}", Input.PROTOCOL_ERROR
    limit = s.deadline + (CONFIRM_GRACE_S if event is Input.RECV_CONFIRM else 0.0)
    if now > limit and event is not Input.RECV_REJECT:
        return FailReason.DEADLINE, "message after the deadline", Input.TIMEOUT
    return None


def agreement_fits(
    a: Agreement,
    session_id: bytes | None,
    parties: tuple[bytes, bytes, bytes, bytes],
    terms: Terms,
    now: float,
) -> bool:
    """True if a TRANSACTION_INIT's agreement is exactly the accepted deal, created about now.

    Args:
        a: the agreement received.
        session_id: our session id.
        parties: (buyer key, seller key, buyer intent, seller intent).
        terms: the accepted terms.
        now: current time.
    """
    return (
        a.session == session_id
        and (a.buyer, a.seller, a.buyer_intent, a.seller_intent) == parties
        and a.terms == terms
        and abs(a.created - now) <= AGREEMENT_CLOCK_SKEW_S
        and a.created < a.expires <= a.created + MAX_AGREEMENT_TTL_S
    )
