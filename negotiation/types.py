"""Names shared by the negotiation core: roles, states, inputs, failure reasons, outputs and bounds.

Everything a driver drains from :meth:`negotiation.session.Session.poll` is one of the frozen output
dataclasses below (``Checkpoint``, ``Send``, ``StateChanged``, ``NeedsApproval``, ``Agreed``, ``Failed``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wire.limits import MAX_ROUNDS
from wire.messages import Agreement, Terms

#: Default hard cap on offers in one session (rounds 0..max_rounds-1 carry offers).
DEFAULT_MAX_ROUNDS = 8
#: Largest cap a session accepts: after the last offer come ACCEPT, TRANSACTION_INIT and
#: TRANSACTION_CONFIRM, each one round later, and every round must fit the codec's MAX_ROUNDS bound.
MAX_SESSION_ROUNDS = MAX_ROUNDS - 2
#: Default time a session may last (seconds), and the longest deadline a peer's START may ask for.
DEFAULT_DURATION_S = 120.0
MAX_DURATION_S = 3600.0
#: After the deadline, the side that sent TRANSACTION_INIT still waits this long for the CONFIRM, so a
#: CONFIRM signed just before the deadline is not lost to transit time (both sides hold it, or neither).
CONFIRM_GRACE_S = 30.0
#: Default and largest validity of an agreement after it is signed (seconds).
DEFAULT_AGREEMENT_TTL_S = 7 * 24 * 3600
MAX_AGREEMENT_TTL_S = 30 * 24 * 3600
#: How far a peer's ``created`` stamp on an agreement may be from our clock (seconds).
AGREEMENT_CLOCK_SKEW_S = 600


class Role(enum.StrEnum):
    """Which side of the deal a session speaks for. Sellers want a high price, buyers a low one."""

    SELLER = "seller"
    BUYER = "buyer"

    @property
    def other(self) -> Role:
        return Role.BUYER if self is Role.SELLER else Role.SELLER


class State(enum.StrEnum):
    """States of a session. DECIDING, CLOSING and SIGNING are transient: left within the same call."""

    IDLE = "IDLE"  # initiator, before its NEGOTIATION_START is out
    WAIT_START = "WAIT_START"  # responder, before the peer's NEGOTIATION_START
    DECIDING = "DECIDING"  # an offer of the peer's is in: counter, accept, ask the human, or give up
    WAIT_REPLY = "WAIT_REPLY"  # our offer is out: waiting for OFFER / ACCEPT / REJECT
    CLOSING = "CLOSING"  # the peer accepted our offer: sign it (TRANSACTION_INIT) or ask the human
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # the guardian wants the human's yes before we commit
    WAIT_INIT = "WAIT_INIT"  # we accepted their offer: waiting for their signed TRANSACTION_INIT
    SIGNING = "SIGNING"  # their TRANSACTION_INIT checked out: add our signature
    WAIT_CONFIRM = "WAIT_CONFIRM"  # our TRANSACTION_INIT is out: waiting for TRANSACTION_CONFIRM
    AGREED = "AGREED"  # terminal: both signatures held
    FAILED = "FAILED"  # terminal: no deal

    @property
    def terminal(self) -> bool:
        return self in (State.AGREED, State.FAILED)


class Input(enum.StrEnum):
    """Inputs of the transition table: messages received, our own moves, the human, the clock."""

    RECV_START = "RECV_START"
    RECV_OFFER = "RECV_OFFER"
    RECV_ACCEPT = "RECV_ACCEPT"
    RECV_REJECT = "RECV_REJECT"
    RECV_INIT = "RECV_INIT"
    RECV_CONFIRM = "RECV_CONFIRM"
    SEND_START = "SEND_START"
    SEND_OFFER = "SEND_OFFER"
    SEND_ACCEPT = "SEND_ACCEPT"
    SEND_REJECT = "SEND_REJECT"
    SEND_INIT = "SEND_INIT"
    SEND_CONFIRM = "SEND_CONFIRM"
    ASK_HUMAN = "ASK_HUMAN"
    TIMEOUT = "TIMEOUT"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


#: What an AWAITING_APPROVAL session will send once the human approves.
PENDING_ACCEPT = "accept"
PENDING_INIT = "init"


class FailReason(enum.StrEnum):
    """Why a session ended without a deal. Also the REJECT reason code sent to the peer."""

    NO_AGREEMENT = "no_agreement"  # the round cap was reached without a mutually acceptable offer
    REJECTED = "rejected"  # the peer sent REJECT (its code is in Failed.detail)
    DECLINED = "declined"  # our human declined the deal
    DENIED = "denied"  # our guardian denied the deal
    DEADLINE = "deadline"  # the session's deadline passed
    ROUND_CAP = "round_cap"  # the peer went past the round cap
    BAD_MESSAGE = "bad_message"  # undecodable bytes, bad signature, wrong message type
    WRONG_PEER = "wrong_peer"  # signed by someone other than our counterpart
    WRONG_SESSION = "wrong_session"  # another session id
    STALE_ROUND = "stale_round"  # a round not above the last one (a replay)
    BAD_ROUND = "bad_round"  # a round that skips ahead
    OUT_OF_TURN = "out_of_turn"  # a message the current state does not allow
    CHANGED_TERM = "changed_term"  # an offer changed currency, quantity or pickup window
    BAD_START = "bad_start"  # a NEGOTIATION_START we cannot take (keys, intents, cap, deadline, terms)
    BAD_ACCEPT = "bad_accept"  # ACCEPT names an offer that is not our last one
    BAD_AGREEMENT = "bad_agreement"  # TRANSACTION_INIT's agreement is not the accepted deal
    BAD_SIGNATURE = "bad_signature"  # an agreement signature does not verify
    ABORTED = "aborted"  # ended locally (e.g. a restarted peer closing an interrupted session)


@dataclass(frozen=True)
class Position:
    """Our private price position (unit prices, minor units). Never sent.

    Attributes:
        reservation: the worst unit price the human accepts (seller: lowest, buyer: highest).
        opening: the unit price we open with (seller: >= reservation, buyer: <= reservation).
    """

    reservation: int
    opening: int


# ------------------------------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class Checkpoint:
    """Save ``session.to_dict()`` durably (fsync, or an SQLite ``synchronous=FULL`` commit) *before*
    handing on the outputs that follow it.

    Queued right before every message that commits us (ACCEPT, TRANSACTION_INIT, TRANSACTION_CONFIRM), so
    a crash can never leave the peer holding a commitment we have no record of.
    """


@dataclass(frozen=True)
class Send:
    """Bytes (one signed envelope) for the driver to write to the peer."""

    data: bytes


@dataclass(frozen=True)
class StateChanged:
    old: State
    new: State
    round: int


@dataclass(frozen=True)
class NeedsApproval:
    """The guardian wants the human's decision on these terms before the agent commits.

    The driver asks the human, then calls ``session.approve(now)`` or ``session.decline(now)``;
    if neither comes before ``deadline`` the session fails with ``FailReason.DEADLINE``.
    """

    terms: Terms
    role: Role
    reason: str
    deadline: float


@dataclass(frozen=True)
class Agreed:
    """The deal: the canonical agreement bytes both sides hold identically, and both signatures."""

    agreement: Agreement
    agreement_bytes: bytes
    buyer_signature: bytes
    seller_signature: bytes


@dataclass(frozen=True)
class Failed:
    reason: FailReason
    detail: str = ""


Output = Checkpoint | Send | StateChanged | NeedsApproval | Agreed | Failed
