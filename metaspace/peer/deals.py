"""Negotiation in the agent peer: from a match to a co-signed agreement (or a clear "no deal").

Theory of operation
-------------------
Each of our intents has a *private position* kept only in the agent's database (see
:mod:`metaspace.peer.positions`: explicit seller floors, limits in the deal's currency): it is never
published and never sent. The session defends it with a private margin drawn from a generator keyed by
our identity secret and the intent id, so every session on one intent defends the same guarded limit
and a counterparty that reopens learns nothing new.

For a new match, the buyer's agent opens a session automatically when its human's autonomy allows
(anything but ``always_ask``); either human can start one with ``metaspace negotiate MATCH_ID``. The
initiator opens a stream on ``/metaspace/negotiate/1.0.0``; the responder accepts a NEGOTIATION_START
only for one of its own live intents, and only if :class:`negotiation.admission.Admission` admits it (a
known session id, too many sessions with that peer or on that intent, or a reopening too soon after a
failed one are refused, with a signed REJECT naming why unless it was a replay). The handler's lifetime
covers the longest session it can run (:func:`handler_lifetime`): the responder cuts a START's
deadline to its own duration.

``p2p.negotiate_driver.SessionRunner`` moves the bytes; the guardian inside the session decides whether
the agent may close alone or must wait in AWAITING_APPROVAL for ``metaspace approve`` / ``decline``.
Every session's :class:`~negotiation.types.Checkpoint` is saved (an SQLite ``synchronous=FULL`` commit)
before the ACCEPT, TRANSACTION_INIT or TRANSACTION_CONFIRM behind it is written, and agreements are
stored append-only. After a restart, a session that had sent its signed TRANSACTION_INIT without seeing
the CONFIRM is ``in_doubt`` (the peer may hold the co-signed agreement; ours stays on record); any other
interrupted session is ended as ``aborted`` (on the other side, by its deadline).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import TYPE_CHECKING, Any

import trio
from libp2p.abc import INetStream

from metaspace.api.contract import BadRequest, Conflict, Forbidden, NotFound, ServiceError, Unavailable
from metaspace.peer.db import AgreementRow, DealRow
from metaspace.peer.positions import intent_rng, position_for
from negotiation import (
    Agreed,
    Failed,
    Guardian,
    NeedsApproval,
    Role,
    Send,
    Session,
    State,
    make_strategy,
    peek_start,
)
from negotiation.admission import KNOWN_ID_TTL_S, Admission, AdmissionLimits, Refusal
from negotiation.guardian import role_of
from negotiation.types import CONFIRM_GRACE_S, Checkpoint, Output
from p2p.framing import write_frame
from p2p.host import P2PError, P2PHost, stream_peer_id
from p2p.negotiate_driver import NEGOTIATE_PROTOCOL, WRITE_TIMEOUT_S, SessionRunner
from wire.envelope import open_intent, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import pubkey_from_text, pubkey_to_text
from wire.intent import Intent
from wire.limits import MAX_ENVELOPE_BYTES
from wire.messages import NegotiationReject, NegotiationStart, Terms

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

#: Default strategy and how long a session may take (seconds, including the human's approval).
DEFAULT_STRATEGY = "linear"
SESSION_DURATION_S = 120.0
#: Our round horizon (and the cap we send, or the largest cap we accept from an initiator).
MAX_ROUNDS = 8
#: Opening a stream to the counterpart, and reading its first frame.
OPEN_TIMEOUT_S = 10.0
#: What a handler needs beyond the session's own timers: writing the last frame and closing.
HANDLER_SLACK_S = WRITE_TIMEOUT_S + 5.0
#: The deal state of a session that sent its signed TRANSACTION_INIT but never saw the CONFIRM before
#: the peer stopped: the other side may hold the co-signed agreement.
IN_DOUBT = "IN_DOUBT"
FINAL_STATES = (State.AGREED, State.FAILED, IN_DOUBT)


def handler_lifetime(duration: float) -> float:
    """How long the responder's stream handler may live: reading START, the longest session (the
    START's deadline is cut to ``duration``), the CONFIRM grace, and the last write."""
    return OPEN_TIMEOUT_S + duration + CONFIRM_GRACE_S + HANDLER_SLACK_S


