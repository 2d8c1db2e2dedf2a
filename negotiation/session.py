"""One negotiation session between two agents, sans-IO.

Theory of operation
-------------------
Two peers bargain over the unit price of a fixed deal (currency, quantity and pickup window are set by
NEGOTIATION_START and may not change). The *initiator* opens with NEGOTIATION_START carrying its first
offer (round 0); from then on the peers alternate, each message carrying the next round number, so the
initiator speaks on even rounds and the responder on odd ones. Offers may carry rounds 0..max_rounds-1;
the answer to the last offer can only be ACCEPT or REJECT. ACCEPT names the exact offer it takes by the
sha256 of that offer's envelope. The side whose offer was accepted builds the canonical
:class:`~wire.messages.Agreement` and sends it, signed, in TRANSACTION_INIT; the other side checks that
it is exactly the accepted deal and answers TRANSACTION_CONFIRM with its own signature. Both end holding
the same agreement bytes and both signatures (the :class:`Agreed` output), or neither does — with one
exception no protocol can remove (two generals): if the final CONFIRM is lost or corrupted in transit,
its sender holds the valid co-signed agreement while the INIT sender (which waits ``CONFIRM_GRACE_S``
past the deadline for it) ends with DEADLINE or BAD_MESSAGE. An agreement is valid exactly when
``verify_agreement`` accepts it.

Every message is a signed envelope (``wire.envelope``) by the expected peer, bound to the session id and
round. Anything else — bad bytes or signature, another signer or session, a stale (replayed) or skipping
round, a message the state does not allow (see ``negotiation.table``), a changed term, an ACCEPT of an
offer we did not make, an agreement that is not the deal — ends the session with a typed
:class:`FailReason`, and we tell the peer with a signed REJECT carrying that code. A deadline (set by
the initiator, and cut by the responder to its own ``duration``) ends any session still open; the side
waiting for the CONFIRM waits a short grace beyond it.

Against probing, our round *horizon* is our own (the initiator's ``max_rounds`` only caps the session),
and the session defends a guarded limit — the reservation moved by a private margin drawn from the
``rng`` it is given (:mod:`negotiation.margin`); no offer or acceptance ever crosses it.

Before committing (sending ACCEPT, or signing TRANSACTION_INIT) the session asks the guardian. ALLOW
proceeds; DENY ends the session; NEEDS_APPROVAL pauses it in AWAITING_APPROVAL and emits
:class:`NeedsApproval` until the driver calls :meth:`Session.approve` or :meth:`Session.decline` (or the
deadline passes). Every committing message (ACCEPT, TRANSACTION_INIT, TRANSACTION_CONFIRM) is preceded in
the outputs by a :class:`Checkpoint`: the driver saves the session durably before sending it.

I/O: feed ``handle_message(bytes, now)``, ``handle_timer(now)`` at ``next_timer()``, and drain ``poll()``.
State changes go through the table (``negotiation.table``); a restore enters only a resumable state.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from negotiation.agreement import agreement_bytes, sign_agreement, signature_valid
from negotiation.checks import agreement_fits, check_args, message_problem, same_fixed_terms, start_problem
from negotiation.guardian import Guardian, Verdict
from negotiation.margin import MAX_MARGIN, MIN_MARGIN, Rng, guarded_limit, session_margin
from negotiation.strategy import DEFAULT_SPARE_ROUNDS, Context, Strategy
from negotiation.table import INPUT_OF, RESUMABLE_STATES, next_state
from negotiation.types import (
    CONFIRM_GRACE_S,
    DEFAULT_AGREEMENT_TTL_S,
    DEFAULT_DURATION_S,
    DEFAULT_MAX_ROUNDS,
    PENDING_ACCEPT,
    PENDING_INIT,
    Agreed,
    Checkpoint,
    Failed,
    FailReason,
    Input,
    NeedsApproval,
    Output,
    Position,
    Role,
    Send,
    State,
    StateChanged,
)
from wire.envelope import Envelope, open_envelope, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity
from wire.limits import MAX_AMOUNT_MINOR, MAX_ROUNDS
from wire.messages import (
    Agreement,
    NegotiationAccept,
    NegotiationOffer,
    NegotiationReject,
    NegotiationStart,
    Terms,
    TransactionConfirm,
    TransactionInit,
)

if TYPE_CHECKING:
    from negotiation.persist import Resume

__all__ = ["Position", "Session"]


class Session:
    """A sans-IO negotiation session (see the module docstring).

    Args:
        identity: our signing identity.
        role: SELLER or BUYER.
        peer: the counterpart's 32-byte public key.
        my_intent: our intent id (16 bytes).
        peer_intent: the counterpart's intent id (responder: None to take it from the START).
        terms: initiator: the deal's currency, quantity and pickup window (price is set by the strategy);
            responder: the template a START must fit (same currency, quantity at most ``terms.quantity``).
        position: our private reservation and opening prices.
        strategy: the strategy that picks offers and acceptances.
        guardian: the human's limits (None: allow everything — simulations and tests).
        now: current time (seconds).
        initiator: True to open the session now (queues NEGOTIATION_START).
        rng: the source the private margin is drawn from (once, here); the agent seeds it per intent.
        session_id: 16 bytes; required for the initiator, optional for a responder (then learnt).
        max_rounds: our horizon. Initiator: also the cap it sends; responder: the largest cap it accepts.
            Our concessions are paced by it whatever cap the peer chooses.
        duration: initiator: seconds until the deadline it sets; responder: how long it waits for START
            and the longest it lets the session run (a START's later deadline is cut to this).
        category: the deal's category, for the guardian.
        agreement_ttl: seconds an agreement we build stays valid.
        spare_rounds: rounds before the horizon at which strategies reach their (guarded) limit.
        margin_range: the private margin's range (share of the reservation); (0, 0) only in benchmarks.
        margin: the margin itself instead of drawing one (restores; then ``rng`` may be None).

    Raises:
        LocalProtocolError: inconsistent arguments.
    """

    def __init__(
        self,
        identity: Identity,
        role: Role,
        *,
        peer: bytes,
        my_intent: bytes,
        peer_intent: bytes | None,
        terms: Terms,
        position: Position,
        strategy: Strategy,
        guardian: Guardian | None,
        now: float,
        initiator: bool,
        rng: Rng | None,
        session_id: bytes | None = None,
        max_rounds: int = DEFAULT_MAX_ROUNDS,
        duration: float = DEFAULT_DURATION_S,
        category: str | None = None,
        agreement_ttl: int = DEFAULT_AGREEMENT_TTL_S,
        spare_rounds: int = DEFAULT_SPARE_ROUNDS,
        margin_range: tuple[float, float] = (MIN_MARGIN, MAX_MARGIN),
        margin: float | None = None,
        _resume: Resume | None = None,
    ) -> None:
        self.identity = identity
        self.role = Role(role)
        self.peer = peer
        self.my_intent = my_intent
        self.peer_intent = peer_intent
        self.template = terms
        self.position = position
        self.strategy = strategy
        self.guardian = guardian
        self.initiator = initiator
        self.session_id = session_id
        self.horizon = max_rounds  # ours; the session's cap (max_rounds) may be lower (responder)
        self.max_rounds = max_rounds
        self.category = category
        self.agreement_ttl = agreement_ttl
        self.spare_rounds = spare_rounds
        self.duration = duration
        self.margin = session_margin(rng, margin_range, margin)
        self.created = now
        self.deadline = now + duration
        self.state = State.IDLE if initiator else State.WAIT_START
        self.round = -1  # round of the last message sent or received
        self.terms: Terms | None = None  # the fixed deal terms, set by START
        self.my_offers: list[int] = []
        self.their_offers: list[int] = []
        self.my_last_digest: bytes | None = None
        self.their_last_digest: bytes | None = None
        self.pending: str | None = None
        self.pending_terms: Terms | None = None
        self.pending_reason = ""
        self.agreement: Agreement | None = None
        self.agreement_raw: bytes | None = None
        self.my_signature: bytes | None = None
        self.peer_signature: bytes | None = None
        self.reason: FailReason | None = None
        self.detail = ""
        self._out: list[Output] = []
        self._stats = {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0, "ignored": 0}
        check_args(self, duration)
        #: the price we defend: never offered below / accepted beyond (see negotiation.margin)
        self.guarded = guarded_limit(position, self.role, self.margin)
        if _resume is not None:
            self._resume(_resume)
        elif initiator:
            self._open(now)

    # ------------------------------------------------------------------------------------ public

    def poll(self) -> list[Output]:
        """Drain the queued outputs, oldest first; honour each :class:`Checkpoint` before what follows."""
        out, self._out = self._out, []
        return out

    def next_timer(self) -> float | None:
        """When :meth:`handle_timer` must be called next, or None once the session has ended."""
        if self.state.terminal:
            return None
        if self.state is State.WAIT_CONFIRM:
            return self.deadline + CONFIRM_GRACE_S
        return self.deadline

    def handle_timer(self, now: float) -> None:
        """Fire the deadline if it has passed (calling early is harmless)."""
        timer = self.next_timer()
        if timer is not None and now >= timer:
            self._fail(FailReason.DEADLINE, "the session's deadline passed", Input.TIMEOUT)

    def handle_message(self, data: bytes, now: float) -> None:
        """Process one envelope from the peer. Never raises for bad remote input: the session ends.

        Args:
            data: the envelope bytes as received.
            now: current time.
        """
        if self.state.terminal:
            self._stats["ignored"] += 1
            return
        self._stats["messages_in"] += 1
        self._stats["bytes_in"] += len(data)
        try:
            env = open_envelope(data)
        except RemoteProtocolError as exc:
            self._fail(FailReason.BAD_MESSAGE, str(exc)[:64], Input.PROTOCOL_ERROR)
            return
        if env.author != self.peer:
            self._fail(FailReason.WRONG_PEER, "signed by another key", Input.PROTOCOL_ERROR)
            return
        msg = env.message
        problem = message_problem(self, env, INPUT_OF.get(type(msg)), now)
        if problem is not None:
            self._fail(*problem)
            return
        if isinstance(msg, NegotiationStart):
            self._on_start(env, msg, now)
        elif isinstance(msg, NegotiationOffer):
            self._on_offer(env, msg, now)
        elif isinstance(msg, NegotiationAccept):
            self._on_accept(msg, now)
        elif isinstance(msg, NegotiationReject):
            self.round = msg.round
            self._fail(FailReason.REJECTED, msg.reason, Input.RECV_REJECT)
        elif isinstance(msg, TransactionInit):
            self._on_init(msg, now)
        else:
            assert isinstance(msg, TransactionConfirm)
            self._on_confirm(msg)

    def approve(self, now: float) -> None:
        """The human approved the pending deal: commit to it (ACCEPT or TRANSACTION_INIT).

        Raises:
            LocalProtocolError: the session is not awaiting approval.
        """
        self._require_approval()
        if now > self.deadline:
            self._fail(FailReason.DEADLINE, "approved after the deadline", Input.TIMEOUT)
        elif self.pending == PENDING_ACCEPT:
            self._send_accept()
        else:
            self._send_init(now)

    def decline(self, now: float) -> None:
        """The human declined the pending deal: end the session and tell the peer.

        Raises:
            LocalProtocolError: the session is not awaiting approval.
        """
        self._require_approval()
        self._fail(FailReason.DECLINED, "the human declined", Input.SEND_REJECT)

    def abort(self, now: float, detail: str = "") -> None:
        """End a live session locally (e.g. after a restart), telling the peer. No-op once ended."""
        if not self.state.terminal:
            self._fail(FailReason.ABORTED, detail[:64], Input.SEND_REJECT)

    def approval_request(self) -> NeedsApproval | None:
        """The pending question for the human (also after a restore), or None if nothing is pending."""
        if self.state is not State.AWAITING_APPROVAL or self.pending_terms is None:
            return None
        return NeedsApproval(self.pending_terms, self.role, self.pending_reason, self.deadline)

    @property
    def done(self) -> bool:
        return self.state.terminal

    def statistics_counters(self) -> dict[str, int]:
        """The raw message counters (persisted with the session)."""
        return dict(self._stats)

    def statistics(self) -> dict[str, Any]:
        """Counters and the current state, for logs and metrics."""
        return {
            **self._stats,
            "state": str(self.state),
            "round": self.round,
            "offers_sent": len(self.my_offers),
            "offers_received": len(self.their_offers),
            "max_rounds": self.max_rounds,
            "deadline": self.deadline,
            "reason": str(self.reason) if self.reason else None,
        }

    # ------------------------------------------------------------------------------- internals

    def _require_approval(self) -> None:
        if self.state is not State.AWAITING_APPROVAL:
            raise LocalProtocolError(f"nothing to approve in state {self.state}")

    def _to(self, event: Input) -> None:
        new = next_state(self.state, event)
        if new is None:
            raise LocalProtocolError(f"illegal local move {event} in {self.state}")
        old, self.state = self.state, new
        self._out.append(StateChanged(old, new, self.round))

    def _send(self, msg: object, *, commit: bool = False) -> Envelope:
        """Queue a signed message; a committing one (``commit``) behind a :class:`Checkpoint`."""
        env = seal(self.identity, msg)
        self.round = msg.round  # type: ignore[attr-defined]
        self._stats["messages_out"] += 1
        self._stats["bytes_out"] += len(env.raw)
        if commit:
            self._out.append(Checkpoint())
        self._out.append(Send(env.raw))
        return env

    def _fail(self, reason: FailReason, detail: str, event: Input) -> None:
        if event is not Input.RECV_REJECT and self.session_id is not None:
            # the peer may already be one round ahead of us (a message in flight, a bad one we did not
            # adopt, a snapshot older than the last message): a REJECT may carry any higher round, so
            # skip one.
            rnd = min(self.round + 2, MAX_ROUNDS)
            self._send(NegotiationReject(self.session_id, rnd, str(reason)))
        self.reason, self.detail = reason, detail
        self._to(event if next_state(self.state, event) else Input.PROTOCOL_ERROR)
        self._out.append(Failed(reason, detail))

    def _context(self, rnd: int) -> Context:
        """The strategy's view: the guarded limit (never the reservation) and our own horizon."""
        return Context(
            role=self.role,
            reservation=self.guarded,
            opening=self.position.opening,
            round=rnd,
            max_rounds=self.max_rounds,
            my_offers=tuple(self.my_offers),
            their_offers=tuple(self.their_offers),
            spare=self.spare_rounds,
            horizon=self.horizon,
        )

    def _clamp(self, price: int) -> int:
        price = int(price)
        price = max(price, self.guarded) if self.role is Role.SELLER else min(price, self.guarded)
        return min(max(price, 0), MAX_AMOUNT_MINOR)

    def _acceptable(self, price: int) -> bool:
        return price >= self.guarded if self.role is Role.SELLER else price <= self.guarded

    def _parties(self) -> tuple[bytes, bytes, bytes, bytes]:
        """(buyer key, seller key, buyer intent, seller intent)."""
        assert self.peer_intent is not None
        me, mine = self.identity.pubkey, self.my_intent
        if self.role is Role.SELLER:
            return self.peer, me, self.peer_intent, mine
        return me, self.peer, mine, self.peer_intent

    # ------------------------------------------------------------------------------------ moves

    def _open(self, now: float) -> None:
        assert self.session_id is not None
        price = self._clamp(self.strategy.propose(self._context(0)))
        self.terms = replace(self.template, price_minor=price)
        buyer, seller, buyer_intent, seller_intent = self._parties()
        start = NegotiationStart(
            session=self.session_id,
            round=0,
            buyer_intent=buyer_intent,
            seller_intent=seller_intent,
            buyer=buyer,
            seller=seller,
            terms=self.terms,
            max_rounds=self.max_rounds,
            deadline=int(self.deadline),
        )
        self.deadline = float(int(self.deadline))
        env = self._send(start)
        self.my_offers.append(price)
        self.my_last_digest = env.digest
        self._to(Input.SEND_START)

    def _decide(self, now: float) -> None:
        """In DECIDING: accept the peer's last offer, counter, ask the human, or give up."""
        assert self.terms is not None
        rnd = self.round + 1
        ctx = self._context(rnd)
        price = self.their_offers[-1]
        if self._acceptable(price) and self.strategy.accept(ctx, price):
            self._commit(PENDING_ACCEPT, replace(self.terms, price_minor=price), now)
        elif rnd < self.max_rounds:
            mine = self._clamp(self.strategy.propose(ctx))
            env = self._send(NegotiationOffer(self._sid, rnd, replace(self.terms, price_minor=mine)))
            self.my_offers.append(mine)
            self.my_last_digest = env.digest
            self._to(Input.SEND_OFFER)
        else:
            self._fail(FailReason.NO_AGREEMENT, "no acceptable offer within the round cap", Input.SEND_REJECT)

    def _commit(self, kind: str, terms: Terms, now: float) -> None:
        """Ask the guardian, then ACCEPT / TRANSACTION_INIT, pause for the human, or end."""
        decision = self.guardian.check_deal(terms, self.role, self.category) if self.guardian else None
        if decision is None or decision.verdict is Verdict.ALLOW:
            if kind == PENDING_ACCEPT:
                self._send_accept()
            else:
                self._send_init(now)
        elif decision.verdict is Verdict.NEEDS_APPROVAL:
            self.pending, self.pending_terms, self.pending_reason = kind, terms, decision.reason
            self._to(Input.ASK_HUMAN)
            request = self.approval_request()
            assert request is not None
            self._out.append(request)
        else:
            self._fail(FailReason.DENIED, decision.reason, Input.SEND_REJECT)

    @property
    def _sid(self) -> bytes:
        assert self.session_id is not None
        return self.session_id

    def _send_accept(self) -> None:
        assert self.their_last_digest is not None
        self._send(NegotiationAccept(self._sid, self.round + 1, self.their_last_digest), commit=True)
        self.pending = None
        self._to(Input.SEND_ACCEPT)

    def _send_init(self, now: float) -> None:
        assert self.terms is not None
        buyer, seller, buyer_intent, seller_intent = self._parties()
        created = int(now)
        agreement = Agreement(
            session=self._sid,
            buyer=buyer,
            seller=seller,
            buyer_intent=buyer_intent,
            seller_intent=seller_intent,
            terms=replace(self.terms, price_minor=self.my_offers[-1]),
            created=created,
            expires=created + self.agreement_ttl,
        )
        self.agreement, self.agreement_raw = agreement, agreement_bytes(agreement)
        self.my_signature = sign_agreement(self.identity, agreement)
        self._send(TransactionInit(self._sid, self.round + 1, agreement, self.my_signature), commit=True)
        self.pending = None
        self._to(Input.SEND_INIT)

    def _agreed(self) -> None:
        assert self.agreement is not None and self.agreement_raw is not None
        assert self.my_signature is not None and self.peer_signature is not None
        mine, theirs = self.my_signature, self.peer_signature
        buyer_sig, seller_sig = (mine, theirs) if self.role is Role.BUYER else (theirs, mine)
        self._out.append(Agreed(self.agreement, self.agreement_raw, buyer_sig, seller_sig))

    # --------------------------------------------------------------------------------- receive

    def _on_start(self, env: Envelope, start: NegotiationStart, now: float) -> None:
        self.session_id = start.session  # known from here on, so a refusal can name it
        problem = start_problem(self, start, now)
        self.round = 0
        if problem:
            self._fail(FailReason.BAD_START, problem, Input.PROTOCOL_ERROR)
            return
        self.peer_intent = start.buyer_intent if self.role is Role.SELLER else start.seller_intent
        self.max_rounds = start.max_rounds  # the session's cap; our horizon stays ours
        self.deadline = min(float(start.deadline), self.deadline)  # never beyond our own duration
        self.terms = start.terms
        self.their_offers.append(start.terms.price_minor)
        self.their_last_digest = env.digest
        self._to(Input.RECV_START)
        self._decide(now)

    def _on_offer(self, env: Envelope, offer: NegotiationOffer, now: float) -> None:
        assert self.terms is not None
        if offer.round >= self.max_rounds:
            self._fail(FailReason.ROUND_CAP, f"offer in round {offer.round}", Input.PROTOCOL_ERROR)
            return
        if not same_fixed_terms(offer.terms, self.terms):
            self._fail(FailReason.CHANGED_TERM, "only the price may change", Input.PROTOCOL_ERROR)
            return
        self.round = offer.round
        self.their_offers.append(offer.terms.price_minor)
        self.their_last_digest = env.digest
        self._to(Input.RECV_OFFER)
        self._decide(now)

    def _on_accept(self, accept: NegotiationAccept, now: float) -> None:
        assert self.terms is not None
        if accept.offer_digest != self.my_last_digest:
            self._fail(FailReason.BAD_ACCEPT, "accepts an offer we did not make last", Input.PROTOCOL_ERROR)
            return
        self.round = accept.round
        self._to(Input.RECV_ACCEPT)
        self._commit(PENDING_INIT, replace(self.terms, price_minor=self.my_offers[-1]), now)

    def _on_init(self, init: TransactionInit, now: float) -> None:
        assert self.terms is not None
        a = init.agreement
        expected = replace(self.terms, price_minor=self.their_offers[-1])
        if not agreement_fits(a, self.session_id, self._parties(), expected, now):
            self._fail(FailReason.BAD_AGREEMENT, "not the accepted deal", Input.PROTOCOL_ERROR)
            return
        if not signature_valid(a, self.peer, init.signature):
            self._fail(FailReason.BAD_SIGNATURE, "agreement signature", Input.PROTOCOL_ERROR)
            return
        self.round = init.round
        self.agreement, self.agreement_raw = a, agreement_bytes(a)
        self.peer_signature = init.signature
        self._to(Input.RECV_INIT)
        self.my_signature = sign_agreement(self.identity, a)
        digest = hashlib.sha256(self.agreement_raw).digest()
        confirm = TransactionConfirm(self._sid, self.round + 1, digest, self.my_signature)
        # we hold both signatures now: record the deal (Agreed, then a Checkpoint) before the CONFIRM
        # that gives the peer ours leaves
        self.round = confirm.round
        self._to(Input.SEND_CONFIRM)
        self._agreed()
        self._send(confirm, commit=True)

    def _on_confirm(self, confirm: TransactionConfirm) -> None:
        assert self.agreement is not None and self.agreement_raw is not None
        if confirm.agreement_digest != hashlib.sha256(self.agreement_raw).digest():
            self._fail(FailReason.BAD_AGREEMENT, "confirms another agreement", Input.PROTOCOL_ERROR)
            return
        if not signature_valid(self.agreement, self.peer, confirm.signature):
            self._fail(FailReason.BAD_SIGNATURE, "agreement signature", Input.PROTOCOL_ERROR)
            return
        self.round = confirm.round
        self.peer_signature = confirm.signature
        self._to(Input.RECV_CONFIRM)
        self._agreed()

    # ----------------------------------------------------------------------------- persistence

    def _resume(self, r: Resume) -> None:
        """Take the saved progress of a snapshot (see :mod:`negotiation.persist`): the only way a state
        other than the initial one is entered without the transition table, and only a resumable one
        whose saved fields fit it."""
        if r.state not in RESUMABLE_STATES or (r.state is State.WAIT_START and self.initiator):
            raise LocalProtocolError(f"malformed session snapshot: state {r.state} cannot be resumed")
        if problem := r.problem(self.horizon):
            raise LocalProtocolError(f"malformed session snapshot: {problem}")
        self.state, self.deadline, self.round, self.max_rounds = r.state, r.deadline, r.round, r.max_rounds
        self.terms, self.my_offers, self.their_offers = r.terms, list(r.my_offers), list(r.their_offers)
        self.my_last_digest, self.their_last_digest = r.my_last_digest, r.their_last_digest
        self.pending, self.pending_terms, self.pending_reason = r.pending, r.pending_terms, r.pending_reason
        self.agreement = r.agreement
        self.agreement_raw = None if r.agreement is None else agreement_bytes(r.agreement)
        self.my_signature, self.peer_signature = r.my_signature, r.peer_signature
        self.reason, self.detail = r.reason, r.detail
        self._stats.update({k: v for k, v in r.stats.items() if k in self._stats})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (private: reservation and margin) for :meth:`from_dict`; take it between
        calls. Raises ``LocalProtocolError`` in a transient state (never the case between calls)."""
        from negotiation.persist import session_to_dict

        return session_to_dict(self)

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        identity: Identity,
        guardian: Guardian | None,
        strategy: Strategy | None = None,
    ) -> Session:
        """Rebuild a session saved by :meth:`to_dict`, in its saved state (e.g. to :meth:`abort` it).

        Args:
            data: the snapshot.
            identity: our identity (must be the one that saved it).
            guardian: the current limits.
            strategy: the strategy; None rebuilds it from the registry by name and params.

        Raises:
            LocalProtocolError: a snapshot of another identity or version, or malformed.
        """
        from negotiation.persist import session_from_dict

        return session_from_dict(cls, data, identity, guardian, strategy)
