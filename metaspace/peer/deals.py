"""Negotiation in the agent peer: from a match to a co-signed agreement (or a clear "no deal").

Theory of operation
-------------------
Each of our intents has a *private position* kept only in the agent's database: the reservation price
(seller: the lowest unit price the human accepts; buyer: the highest) and the opening offer. It is never
published and never sent; the session and its strategy keep every offer on the right side of it.

For a new match, the buyer's agent opens a session automatically when its human's autonomy allows
(anything but ``always_ask``); either human can start one with ``metaspace negotiate MATCH_ID``. The
initiator opens a stream on ``/metaspace/negotiate/1.0.0``; the responder accepts a NEGOTIATION_START
only for one of its own live intents. ``p2p.negotiate_driver.SessionRunner`` moves the bytes; the
guardian inside the session decides whether the agent may close alone or must wait in
AWAITING_APPROVAL for ``metaspace approve`` / ``decline``. Every drained batch is saved, so a restarted
peer lists its deals; a session interrupted by a restart is ended (on the other side, by its deadline).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import TYPE_CHECKING, Any

import trio
from libp2p.abc import INetStream

from metaspace.api.contract import BadRequest, Conflict, NotFound, Unavailable
from metaspace.peer.db import DealRow
from negotiation import (
    Agreed,
    Failed,
    Guardian,
    NeedsApproval,
    Position,
    Role,
    Session,
    State,
    make_strategy,
    peek_start,
)
from negotiation.guardian import role_of
from negotiation.types import Output
from p2p.host import P2PError, stream_peer_id
from p2p.negotiate_driver import NEGOTIATE_PROTOCOL, SessionRunner
from wire.envelope import open_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import pubkey_to_text
from wire.intent import Intent
from wire.messages import Terms

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

#: Default strategy and how long a session may take (seconds, including the human's approval).
DEFAULT_STRATEGY = "linear"
SESSION_DURATION_S = 120.0
MAX_ROUNDS = 8
#: Without a stated limit: a seller's floor is this share of its asking price; a buyer opens at this
#: share of its ceiling.
DEFAULT_FLOOR_SHARE = 0.8
BUYER_OPENING_SHARE = 0.8
#: Sessions running at once (a peer can't make us hold unbounded state).
MAX_ACTIVE_SESSIONS = 64
#: Opening a stream to the counterpart.
OPEN_TIMEOUT_S = 10.0


def position_for(mine: Intent, other: Intent, reservation: int | None) -> Position:
    """Our private position for ``mine`` against ``other`` (unit prices in minor units).

    Raises:
        BadRequest: no price anywhere to negotiate from.
    """
    my_price = mine.price.unit_amount(mine.quantity) if mine.price else None
    their_price = other.price.unit_amount(other.quantity) if other.price else None
    if role_of(mine.action) is Role.SELLER:
        ask = my_price if my_price is not None else their_price
        if ask is None and reservation is None:
            raise BadRequest("neither intent has a price: set one to negotiate")
        floor = reservation if reservation is not None else int((ask or 0) * DEFAULT_FLOOR_SHARE)
        return Position(reservation=floor, opening=max(floor, ask or floor))
    ceiling = reservation if reservation is not None else (my_price if my_price is not None else their_price)
    if ceiling is None:
        raise BadRequest("neither intent has a price: set one to negotiate")
    opening = int(ceiling * BUYER_OPENING_SHARE)
    if their_price is not None:
        opening = min(opening, their_price)
    return Position(reservation=ceiling, opening=max(0, opening))


class DealMaker:
    """The agent's negotiations: start, answer, approve, decline, list."""

    def __init__(
        self, agent: Agent, strategy: str = DEFAULT_STRATEGY, duration: float = SESSION_DURATION_S
    ) -> None:
        self.agent = agent
        self.strategy = strategy
        self.duration = duration
        self.guardian = Guardian.from_dict(agent.config.to_dict())
        self._runners: dict[str, SessionRunner] = {}
        self._shown: dict[str, tuple[int, int]] = {}
        self._nursery: trio.Nursery | None = None

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self._close_interrupted()
        self.agent.host.set_handler(NEGOTIATE_PROTOCOL, self._on_stream, timeout=self.duration + 30)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def _close_interrupted(self) -> None:
        """Sessions that were open when the peer stopped end now, cleanly, as ABORTED."""
        now = self.agent.now()
        for deal in self.agent.db.deals():
            if deal.state in (State.AGREED, State.FAILED):
                continue
            data = dict(deal.data)
            data.update(state=str(State.FAILED), reason="aborted", needs_approval=False)
            self.agent.db.save_deal(
                DealRow(deal.id, deal.match_id, deal.role, deal.counterparty, str(State.FAILED), data,
                        deal.agreement, deal.created, now)
            )  # fmt: skip
            self.agent.bus.emit({"kind": "deal_failed", "deal_id": deal.id, "reason": "aborted"}, now)

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
        try:
            await self.start(match_id)
        except (BadRequest, Conflict, Unavailable, NotFound) as exc:
            log.info("automatic negotiation for %s not started: %s", match_id, exc.message)

    async def start(self, match_id: str) -> dict[str, Any]:
        """Open a negotiation for a match (``metaspace negotiate MATCH_ID``)."""
        if self._nursery is None:
            raise Unavailable("negotiation is not running")
        if len(self._runners) >= MAX_ACTIVE_SESSIONS:
            raise Unavailable("too many negotiations at once")
        m = self.agent.db.match(match_id)
        if m is None:
            raise NotFound(f"no match {match_id}")
        for d in self.agent.db.deals():
            if d.match_id == match_id and d.state not in (State.FAILED,):
                raise Conflict(f"match {match_id} already has deal {d.id} ({d.state})")
        mine = self.agent.own_intent(bytes.fromhex(m.intent_id))
        if mine is None or not mine.is_live(self.agent.now()):
            raise Conflict("your intent for this match is no longer live")
        _env, other = open_intent(m.other_record)
        if not other.is_live(self.agent.now()):
            raise Conflict("the other intent has expired or was withdrawn")
        session = self._new_session(mine, other, initiator=True)
        peer = pubkey_to_text(other.author)
        try:
            stream = await self.agent.host.open_stream(peer, NEGOTIATE_PROTOCOL, timeout=OPEN_TIMEOUT_S)
        except P2PError as exc:
            raise Unavailable(f"could not reach the other agent: {exc}") from None
        deal_id, runner = self._launch(session, stream, match_id)
        self._nursery.start_soon(self._run, deal_id, runner)
        return self._view(self.agent.db.deal(deal_id))

    def _new_session(self, mine: Intent, other: Intent, *, initiator: bool) -> Session:
        role = role_of(mine.action)
        reservation = self.agent.db.reservation(mine.id.hex())
        position = position_for(mine, other, reservation)
        priced = mine.price or other.price
        currency = priced.currency if priced is not None else self.agent.config.currency
        terms = Terms(
            price_minor=position.opening, currency=currency, quantity=min(mine.quantity, other.quantity)
        )
        try:
            return Session(
                self.agent.identity, role, peer=other.author, my_intent=mine.id,
                peer_intent=other.id if initiator else None, terms=terms, position=position,
                strategy=make_strategy(self.strategy), guardian=self.guardian, now=self.agent.now(),
                initiator=initiator, session_id=os.urandom(16) if initiator else None,
                max_rounds=MAX_ROUNDS, duration=self.duration, category=mine.category,
            )  # fmt: skip
        except LocalProtocolError as exc:
            raise BadRequest(f"cannot negotiate: {exc}") from None

    def _launch(
        self, session: Session, stream: INetStream, match_id: str | None
    ) -> tuple[str, SessionRunner]:
        """Register and persist a session; the caller runs the returned runner."""
        assert session.session_id is not None
        deal_id = session.session_id.hex()
        runner = SessionRunner(session, stream, self.agent.now, self._on_output)
        self._runners[deal_id] = runner
        now = self.agent.now()
        self.agent.db.save_deal(
            DealRow(deal_id, match_id, str(session.role), pubkey_to_text(session.peer), str(session.state),
                    self._data(session), None, now, now)
        )  # fmt: skip
        if match_id:
            self.agent.db.update_match(match_id, state="negotiating")
        return deal_id, runner

    async def _run(self, deal_id: str, runner: SessionRunner) -> None:
        try:
            await runner.run()
        finally:
            self._runners.pop(deal_id, None)

    async def _on_stream(self, stream: INetStream) -> None:
        """A counterpart opens a negotiation: check its START against one of our live intents."""
        from p2p.framing import read_frame

        if len(self._runners) >= MAX_ACTIVE_SESSIONS:
            raise Unavailable("too many negotiations")
        with trio.fail_after(OPEN_TIMEOUT_S):
            first = await read_frame(stream)
        author, start = peek_start(first)
        if pubkey_to_text(author) != stream_peer_id(stream):
            raise RemoteProtocolError("NEGOTIATION_START signed by another peer than the stream's")
        mine = None
        for intent_id in (start.seller_intent, start.buyer_intent):
            candidate = self.agent.own_intent(intent_id)
            if candidate is not None and candidate.is_live(self.agent.now()):
                mine = candidate
        if mine is None:
            raise RemoteProtocolError("NEGOTIATION_START for none of our live intents")
        other_id = start.buyer_intent if mine.id == start.seller_intent else start.seller_intent
        other = self._other_intent(mine, other_id, author)
        session = self._new_session(mine, other, initiator=False)
        session.handle_message(first, self.agent.now())
        match = next((m for m in self.agent.db.matches(mine.id.hex()) if m.other_record and
                      open_intent(m.other_record)[1].id == other_id), None)  # fmt: skip
        if session.session_id is None:
            return  # nothing we could even answer to
        deal_id, runner = self._launch(session, stream, match.id if match else None)
        await self._run(deal_id, runner)  # the handler owns the stream until the session ends

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
        if out is None:
            self._emit_offers(deal_id, session, now)
            if row is not None:
                self.agent.db.save_deal(
                    DealRow(row.id, row.match_id, row.role, row.counterparty, str(session.state),
                            self._data(session), row.agreement, row.created, now)
                )  # fmt: skip
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
            self.agent.db.save_deal(
                DealRow(row.id, row.match_id, row.role, row.counterparty, str(State.AGREED),
                        self._data(session), blob, row.created, now)
            )  # fmt: skip
            if row.match_id:
                self.agent.db.update_match(row.match_id, state="agreed")
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
            "agreement": d.agreement.hex() if d.agreement else None,
            "signatures": data.get("signatures"),
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
