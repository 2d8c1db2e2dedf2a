"""Arranging the meeting after a co-signed agreement (the spec's Phase 4 transaction), sans-IO.

Theory of operation
-------------------
Once both agents hold the co-signed agreement, either may propose *how the deal happens*: a meeting
cell (a public, neutral H3 cell between them, never finer than either side allows), a time window, and
the payment methods its human accepts (``cash`` or methods the humans named: no payment rails). A
proposal (HANDOVER_PROPOSE, signed) lapses unanswered after at most 24 h (spec 6.2) and before the
meeting starts. The other side's human — or its guardian, when the deal is within its autonomy —
confirms it (HANDOVER_CONFIRM, signed, naming the proposal by the sha256 of its envelope and the
payment method it picked from the proposal's list), declines it, or counter-proposes. The proposal and
its confirm, each signed by one party, are the *plan* both sides hold (:class:`Plan`); either side may
cancel a confirmed plan (HANDOVER_DECLINE naming it).

Proposal numbers strictly increase over a deal (at most ``MAX_HANDOVER_PROPOSALS``; a declined or
lapsed last one ends the arrangement in FAILED). Two proposals that cross with the same number are
resolved the same way on both sides: the seller's stands and the buyer's is void. States and legal
moves: :mod:`negotiation.handover_table`.

Every received message is a signed envelope by the counterpart, about this deal and this agreement.
A message that fails a check — bad bytes or signature, another signer, deal or agreement, a stale
number, a cell finer than our location setting or not between the parties, a meeting in the past, a
confirm of a proposal that is not our pending one, a payment method not offered — is *refused* with
its reason (``RemoteProtocolError``) and changes nothing; it is not stored. A message we already
took (the sender retrying after a lost reply) is acknowledged again and changes nothing.

Two generals again: the confirmer holds the plan as soon as it sends its CONFIRM; if that message
never arrives before the proposal lapses, the proposer ends in IDLE. The driver re-sends until the
peer answers, and the proposer can propose again.

I/O: ``handle_message(bytes, now)``, ``handle_timer(now)`` at ``next_timer()``, local moves
(:meth:`Handover.propose`, :meth:`Handover.confirm`, :meth:`Handover.decline`), and drain ``poll()``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from negotiation.handover_table import HInput, HState, next_state
from negotiation.meeting import cell_problem, proposal_problem, window_problem
from negotiation.types import Role, Send
from wire.envelope import Envelope, open_envelope, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.handover import (
    HANDOVER_TTL_S,
    MAX_HANDOVER_PROPOSALS,
    HandoverConfirm,
    HandoverDecline,
    HandoverPropose,
    payment_method_ok,
)
from wire.identity import Identity
from wire.messages import Agreement

SNAPSHOT_VERSION = 1
#: Accepted message digests remembered to acknowledge retries (a deal sees at most ~3 per proposal).
MAX_SEEN = 3 * MAX_HANDOVER_PROPOSALS


@dataclass(frozen=True)
class Plan:
    """The arranged meeting: the proposal and the other side's confirm, each signed by its sender.

    Attributes:
        proposal: the confirmed proposal.
        proposal_envelope: its signed envelope (by ``proposer``).
        confirm_envelope: the confirm's signed envelope (by the other party).
        proposer: the key that proposed.
        payment: the payment method the confirmer picked.
    """

    proposal: HandoverPropose
    proposal_envelope: bytes
    confirm_envelope: bytes
    proposer: bytes
    payment: str


# ------------------------------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class HandoverChanged:
    old: HState
    new: HState


@dataclass(frozen=True)
class NeedsConfirmation:
    """The other side proposed: our human (or guardian) confirms, declines or counters before ``expires``."""

    proposal: HandoverPropose


@dataclass(frozen=True)
class Confirmed:
    plan: Plan


@dataclass(frozen=True)
class ProposalClosed:
    """A pending proposal ended without a plan. ``reason``: declined, withdrawn, expired, superseded."""

    proposal: HandoverPropose
    mine: bool
    reason: str


@dataclass(frozen=True)
class Ended:
    """The arrangement ended (CANCELLED or FAILED) for ``reason``."""

    state: HState
    reason: str
    by_peer: bool = False


HandoverOutput = Send | HandoverChanged | NeedsConfirmation | Confirmed | ProposalClosed | Ended


class Handover:
    """One deal's meeting arrangement, on one side (see the module docstring).

    Args:
        identity: our signing identity (the key that signed the agreement).
        agreement: the co-signed agreement.
        my_cell: our intent's published cell.
        their_cell: the counterpart's published intent cell.
        my_max_res: the finest H3 resolution our human allows (None: never a location).

    Raises:
        LocalProtocolError: we are not a party to the agreement.
    """

    def __init__(
        self,
        identity: Identity,
        agreement: Agreement,
        agreement_digest: bytes,
        *,
        my_cell: str,
        their_cell: str,
        my_max_res: int | None,
    ) -> None:
        me = identity.pubkey
        if me not in (agreement.buyer, agreement.seller) or agreement.buyer == agreement.seller:
            raise LocalProtocolError("not a party to this agreement")
        self.identity = identity
        self.agreement = agreement
        self.digest = agreement_digest
        self.deal = agreement.session
        self.role = Role.SELLER if me == agreement.seller else Role.BUYER
        self.peer = agreement.buyer if self.role is Role.SELLER else agreement.seller
        self.my_cell, self.their_cell, self.my_max_res = my_cell, their_cell, my_max_res
        self.state = HState.IDLE
        self.next_number = 0  # the lowest number a new proposal (ours or theirs) may carry
        self.mine: Envelope | None = None  # our latest proposal
        self.theirs: Envelope | None = None  # their latest proposal
        self.plan: Plan | None = None
        self.reason = ""
        self.seen: list[bytes] = []  # digests of received messages we took (to acknowledge retries)
        self._out: list[HandoverOutput] = []

    # ------------------------------------------------------------------------------------ public

    def poll(self) -> list[HandoverOutput]:
        """Drain the queued outputs, oldest first."""
        out, self._out = self._out, []
        return out

    @property
    def pending(self) -> HandoverPropose | None:
        """The proposal waiting for an answer (ours in PROPOSED, theirs in REVIEWING), if any."""
        env = (
            self.mine
            if self.state is HState.PROPOSED
            else self.theirs
            if self.state is HState.REVIEWING
            else None
        )
        return None if env is None else _proposal(env)

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` must be called next (None: nothing left to time)."""
        pending = self.pending
        if pending is not None:
            return float(pending.expires)
        if self.state is HState.IDLE:
            return float(self.agreement.expires)
        return None

    def handle_timer(self, now: float) -> None:
        """Lapse the pending proposal, or end the arrangement once the agreement expired."""
        pending = self.pending
        if pending is not None and now >= pending.expires:
            self._close(pending, self.state is HState.PROPOSED, "expired", HInput.EXPIRE)
        if self.state is HState.IDLE and now >= self.agreement.expires:
            self._end("agreement_expired", HInput.END)

    def handle_message(self, data: bytes, now: float) -> bool:
        """Take one message from the counterpart.

        Returns:
            True if it changed something, False for a retry of a message already taken.

        Raises:
            RemoteProtocolError: the message is refused (its reason in the text); nothing changed.
        """
        env = open_envelope(data)
        if env.author != self.peer:
            raise RemoteProtocolError("signed by another agent than the deal's counterpart")
        if env.digest in self.seen:
            return False
        msg = env.message
        if not isinstance(msg, HandoverPropose | HandoverConfirm | HandoverDecline):
            raise RemoteProtocolError(f"{env.type.name} is not a handover message")
        if msg.deal != self.deal:
            raise RemoteProtocolError("about another deal")
        if self.state.terminal:
            raise RemoteProtocolError(f"the arrangement has ended ({self.state.lower()})")
        if isinstance(msg, HandoverPropose):
            self._on_propose(env, msg, now)
        elif isinstance(msg, HandoverConfirm):
            self._on_confirm(env, msg)
        else:
            self._on_decline(msg)
        self.seen = [*self.seen, env.digest][-MAX_SEEN:]
        return True

    def propose(self, cell: str, start: int, end: int, payment: list[str], now: float) -> HandoverPropose:
        """Propose a meeting (first, as a counter to theirs, or replacing our own pending one).

        Raises:
            LocalProtocolError: not possible now (state, no number left) or a bad proposal (its reason).
        """
        self._check_move(HInput.SEND_PROPOSE)
        if self.next_number >= MAX_HANDOVER_PROPOSALS:
            raise LocalProtocolError(f"no proposal left: at most {MAX_HANDOVER_PROPOSALS} per deal")
        created = int(now)
        expires = min(created + HANDOVER_TTL_S, start)
        problem = (
            window_problem(start, end, now, self.agreement.expires)
            or cell_problem(cell, self.my_cell, self.their_cell, self.my_max_res)
            or _payment_problem(payment)
        )
        if problem is None and expires <= created:
            problem = "the meeting starts too soon to be confirmed"
        if problem is not None:
            raise LocalProtocolError(problem)
        proposal = HandoverPropose(
            deal=self.deal, agreement=self.digest, number=self.next_number, cell=cell, start=start, end=end,
            payment=list(payment), created=created, expires=expires,
        )  # fmt: skip
        if self.state is HState.REVIEWING and self.theirs is not None:
            self._out.append(ProposalClosed(_proposal(self.theirs), False, "superseded"))
        elif self.state is HState.PROPOSED and self.mine is not None:
            self._out.append(ProposalClosed(_proposal(self.mine), True, "superseded"))
        self.mine = seal(self.identity, proposal)
        self.next_number = proposal.number + 1
        self._out.append(Send(self.mine.raw))
        self._to(HInput.SEND_PROPOSE)
        return proposal

    def confirm(self, payment: str, now: float) -> Plan:
        """Our human (or guardian) says yes to their pending proposal, paying with ``payment``.

        Raises:
            LocalProtocolError: nothing to confirm, the proposal lapsed, or ``payment`` is not offered.
        """
        self._check_move(HInput.SEND_CONFIRM)
        assert self.theirs is not None
        proposal = _proposal(self.theirs)
        if now >= proposal.expires:
            raise LocalProtocolError("the proposal has expired")
        if payment not in proposal.payment:
            raise LocalProtocolError(f"{payment!r} is not among the proposed payment methods")
        confirm = seal(
            self.identity, HandoverConfirm(deal=self.deal, proposal=self.theirs.digest, payment=payment)
        )
        self.plan = Plan(proposal, self.theirs.raw, confirm.raw, self.peer, payment)
        self._out.append(Send(confirm.raw))
        self._to(HInput.SEND_CONFIRM)
        self._out.append(Confirmed(self.plan))
        return self.plan

    def decline(self, reason: str, now: float) -> None:
        """Decline their proposal, withdraw ours, or cancel the confirmed plan (telling the peer).

        Raises:
            LocalProtocolError: nothing to decline or cancel.
        """
        self._check_move(HInput.SEND_DECLINE)
        code = reason[:64] or "declined"
        if self.state is HState.CONFIRMED:
            assert self.plan is not None
            named = hashlib.sha256(self.plan.proposal_envelope).digest()
            self._out.append(Send(seal(self.identity, HandoverDecline(self.deal, named, code)).raw))
            self._end(code, HInput.SEND_DECLINE)
            return
        env = self.theirs if self.state is HState.REVIEWING else self.mine
        assert env is not None
        self._out.append(Send(seal(self.identity, HandoverDecline(self.deal, env.digest, code)).raw))
        mine = self.state is HState.PROPOSED
        self._close(_proposal(env), mine, "withdrawn" if mine else "declined", HInput.SEND_DECLINE)

    # ------------------------------------------------------------------------------- receiving

    def _on_propose(self, env: Envelope, p: HandoverPropose, now: float) -> None:
        if p.agreement != self.digest:
            raise RemoteProtocolError("the proposal names another agreement")
        mine = _proposal(self.mine) if self.state is HState.PROPOSED and self.mine is not None else None
        crossed = mine is not None and p.number == mine.number
        if crossed and self.role is Role.SELLER:
            raise RemoteProtocolError("crossed proposals with the same number: the seller's proposal stands")
        if p.number < self.next_number and not crossed:
            raise RemoteProtocolError(f"stale proposal number {p.number} (next is {self.next_number})")
        if next_state(self.state, HInput.RECV_PROPOSE) is None:
            raise RemoteProtocolError(f"no proposal is taken in state {self.state.lower()}")
        problem = proposal_problem(
            p, now, my_cell=self.my_cell, their_cell=self.their_cell, my_max_res=self.my_max_res,
            agreement_expires=self.agreement.expires,
        )  # fmt: skip
        if problem is not None:
            raise RemoteProtocolError(f"proposal refused: {problem}")
        if mine is not None:
            self._out.append(ProposalClosed(mine, True, "superseded"))
        elif self.state is HState.REVIEWING and self.theirs is not None:
            self._out.append(ProposalClosed(_proposal(self.theirs), False, "superseded"))
        self.theirs = env
        self.next_number = p.number + 1
        self._to(HInput.RECV_PROPOSE)
        self._out.append(NeedsConfirmation(p))

    def _on_confirm(self, env: Envelope, c: HandoverConfirm) -> None:
        if self.state is not HState.PROPOSED or self.mine is None:
            raise RemoteProtocolError(f"nothing of ours to confirm (state {self.state.lower()})")
        if c.proposal != self.mine.digest:
            raise RemoteProtocolError("confirms a proposal that is not our pending one")
        proposal = _proposal(self.mine)
        if c.payment not in proposal.payment:
            raise RemoteProtocolError(f"payment method {c.payment!r} was not proposed")
        self.plan = Plan(proposal, self.mine.raw, env.raw, self.identity.pubkey, c.payment)
        self._to(HInput.RECV_CONFIRM)
        self._out.append(Confirmed(self.plan))

    def _on_decline(self, d: HandoverDecline) -> None:
        if self.state is HState.CONFIRMED:
            assert self.plan is not None
            if d.proposal != hashlib.sha256(self.plan.proposal_envelope).digest():
                raise RemoteProtocolError("cancels a plan that is not ours")
            self._end(d.reason, HInput.RECV_DECLINE, by_peer=True)
            return
        env = (
            self.mine
            if self.state is HState.PROPOSED
            else self.theirs
            if self.state is HState.REVIEWING
            else None
        )
        if env is None or d.proposal != env.digest:
            raise RemoteProtocolError("declines a proposal that is not pending")
        mine = self.state is HState.PROPOSED
        self._close(_proposal(env), mine, "declined" if mine else "withdrawn", HInput.RECV_DECLINE)

    # ------------------------------------------------------------------------------- internals

    def _check_move(self, event: HInput) -> None:
        if next_state(self.state, event) is None:
            raise LocalProtocolError(f"not possible now: the arrangement is {self.state.lower()}")

    def _to(self, event: HInput) -> None:
        new = next_state(self.state, event)
        if new is None:
            raise LocalProtocolError(f"illegal move {event} in {self.state}")
        old, self.state = self.state, new
        self._out.append(HandoverChanged(old, new))

    def _close(self, proposal: HandoverPropose, mine: bool, reason: str, event: HInput) -> None:
        self._out.append(ProposalClosed(proposal, mine, reason))
        self._to(event)
        if self.next_number >= MAX_HANDOVER_PROPOSALS:
            self._end("no_meeting", HInput.END)

    def _end(self, reason: str, event: HInput, *, by_peer: bool = False) -> None:
        self.reason = reason
        self._to(event)
        self._out.append(Ended(self.state, reason, by_peer))

    # ----------------------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot: the state and the signed envelopes (nothing private in it)."""
        plan = self.plan
        return {
            "version": SNAPSHOT_VERSION,
            "state": str(self.state),
            "next_number": self.next_number,
            "mine": None if self.mine is None else self.mine.raw.hex(),
            "theirs": None if self.theirs is None else self.theirs.raw.hex(),
            "plan": None if plan is None else {
                "proposal": plan.proposal_envelope.hex(), "confirm": plan.confirm_envelope.hex(),
                "proposer": plan.proposer.hex(), "payment": plan.payment,
            },
            "reason": self.reason,
            "seen": [d.hex() for d in self.seen],
        }  # fmt: skip

    def restore(self, data: dict[str, Any]) -> None:
        """Take back a :meth:`to_dict` snapshot (the envelopes are verified again).

        Raises:
            LocalProtocolError: another version, or a malformed snapshot.
        """
        try:
            if data.get("version") != SNAPSHOT_VERSION:
                raise LocalProtocolError(f"handover snapshot version {data.get('version')!r}")
            self.state = HState(data["state"])
            self.next_number = int(data["next_number"])
            self.mine = None if data.get("mine") is None else open_envelope(bytes.fromhex(data["mine"]))
            self.theirs = None if data.get("theirs") is None else open_envelope(bytes.fromhex(data["theirs"]))
            p = data.get("plan")
            if p is not None:
                env = open_envelope(bytes.fromhex(p["proposal"]))
                self.plan = Plan(
                    _proposal(env),
                    env.raw,
                    bytes.fromhex(p["confirm"]),
                    bytes.fromhex(p["proposer"]),
                    p["payment"],
                )
            self.reason = str(data.get("reason", ""))
            self.seen = [bytes.fromhex(d) for d in data.get("seen", [])][-MAX_SEEN:]
        except (KeyError, TypeError, ValueError, RemoteProtocolError) as exc:
            raise LocalProtocolError(f"malformed handover snapshot: {exc}") from None
        if self.state is HState.CONFIRMED and self.plan is None:
            raise LocalProtocolError("malformed handover snapshot: confirmed without a plan")

    def statistics(self) -> dict[str, Any]:
        pending = self.pending
        return {
            "state": str(self.state),
            "next_number": self.next_number,
            "pending_expires": None if pending is None else pending.expires,
            "reason": self.reason,
        }


def _proposal(env: Envelope) -> HandoverPropose:
    msg = env.message
    assert isinstance(msg, HandoverPropose)
    return msg


def _payment_problem(payment: list[str]) -> str | None:
    if not payment:
        return "name at least one payment method (e.g. cash)"
    if len(set(payment)) != len(payment) or len(payment) > 4:
        return "name 1 to 4 different payment methods"
    bad = [m for m in payment if not payment_method_ok(m)]
    return f"bad payment method {bad[0][:30]!r} (a-z, 0-9, _ . -)" if bad else None
