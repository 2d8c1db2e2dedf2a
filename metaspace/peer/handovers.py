"""The meeting after the deal, in the agent peer (spec Phase 4 "transaction", 6.2's 24 h expiry).

Theory of operation
-------------------
When a negotiation ends with a co-signed agreement, :meth:`Handovers.on_agreed` opens its arrangement
(:class:`negotiation.handover.Handover`, one per deal, persisted in ``handover.sqlite``). The seller's
agent then proposes a meeting by itself when its guardian would have closed the deal alone (the deal
was within the human's autonomy); otherwise its human is told to propose (``metaspace meet DEAL_ID
propose``, or the web page), and either side may. A proposal is built from both humans' preferences:
the neutral cell between the two published intent cells at the coarsest resolution either disclosed
(:func:`negotiation.meeting.meeting_cell`), tomorrow 14:00-16:00 in the machine's time zone unless the
human gives a window, and the human's own payment methods (``metaspace init --payment cash,venmo``).
The buyer's human is asked to propose only when no proposal came within ``BUYER_READY_AFTER_S``.

A received proposal is confirmed by the guardian when the deal was within its autonomy and one of the
proposed payment methods is among the human's; otherwise the human is asked (a notification, the page,
``metaspace meet DEAL_ID confirm``). A confirmed plan is written as an ``.ics`` calendar file (in the
human's language, with safety tips: :mod:`metaspace.peer.calendar`) and announced in both languages.

Messages go on ``/metaspace/handover/1.0.0``, one signed envelope per request, behind the firewall
(counted with negotiations), from the host that speaks for our side of the deal (a persona's for
``share: nothing``). Each is queued in the outbox *after* the snapshot that produced it is saved, sent
at once, and retried with back-off until the peer answers or 24 h passed; the peer answers ``ok``,
``later`` (it has not stored the agreement yet: retried) or ``refused: <reason>`` (dropped, and our
human is told why). A received message the core refuses is answered with its reason; nothing of it is
kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from metaspace.api.contract import BadRequest, Conflict, NotFound
from metaspace.peer.calendar import plan_ics
from metaspace.peer.handoverdb import HandoverDB, OutboxRow
from negotiation import Guardian, Verdict, verify_agreement
from negotiation.agreement import agreement_bytes
from negotiation.handover import (
    Confirmed,
    Ended,
    Handover,
    HandoverOutput,
    NeedsConfirmation,
    Plan,
    ProposalClosed,
)
from negotiation.handover_table import HState
from negotiation.meeting import cell_problem, choose_payment, meeting_cell, window_problem
from negotiation.types import Send
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PError, P2PHost
from wire.envelope import open_envelope
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.geo import cell_radius_km, center
from wire.handover import HANDOVER_TTL_S, HandoverPropose
from wire.identity import Identity, pubkey_to_text
from wire.intent import Intent
from wire.limits import MAX_ENVELOPE_BYTES
from wire.messages import Agreement

if TYPE_CHECKING:
    from metaspace.peer.agent import Agent

log = logging.getLogger(__name__)

HANDOVER_PROTOCOL = "/metaspace/handover/1.0.0"
#: One delivery: connect, send, wait for the answer.
HANDOVER_TIMEOUT_S = 10.0
#: How often timers and the outbox are looked at, and the retry back-off (first, longest).
TICK_S = 5.0
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 600.0
#: The default meeting window: the next day, from this local hour, this long.
DEFAULT_HOUR = 14
DEFAULT_WINDOW_S = 2 * 3600
#: How long the buyer's side waits for the seller's proposal before asking its own human to propose.
BUYER_READY_AFTER_S = 60.0
#: Replies of the protocol.
OK, LATER, REFUSED = b"ok", b"later", b"refused: "


class Handovers:
    """Meeting arrangements of one agent (see the module docstring).

    Args:
        agent: the agent (identity, config, databases, hosts, bus, firewall, clock).
        db: the handover database.
        ics_dir: where calendar files are written (None: not written, still served by the API).
    """

    def __init__(self, agent: Agent, db: HandoverDB, ics_dir: Path | None = None) -> None:
        self.agent = agent
        self.db = db
        self.ics_dir = ics_dir
        self._cores: dict[str, Handover] = {}
        self._wake = trio.Event()
        self._nursery: trio.Nursery | None = None
        self.stats = {"received": 0, "refused": 0, "sent": 0, "send_failures": 0, "peer_refusals": 0}

    # ------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Fire timers and deliver the outbox until cancelled (``Agent.serve`` serves the protocol)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            while True:
                await self.tick()
                with trio.move_on_after(TICK_S):
                    await self._wake.wait()
                self._wake = trio.Event()

    def serve(self, host: P2PHost, serving: bytes | None) -> None:
        """Take handover messages on ``host`` for the deals it speaks for (see ``Agent.serve``)."""

        async def on_request(peer_id: str, data: bytes) -> bytes:
            return await self._on_request(peer_id, data, serving)

        gate = self.agent.firewall.gate_rpc("negotiation", on_request)
        serve_rpc(
            host, HANDOVER_PROTOCOL, gate, max_request_bytes=MAX_ENVELOPE_BYTES, timeout=HANDOVER_TIMEOUT_S
        )

    async def tick(self) -> None:
        """Fire due timers of live arrangements, then try the outbox."""
        now = self.agent.now()
        for deal_id in self.db.deal_ids():
            core = self._cached(deal_id)
            timer = None if core is None else core.next_timer()
            if core is not None and timer is not None and now >= timer:
                core.handle_timer(now)
                await self._drain(deal_id, core)
        await self._deliver_due()

    # -------------------------------------------------------------------------------- the core

    def _party(self, agreement: Agreement) -> tuple[Identity, Intent | None]:
        """Our key in ``agreement`` and our intent of it (its persona signs for ``share: nothing``)."""
        for intent_id in (agreement.buyer_intent, agreement.seller_intent):
            own = self.agent.own_intent(intent_id)
            if own is not None and own.author in (agreement.buyer, agreement.seller):
                return self.agent.identity_for(own), own
        if self.agent.identity.pubkey in (agreement.buyer, agreement.seller):
            return self.agent.identity, None
        raise Conflict("this agent is not a party to that deal")

    def _other_cell(self, agreement: Agreement, mine: Intent | None) -> str | None:
        """The counterpart's published intent cell (from our match, or the intents we hold)."""
        if mine is None:
            return None
        if mine.id == agreement.buyer_intent and mine.author == agreement.buyer:
            other_id, other_key = agreement.seller_intent, agreement.seller
        else:
            other_id, other_key = agreement.buyer_intent, agreement.buyer
        for m in self.agent.db.matches(mine.id.hex()):
            other = open_envelope(m.other_record).message
            if isinstance(other, Intent) and other.id == other_id and other.author == other_key:
                return other.cell
        record = self.agent.known_record(other_key, other_id)
        if record is not None:
            other = open_envelope(record).message
            return other.cell if isinstance(other, Intent) else None
        return None

    def _cached(self, deal_id: str) -> Handover | None:
        try:
            return self.core(deal_id)
        except (NotFound, Conflict, LocalProtocolError) as exc:
            log.info("handover %s unavailable: %s", deal_id[:12], getattr(exc, "message", exc))
            return None

    def core(self, deal_id: str) -> Handover:
        """The arrangement of ``deal_id`` (restored from its snapshot, or new).

        Raises:
            NotFound: no such deal. Conflict: no co-signed agreement yet, or not ours.
        """
        if deal_id in self._cores:
            return self._cores[deal_id]
        stored = self.agent.db.agreement(deal_id)
        if stored is None or not stored.buyer_signature or not stored.seller_signature:
            if self.agent.db.deal(deal_id) is None:
                raise NotFound(f"no deal {deal_id}")
            raise Conflict(f"deal {deal_id} has no co-signed agreement: a meeting comes after the deal")
        try:
            agreement = verify_agreement(stored.agreement, stored.buyer_signature, stored.seller_signature)
        except RemoteProtocolError as exc:
            raise Conflict(f"the stored agreement of deal {deal_id} does not verify: {exc}") from None
        identity, mine = self._party(agreement)
        conf = self.agent.config
        my_cell = mine.cell if mine is not None else conf.home_cell
        if my_cell is None:
            raise Conflict("no location of yours is known for this deal (your intent is gone)")
        their_cell = self._other_cell(agreement, mine) or my_cell
        digest = hashlib.sha256(agreement_bytes(agreement)).digest()
        core = Handover(
            identity, agreement, digest, my_cell=my_cell, their_cell=their_cell, my_max_res=conf.max_h3_res
        )
        data = self.db.load(deal_id)
        if data is not None:
            core.restore(data)
        else:
            self.db.save(deal_id, str(core.state), core.to_dict(), self.agent.now())
        self._cores[deal_id] = core
        return core

    def _guardian_may_act(self, core: Handover) -> bool:
        """True when the deal was within the human's autonomy: the guardian may arrange it alone."""
        dealer = self.agent.dealer
        guardian = dealer.guardian if dealer is not None else Guardian.from_dict(self.agent.config.to_dict())
        mine = self._party(core.agreement)[1]
        decision = guardian.check_deal(core.agreement, core.role, mine.category if mine else None)
        return decision.verdict is Verdict.ALLOW

    # ---------------------------------------------------------------------------- after a deal

    def on_agreed(self, deal_id: str) -> None:
        """A deal was co-signed: open its arrangement; the seller's agent proposes if it may act alone."""
        if self._nursery is not None:
            self._nursery.start_soon(self._open, deal_id)

    async def _open(self, deal_id: str) -> None:
        core = self._cached(deal_id)
        if core is None or core.state is not HState.IDLE or core.next_number > 0:
            return
        if core.role.value != "seller":
            # the seller's agent usually proposes at once: tell the buyer's human only if nothing came
            await trio.sleep(BUYER_READY_AFTER_S)
            core = self._cached(deal_id)
            if core is None or core.state is not HState.IDLE or core.next_number > 0:
                return
        now = self.agent.now()
        if core.role.value == "seller" and self._guardian_may_act(core):
            try:
                s = self.suggestion(core, now)
                core.propose(s["cell"], s["start"], s["end"], s["payment"], now)
            except (LocalProtocolError, ValueError) as exc:
                log.info("no automatic meeting proposal for %s: %s", deal_id[:12], exc)
            else:
                await self._drain(deal_id, core)
                return
        self._emit({"kind": "handover_ready", "deal_id": deal_id, "role": core.role.value}, now)

    def suggestion(self, core: Handover, now: float) -> dict[str, Any]:
        """What our agent would propose: the neutral cell, tomorrow afternoon (local time), our payments.

        Raises:
            ValueError: our human never shares a location.
        """
        cell = meeting_cell(core.my_cell, core.their_cell, self.agent.config.max_h3_res)
        start = default_start(now)
        if start >= core.agreement.expires:
            start = int(now) // 3600 * 3600 + 2 * 3600
        return {"cell": cell, "start": start, "end": start + DEFAULT_WINDOW_S,
                "payment": list(self.agent.config.payment_methods)}  # fmt: skip

    # ------------------------------------------------------------------------ the human's moves

    async def propose(self, deal_id: str, cell: str | None, start: int | None, end: int | None,
                      payment: list[str] | None) -> dict[str, Any]:  # fmt: skip
        """Propose a meeting (missing parts from the suggestion).

        Raises:
            BadRequest: a time in the past, a window too long or too far ahead, a cell finer than our
                location setting allows or not between the two parties (the reason; nothing changes).
            NotFound, Conflict: no such deal, not agreed, or not possible now (with the reason).
        """
        core = self.core(deal_id)
        now = self.agent.now()
        try:
            s = self.suggestion(core, now)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        if start is not None:
            s["start"], s["end"] = start, end if end is not None else start + DEFAULT_WINDOW_S
        where = cell or s["cell"]
        problem = window_problem(s["start"], s["end"], now, core.agreement.expires) or cell_problem(
            where, core.my_cell, core.their_cell, self.agent.config.max_h3_res
        )
        if problem is not None:  # bad input (400), before the core's own check of the same rules
            raise BadRequest(f"cannot propose this meeting: {problem}")
        try:
            core.propose(where, s["start"], s["end"], payment or s["payment"], now)
        except LocalProtocolError as exc:  # not possible in this state, or no proposal left
            raise Conflict(f"cannot propose this meeting: {exc}") from None
        await self._drain(deal_id, core)
        return self.view(deal_id)

    async def confirm(self, deal_id: str, payment: str | None) -> dict[str, Any]:
        """Say yes to the other side's pending proposal (``payment``: default, the first we accept)."""
        core = self.core(deal_id)
        pending = core.pending
        if core.state is not HState.REVIEWING or pending is None:
            raise Conflict(
                f"no meeting proposal of the other side waits for you (state {core.state.lower()})"
            )
        chosen = (
            payment
            or choose_payment(pending.payment, self.agent.config.payment_methods)
            or pending.payment[0]
        )
        try:
            core.confirm(chosen, self.agent.now())
        except LocalProtocolError as exc:
            raise Conflict(f"cannot confirm: {exc}") from None
        await self._drain(deal_id, core)
        return self.view(deal_id)

    async def decline(self, deal_id: str, reason: str) -> dict[str, Any]:
        """Decline their proposal, withdraw ours, or cancel the confirmed meeting."""
        core = self.core(deal_id)
        try:
            core.decline(
                reason or ("cancelled" if core.state is HState.CONFIRMED else "declined"), self.agent.now()
            )
        except LocalProtocolError as exc:
            raise Conflict(f"nothing to decline: {exc}") from None
        await self._drain(deal_id, core)
        return self.view(deal_id)

    # ------------------------------------------------------------------------------- receiving

    async def _on_request(self, peer_id: str, data: bytes, serving: bytes | None) -> bytes:
        self.stats["received"] += 1
        env = open_envelope(data, MAX_ENVELOPE_BYTES)
        if pubkey_to_text(env.author) != peer_id:
            raise RemoteProtocolError("a handover message signed by another peer than the stream's")
        deal = getattr(env.message, "deal", None)
        if not isinstance(deal, bytes):
            raise RemoteProtocolError(f"{env.type.name} is not a handover message")
        deal_id = deal.hex()
        try:
            core = self.core(deal_id)
        except (NotFound, Conflict):
            return LATER  # not (yet) an agreement we hold: the sender retries, nothing is stored
        if not self._serves(core, serving):
            return LATER  # the deal is spoken for by another of our hosts: learn nothing here
        try:
            changed = core.handle_message(data, self.agent.now())
        except RemoteProtocolError as exc:
            self.stats["refused"] += 1
            log.info("handover message for %s refused: %s", deal_id[:12], exc)
            return REFUSED + str(exc)[:200].encode("utf-8", "replace")
        if changed:
            await self._drain(deal_id, core)
        return OK

    def _serves(self, core: Handover, serving: bytes | None) -> bool:
        mine = self._party(core.agreement)[1]
        if serving is None:
            return core.identity.pubkey == self.agent.identity.pubkey
        return mine is not None and mine.id == serving

    async def _drain(self, deal_id: str, core: Handover) -> None:
        """Persist the snapshot, then queue what it sends and act on what it says (until quiet)."""
        while True:
            outs = core.poll()
            now = self.agent.now()
            self.db.save(deal_id, str(core.state), core.to_dict(), now)
            if not outs:
                return
            for out in outs:
                self._act(deal_id, core, out, now)
            self._wake.set()

    def _act(self, deal_id: str, core: Handover, out: HandoverOutput, now: float) -> None:
        if isinstance(out, Send):
            self.db.queue(deal_id, out.data, now)
            msg = open_envelope(out.data).message
            if isinstance(msg, HandoverPropose):
                self._emit({"kind": "handover_proposed", "from": "me", **_proposal_fields(deal_id, msg)}, now)
        elif isinstance(out, NeedsConfirmation):
            p = out.proposal
            method = choose_payment(p.payment, self.agent.config.payment_methods)
            if method is not None and self._guardian_may_act(core):
                core.confirm(method, now)  # its outputs are drained by the caller's loop
                return
            self._emit({"kind": "handover_proposed", "from": "them", **_proposal_fields(deal_id, p)}, now)
        elif isinstance(out, Confirmed):
            self._write_ics(deal_id, core, out.plan, now)
            event = {"kind": "handover_confirmed", **_proposal_fields(deal_id, out.plan.proposal)}
            self._emit({**event, "payment": out.plan.payment}, now)
        elif isinstance(out, ProposalClosed) and out.reason != "superseded":
            self._emit(
                {"kind": "handover_closed", "deal_id": deal_id, "mine": out.mine, "reason": out.reason}, now
            )
        elif isinstance(out, Ended):
            reason = out.reason
            if core.state is HState.CANCELLED:
                reason = "cancelled_by_them" if out.by_peer else "cancelled_by_you"
            self._emit({"kind": "handover_ended", "deal_id": deal_id, "reason": reason}, now)

    def _emit(self, event: dict[str, Any], now: float) -> None:
        self.agent.bus.emit(event, now)

    # ------------------------------------------------------------------------------- sending

    async def _deliver_due(self) -> None:
        for row in self.db.due(self.agent.now()):
            await self._deliver(row)

    async def _deliver(self, row: OutboxRow) -> None:
        now = self.agent.now()
        if now - row.created > HANDOVER_TTL_S:
            self.db.delivered(row.id)  # too old to matter: the proposal it answers has lapsed
            return
        core = self._cached(row.deal_id)
        if core is None:
            self.db.delivered(row.id)
            return
        try:
            mine = self._party(core.agreement)[1]
            host = self.agent.host if mine is None else await self.agent.host_for(mine)
            reply = await rpc(host, pubkey_to_text(core.peer), HANDOVER_PROTOCOL, row.message,
                              timeout=HANDOVER_TIMEOUT_S, max_reply_bytes=1024)  # fmt: skip
        except (P2PError, RemoteProtocolError, Conflict) as exc:
            self.stats["send_failures"] += 1
            delay = min(RETRY_MAX_S, RETRY_FIRST_S * 2**row.attempts)
            self.db.retry_at(row.id, row.attempts + 1, now + delay)
            log.info(
                "handover message for %s not delivered (retry in %.0f s): %s", row.deal_id[:12], delay, exc
            )
            return
        if reply == LATER:
            self.db.retry_at(
                row.id, row.attempts + 1, now + min(RETRY_MAX_S, RETRY_FIRST_S * 2**row.attempts)
            )
            return
        self.db.delivered(row.id)
        self.stats["sent"] += 1
        if reply.startswith(REFUSED):
            self.stats["peer_refusals"] += 1
            detail = reply[len(REFUSED) :].decode("utf-8", "replace")
            self._emit({"kind": "handover_refused", "deal_id": row.deal_id, "detail": detail}, now)

    # ----------------------------------------------------------------------------------- views

    def _write_ics(self, deal_id: str, core: Handover, plan: Plan, now: float) -> None:
        if self.ics_dir is None:
            return
        self.ics_dir.mkdir(parents=True, exist_ok=True)
        (self.ics_dir / f"{deal_id}.ics").write_bytes(self.ics(deal_id, now))

    def ics(self, deal_id: str, now: float | None = None) -> bytes:
        """The calendar file of the confirmed meeting of ``deal_id``.

        Raises:
            NotFound, Conflict: no such deal, or no confirmed meeting.
        """
        core = self.core(deal_id)
        if core.plan is None or core.state is not HState.CONFIRMED:
            raise Conflict(f"deal {deal_id} has no confirmed meeting (state {core.state.lower()})")
        mine = self._party(core.agreement)[1]
        return plan_ics(
            core.plan, core.agreement, role=core.role.value, category=mine.category if mine else None,
            lang=self.agent.config.language, now=self.agent.now() if now is None else now,
        )  # fmt: skip

    def view(self, deal_id: str) -> dict[str, Any]:
        """The arrangement as the CLI and the page show it (what may be done next in ``can``)."""
        core = self.core(deal_id)
        now = self.agent.now()
        pending = core.pending
        can = {
            HState.IDLE: ["propose"], HState.PROPOSED: ["propose", "withdraw"],
            HState.REVIEWING: ["confirm", "decline", "propose"], HState.CONFIRMED: ["cancel", "ics"],
        }.get(core.state, [])  # fmt: skip
        out: dict[str, Any] = {
            "deal_id": deal_id, "state": core.state.lower(), "role": core.role.value,
            "reason": core.reason or None, "pending": None, "plan": None, "can": can,
            "undelivered": self.db.pending(deal_id),
            "payment_methods": list(self.agent.config.payment_methods),
            "ics_file": None,
        }  # fmt: skip
        written = None if self.ics_dir is None else self.ics_dir / f"{deal_id}.ics"
        if core.state is HState.CONFIRMED and written is not None and written.exists():
            out["ics_file"] = str(written)
        if pending is not None:
            side = "me" if core.state is HState.PROPOSED else "them"
            out["pending"] = {"from": side, **_proposal_fields(deal_id, pending)}
        if core.plan is not None:
            by = "me" if core.plan.proposer == core.identity.pubkey else "them"
            out["plan"] = {**_proposal_fields(deal_id, core.plan.proposal), "payment": core.plan.payment,
                           "proposed_by": by}  # fmt: skip
        if "propose" in can:
            try:
                s = self.suggestion(core, now)
                out["suggestion"] = {**s, **_cell_fields(s["cell"])}
            except ValueError:
                out["suggestion"] = None
        return out

    def list(self) -> list[dict[str, Any]]:
        return [self.view(d) for d in self.db.deal_ids() if self._cached(d) is not None]


def default_start(now: float) -> int:
    """Tomorrow at DEFAULT_HOUR in the machine's time zone (the agent runs on its human's computer)."""
    local = dt.datetime.fromtimestamp(now).astimezone()
    day = (local + dt.timedelta(days=1)).replace(hour=DEFAULT_HOUR, minute=0, second=0, microsecond=0)
    return int(day.timestamp())


def _cell_fields(cell: str) -> dict[str, Any]:
    lat, lon = center(cell)
    return {"cell": cell, "center": {"lat": round(lat, 4), "lon": round(lon, 4)},
            "size_km": round(2 * cell_radius_km(cell), 1)}  # fmt: skip


def _proposal_fields(deal_id: str, p: HandoverPropose) -> dict[str, Any]:
    return {"deal_id": deal_id, "number": p.number, **_cell_fields(p.cell), "start": p.start, "end": p.end,
            "payment": list(p.payment), "expires": p.expires}  # fmt: skip