class DealMaker:
    """The agent's negotiations: start, answer, approve, decline, list.

    Args:
        agent: the agent (database, identity, host, clock, event bus).
        strategy: the registered strategy name our sessions use.
        duration: seconds a session may last (the responder's cut for a START's deadline too).
        limits: admission caps (per peer, per intent, back-off); defaults suit one human's agent.
    """

    def __init__(
        self,
        agent: Agent,
        strategy: str = DEFAULT_STRATEGY,
        duration: float = SESSION_DURATION_S,
        limits: AdmissionLimits | None = None,
    ) -> None:
        self.agent = agent
        self.strategy = strategy
        self.duration = duration
        self.guardian = Guardian.from_dict(agent.config.to_dict())
        self.admission = Admission(limits)
        self._runners: dict[str, SessionRunner] = {}
        self._shown: dict[str, tuple[int, int]] = {}
        self._nursery: trio.Nursery | None = None

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.recover()
        self.serve(self.agent.host, None)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def recover(self) -> None:
        """After a restart: end the sessions that were open, and reload what admission must remember.

        A session saved in WAIT_CONFIRM had sent its signed TRANSACTION_INIT (it is saved before the
        send): it becomes ``in_doubt`` with its agreement kept in its data. Any other open session is
        ended as ``aborted``. Recent session ids are refused again, and failed sessions still count for
        the reopening back-off.
        """
        now = self.agent.now()
        for deal in self.agent.db.deals():
            snap = deal.data.get("session") or {}
            if deal.state not in FINAL_STATES:
                in_doubt = deal.state == State.WAIT_CONFIRM
                state, reason = (IN_DOUBT, "in_doubt") if in_doubt else (str(State.FAILED), "aborted")
                data = {**deal.data, "reason": reason, "needs_approval": False}
                self.agent.db.save_deal(deal.id, state, data, now)
                self.agent.bus.emit({"kind": "deal_failed", "deal_id": deal.id, "reason": reason}, now)
                deal = DealRow(
                    deal.id, deal.match_id, deal.role, deal.counterparty, state, data, deal.created, now
                )
            self._remember(deal, snap, now)

    def _remember(self, deal: DealRow, snap: dict[str, Any], now: float) -> None:
        if now - deal.created < KNOWN_ID_TTL_S:
            self.admission.remember_id(bytes.fromhex(deal.id), deal.created)
        if snap.get("initiator") is False and deal.state != State.AGREED and snap.get("my_intent"):
            try:
                peer = pubkey_from_text(deal.counterparty)
            except (LocalProtocolError, ValueError):
                return
            self.admission.record_outcome(peer, bytes.fromhex(snap["my_intent"]), False, deal.updated)

    def serve(self, host: P2PHost, serving: bytes | None) -> None:
        """Take negotiations on ``host`` for the intents it speaks for (``serving``: a persona's one
        intent; None: the agent's own host, for the intents signed by the agent's key)."""

        async def on_stream(stream: INetStream) -> None:
            await self._on_stream(stream, serving)

        gated = self.agent.firewall.gate_stream("negotiation", on_stream)
        host.set_handler(NEGOTIATE_PROTOCOL, gated, timeout=handler_lifetime(self.duration))

    def active_intents(self) -> set[bytes]:
        """Our intents with a negotiation running."""
        return {r.session.my_intent for r in self._runners.values()}

    def forget_finished(self) -> None:
        """Drop the offer counters of sessions that ended (the agent's housekeeping calls this)."""
        for deal_id in [d for d in self._shown if d not in self._runners]:
            del self._shown[deal_id]

    # ------------------------------------------------------------------------------------- starting

    async def on_new_match(self, match_id: str) -> None:
        """Auto-start as the buyer when the human's autonomy allows it."""
        if self.agent.config.autonomy == "always_ask":
            return
        m = self.agent.db.match(match_id)
        if m is None:
            return
        mine = self.agent.own_intent(bytes.fromhex(m.intent_id))
        if mine is None or role_of(mine.action) is not Role.BUYER:
            return
        if any(d.match_id == match_id for d in self.agent.db.deals()):
            return
        if self._nursery is not None:
            self._nursery.start_soon(self._start_quietly, match_id)

    async def _start_quietly(self, match_id: str) -> None:
        """An automatic start: whatever refuses it (a blocked peer, limits, the network) is logged, never
        raised into the dealer's nursery (that would stop the daemon)."""
        try:
            await self.start(match_id)
        except ServiceError as exc:
            log.info("automatic negotiation for %s not started: %s", match_id, exc.message)
        except (LocalProtocolError, RemoteProtocolError, P2PError) as exc:
            log.warning("automatic negotiation for %s failed: %s", match_id, exc)

    async def start(self, match_id: str) -> dict[str, Any]:
        """Open a negotiation for a match (``metaspace negotiate MATCH_ID``)."""
        if self._nursery is None:
            raise Unavailable("negotiation is not running")
        m = self.agent.db.match(match_id)
        if m is None:
            raise NotFound(f"no match {match_id}")
        for d in self.agent.db.deals():
            if d.match_id == match_id and d.state != State.FAILED:
                raise Conflict(f"match {match_id} already has deal {d.id} ({d.state})")
        mine = self.agent.own_intent(bytes.fromhex(m.intent_id))
        if mine is None or not mine.is_live(self.agent.now()):
            raise Conflict("your intent for this match is no longer live")
        _env, other = open_intent(m.other_record)
        if not other.is_live(self.agent.now()):
            raise Conflict("the other intent has expired or was withdrawn")
        if self.agent.firewall.blocked_key(other.author):
            raise Forbidden(
                f"you blocked this agent; `metaspace unblock {pubkey_to_text(other.author)}` first"
            )
        session = self._new_session(mine, other, initiator=True)
        assert session.session_id is not None
        refusal = self.admission.check(
            other.author, mine.id, session.session_id, self.agent.now(), remote=False
        )
        if refusal is not None:
            raise Unavailable(f"too many negotiations at once ({refusal[0]}); try again later")
        peer = pubkey_to_text(other.author)
        try:
            host = await self.agent.host_for(mine)
            stream = await host.open_stream(
                peer, NEGOTIATE_PROTOCOL, timeout=OPEN_TIMEOUT_S, addrs=other.contact
            )
        except P2PError as exc:
            raise Unavailable(f"could not reach the other agent: {exc}") from None
        deal_id, runner = self._launch(session, stream, match_id)
        self._nursery.start_soon(self._run, deal_id, runner)
        return self._view(self.agent.db.deal(deal_id))

    def _new_session(self, mine: Intent, other: Intent, *, initiator: bool) -> Session:
        priced = mine.price or other.price
        currency = priced.currency if priced is not None else self.agent.config.currency
        limit = self.agent.db.private_limit(mine.id.hex())
        private = self.agent.identity  # keys our private randomness (margin, opening)
        ident = self.agent.identity_for(mine)  # signs: the agent's key, or the intent's persona's
        position = position_for(mine, other, limit, currency, private, self.agent.config.currency)
        terms = Terms(
            price_minor=position.opening, currency=currency, quantity=min(mine.quantity, other.quantity)
        )
        try:
            return Session(
                ident, role_of(mine.action), peer=other.author, my_intent=mine.id,
                peer_intent=other.id if initiator else None, terms=terms, position=position,
                strategy=make_strategy(self.strategy), guardian=self.guardian, now=self.agent.now(),
                initiator=initiator, rng=intent_rng(private, mine.id),
                session_id=os.urandom(16) if initiator else None,
                max_rounds=MAX_ROUNDS, duration=self.duration, category=mine.category,
            )  # fmt: skip
        except LocalProtocolError as exc:
            raise BadRequest(f"cannot negotiate: {exc}") from None

    def _launch(
        self, session: Session, stream: INetStream, match_id: str | None
    ) -> tuple[str, SessionRunner]:
        """Register and persist a new session (before any of its messages is sent).

        Raises:
            Conflict: its session id is already known (nothing is written, the known deal is untouched).
        """
        assert session.session_id is not None
        deal_id = session.session_id.hex()
        now = self.agent.now()
        row = DealRow(deal_id, match_id, str(session.role), pubkey_to_text(session.peer), str(session.state),
                      self._data(session), now, now)  # fmt: skip
        if deal_id in self._runners or not self.agent.db.create_deal(row):
            raise Conflict(f"session {deal_id} is already known")
        runner = SessionRunner(session, stream, self.agent.now, self._on_output)
        self._runners[deal_id] = runner
        self.admission.opened(
            session.peer, session.my_intent, session.session_id, now, remote=not session.initiator
        )
        if match_id:
            self.agent.db.update_match(match_id, state="negotiating")
        if self.agent.reputations is not None:  # a persona's counterpart: from the DHT only
            mine = self.agent.own_intent(session.my_intent)
            private = mine is not None and self.agent.is_private(mine)
            self.agent.reputations.refresh_soon(session.peer, ask=not private)
        return deal_id, runner

    async def _run(self, deal_id: str, runner: SessionRunner) -> None:
        try:
            await runner.run()
        finally:
            self._runners.pop(deal_id, None)
            session = runner.session
            assert session.session_id is not None
            self.admission.closed(session.session_id, session.state is State.AGREED, self.agent.now())

    async def _on_stream(self, stream: INetStream, serving: bytes | None = None) -> None:
        """A counterpart opens a negotiation: admit it, check its START against one of our live intents
        that this host speaks for (``serving``: see :meth:`serve`)."""
        from p2p.framing import read_frame

        if self.admission.active >= self.admission.limits.max_sessions:
            raise Unavailable("too many negotiations")
        with trio.fail_after(OPEN_TIMEOUT_S):
            first = await read_frame(stream, MAX_ENVELOPE_BYTES)
        author, start = peek_start(first)
        if pubkey_to_text(author) != stream_peer_id(stream):
            raise RemoteProtocolError("NEGOTIATION_START signed by another peer than the stream's")
        now = self.agent.now()
        mine = None
        for intent_id in (start.seller_intent, start.buyer_intent):
            candidate = self.agent.served_intent(intent_id, serving)
            if candidate is not None and candidate.is_live(now):
                mine = candidate
        if mine is None:
            raise RemoteProtocolError("NEGOTIATION_START for none of our live intents")
        refusal = self.admission.check(author, mine.id, start.session, now, remote=True)
        if refusal is None and self.agent.db.deal(start.session.hex()) is not None:
            refusal = (Refusal.KNOWN_SESSION, None)
        if refusal is not None:
            self.agent.firewall.note_refused(pubkey_to_text(author))  # a peer that keeps trying floods
            await self._refuse(stream, start, refusal[0])
            return
        other_id = start.buyer_intent if mine.id == start.seller_intent else start.seller_intent
        other = self._other_intent(mine, other_id, author)
        session = self._new_session(mine, other, initiator=False)
        session.handle_message(first, self.agent.now())
        match = next((m for m in self.agent.db.matches(mine.id.hex()) if m.other_record and
                      open_intent(m.other_record)[1].id == other_id), None)  # fmt: skip
        if session.session_id is None:
            return  # nothing we could even answer to
        if session.done:  # a START we can't take (BAD_START): answer it, keep nothing
            self.admission.remember_id(session.session_id, now)
            for out in session.poll():
                if isinstance(out, Send):
                    with trio.move_on_after(WRITE_TIMEOUT_S):
                        await write_frame(stream, out.data, MAX_ENVELOPE_BYTES)
            return
        deal_id, runner = self._launch(session, stream, match.id if match else None)
        await self._run(deal_id, runner)  # the handler owns the stream until the session ends

    async def _refuse(self, stream: INetStream, start: NegotiationStart, refusal: Refusal) -> None:
        """Tell an initiator why its session was not admitted (a signed REJECT), except a replay."""
        log.info("negotiation %s refused: %s", start.session.hex()[:12], refusal)
        if refusal is Refusal.KNOWN_SESSION:
            raise RemoteProtocolError("a known session id (replayed NEGOTIATION_START)")
        reject = seal(self.agent.identity, NegotiationReject(start.session, 1, str(refusal)))
        with trio.move_on_after(WRITE_TIMEOUT_S):
            await write_frame(stream, reject.raw, MAX_ENVELOPE_BYTES)

    def _other_intent(self, mine: Intent, other_id: bytes, author: bytes) -> Intent:
        for m in self.agent.db.matches(mine.id.hex()):
            _env, other = open_intent(m.other_record)
            if other.id == other_id and other.author == author:
                return other
        record = self.agent.known_record(author, other_id)
        if record is not None:
            return open_intent(record)[1]
        raise RemoteProtocolError("NEGOTIATION_START for an intent we have not matched")

    # ------------------------------------------------------------------------------------ outputs

    async def _on_output(self, session: Session, out: Output | None) -> None:
        if session.session_id is None:
            return
        deal_id = session.session_id.hex()
        now = self.agent.now()
        bus = self.agent.bus
        row = self.agent.db.deal(deal_id)
        if out is None or isinstance(out, Checkpoint):
            # a Checkpoint comes right before a committing message: this commit is durable before it
            # is sent (the driver hands outputs on in order)
            if out is None:
                self._emit_offers(deal_id, session, now)
            if row is not None:
                self.agent.db.save_deal(row.id, str(session.state), self._data(session), now)
            return
        if isinstance(out, NeedsApproval):
            bus.emit(
                {"kind": "approval_needed", "deal_id": deal_id, "role": str(out.role),
                 "price": _money(out.terms.price_minor, out.terms.currency),
                 "quantity": out.terms.quantity, "reason": out.reason,
                 "limit": {"amount_minor": self.agent.config.spend_limit_minor or 0,
                           "currency": self.agent.config.currency}},
                now,
            )  # fmt: skip
        elif isinstance(out, Agreed) and row is not None:
            self._emit_offers(deal_id, session, now)
            blob = out.agreement_bytes
            self.agent.db.add_agreement(
                AgreementRow(row.id, blob, out.buyer_signature, out.seller_signature, now)
            )
            self.agent.db.save_deal(row.id, str(State.AGREED), self._data(session), now)
            if row.match_id:
                self.agent.db.update_match(row.match_id, state="agreed")
            if self.agent.handovers is not None:
                self.agent.handovers.on_agreed(deal_id)  # arrange the meeting (metaspace.peer.handovers)
            t = out.agreement.terms
            bus.emit(
                {"kind": "deal_closed", "deal_id": deal_id, "role": str(session.role),
                 "price": _money(t.price_minor, t.currency), "quantity": t.quantity,
                 "total": _money(t.price_minor * t.quantity, t.currency, per_unit=False),
                 "rounds": _offers(session), "agreement_sha256": _sha(blob)},
                now,
            )  # fmt: skip
        elif isinstance(out, Failed):
            self._emit_offers(deal_id, session, now)
            if row is not None and row.match_id:
                self.agent.db.update_match(row.match_id, state="no deal")
            bus.emit(
                {"kind": "deal_failed", "deal_id": deal_id, "reason": str(out.reason), "detail": out.detail,
                 "rounds": _offers(session)},
                now,
            )  # fmt: skip

    def _emit_offers(self, deal_id: str, session: Session, now: float) -> None:
        mine_seen, theirs_seen = self._shown.get(deal_id, (0, 0))
        currency = session.template.currency
        first_mine = 0 if session.initiator else 1  # the initiator speaks on even rounds
        for i in range(mine_seen, len(session.my_offers)):
            self.agent.bus.emit(
                {"kind": "offer", "deal_id": deal_id, "from": "me", "round": 2 * i + first_mine,
                 "price": _money(session.my_offers[i], currency),
                 "quantity": session.template.quantity},
                now,
            )  # fmt: skip
        for i in range(theirs_seen, len(session.their_offers)):
            self.agent.bus.emit(
                {"kind": "offer", "deal_id": deal_id, "from": "them", "round": 2 * i + 1 - first_mine,
                 "price": _money(session.their_offers[i], currency),
                 "quantity": session.template.quantity},
                now,
            )  # fmt: skip
        self._shown[deal_id] = (len(session.my_offers), len(session.their_offers))

    @staticmethod
    def _data(session: Session) -> dict[str, Any]:
        pending = session.approval_request()
        terms = session.terms or session.template
        return {
            "session": session.to_dict(),
            "my_offers": list(session.my_offers),
            "their_offers": list(session.their_offers),
            "currency": terms.currency,
            "quantity": terms.quantity,
            "needs_approval": pending is not None,
            "pending_price": pending.terms.price_minor if pending is not None else None,
            "reason": str(session.reason) if session.reason else None,
            "agreed_price": session.agreement.terms.price_minor if session.agreement is not None else None,
            "signatures": _signatures(session),
        }

    # ------------------------------------------------------------------------- human decisions

    def _runner(self, deal_id: str) -> SessionRunner:
        runner = self._runners.get(deal_id)
        if runner is None:
            if self.agent.db.deal(deal_id) is None:
                raise NotFound(f"no deal {deal_id}")
            raise Conflict(f"deal {deal_id} is not waiting for you")
        if runner.session.approval_request() is None:
            raise Conflict(f"deal {deal_id} is not waiting for approval (state {runner.session.state})")
        return runner

    async def approve(self, deal_id: str) -> dict[str, Any]:
        runner = self._runner(deal_id)
        runner.session.approve(self.agent.now())
        runner.poke()
        return {"id": deal_id, "approved": True}

    async def decline(self, deal_id: str) -> dict[str, Any]:
        runner = self._runner(deal_id)
        runner.session.decline(self.agent.now())
        runner.poke()
        return {"id": deal_id, "declined": True}

    # ----------------------------------------------------------------------------------- views

    async def list(self) -> list[dict[str, Any]]:
        return [self._view(d) for d in self.agent.db.deals()]

    def _view(self, d: DealRow | None) -> dict[str, Any]:
        if d is None:
            raise NotFound("no such deal")
        data = d.data
        price = data.get("pending_price")
        if price is None:
            offers = data.get("their_offers") or data.get("my_offers") or []
            price = offers[-1] if offers else None
        if data.get("agreed_price") is not None:
            price = data["agreed_price"]
        stored = self.agent.db.agreement(d.id)
        signatures = data.get("signatures")
        if stored is not None and stored.buyer_signature and stored.seller_signature:
            signatures = {"buyer": stored.buyer_signature.hex(), "seller": stored.seller_signature.hex()}
        return {
            "id": d.id,
            "match_id": d.match_id,
            "role": d.role,
            "state": d.state.lower(),
            "price": None if price is None else {"amount_minor": price, "currency": data.get("currency"),
                                                 "per_unit": True},
            "quantity": data.get("quantity"),
            "counterparty": d.counterparty,
            "needs_approval": bool(data.get("needs_approval")) and d.id in self._runners,
            "reason": data.get("reason"),
            "rounds": {"mine": data.get("my_offers", []), "theirs": data.get("their_offers", [])},
            "agreement": stored.agreement.hex() if stored is not None else None,
            "signatures": signatures,
            "peer": self.agent.peer_info(d.counterparty),
        }  # fmt: skip


def _signatures(session: Session) -> dict[str, str] | None:
    """Both parties' signatures over the agreement, by role, once both are held."""
    if session.my_signature is None or session.peer_signature is None:
        return None
    mine, theirs = session.my_signature.hex(), session.peer_signature.hex()
    if session.role is Role.SELLER:
        return {"seller": mine, "buyer": theirs}
    return {"buyer": mine, "seller": theirs}


def _offers(session: Session) -> int:
    """Offers exchanged (what a human calls rounds)."""
    return len(session.my_offers) + len(session.their_offers)


def _money(amount_minor: int, currency: str, *, per_unit: bool = True) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency, "per_unit": per_unit}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
