"""The agent's negotiations against a hostile counterparty, in process (real DealMakers, databases, sessions
and stream driver; in-memory streams; trio's MockClock).

Regression tests of issue 10: a replayed or colliding session id never touches a known deal; the commit
(ACCEPT, TRANSACTION_INIT, TRANSACTION_CONFIRM) is durable before it leaves, so a kill -9 at that instant
never loses a binding agreement; per-peer and per-intent caps; reopening backs off; a START's deadline
never outlives the handler.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import trio
import trio.testing

from metaspace.peer.db import AgentDB
from metaspace.peer.deals import IN_DOUBT, OPEN_TIMEOUT_S, DealMaker, handler_lifetime
from negotiation import Role, Send, Session, State, make_strategy
from negotiation.admission import AdmissionLimits
from negotiation.margin import DigestRng
from negotiation.types import CONFIRM_GRACE_S, Position
from p2p.framing import read_frame_or_eof, write_frame
from tests.deal_helpers import AgentDouble, MemoryNet, snapshot_db, wait_for
from wire.envelope import open_envelope, seal
from wire.intent import Action, Intent
from wire.messages import (
    NegotiationAccept,
    NegotiationOffer,
    NegotiationReject,
    NegotiationStart,
    Terms,
    TransactionConfirm,
    TransactionInit,
)

NEGOTIATE = "/metaspace/negotiate/1.0.0"


def run(main: Any) -> None:
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


async def _pair(nursery: trio.Nursery, tmp: Path, **limits: Any) -> tuple[MemoryNet, dict[str, Any]]:
    """A seller (asks $80, floor $55) and a buyer (ceiling $75), both dealers running."""
    net = MemoryNet(nursery)
    seller, buyer = AgentDouble("seller", tmp / "s.db", net), AgentDouble("buyer", tmp / "b.db", net)
    s_int, s_rec = seller.publish(Action.SELL, 8000, 5500)
    b_int, b_rec = buyer.publish(Action.BUY, None, 7500)
    seller.know(b_int, b_rec)
    match_id = buyer.add_match(b_int, s_rec)
    sdm = DealMaker(seller, limits=AdmissionLimits(**limits) if limits else None)  # type: ignore[arg-type]
    bdm = DealMaker(buyer)  # type: ignore[arg-type]
    await nursery.start(sdm.run)
    await nursery.start(bdm.run)
    return net, {"seller": seller, "buyer": buyer, "sdm": sdm, "bdm": bdm, "s_int": s_int, "b_int": b_int,
                 "match": match_id}  # fmt: skip


def _frames(net: MemoryNet) -> list[tuple[str, bytes]]:
    frames: list[tuple[str, bytes]] = []
    net.on_write.append(lambda who, data: frames.append((who, data)))
    return frames


def _agreed(agent: AgentDouble) -> bool:
    deals = agent.db.deals()
    return bool(deals) and deals[-1].state == State.AGREED and agent.db.agreement(deals[-1].id) is not None


def _raw_initiator(
    agent: AgentDouble, mine: Intent, seller_intent: Intent, seller: AgentDouble, **kw: Any
) -> Session:
    """A hand-driven buyer session (the hostile side of the tests)."""
    sid = (
        kw.pop("session_id", None)
        or hashlib.sha256(agent.peer_id.encode() + bytes([kw.pop("n", 0)])).digest()[:16]
    )
    return Session(
        agent.identity, Role.BUYER, peer=seller.identity.pubkey, my_intent=mine.id,
        peer_intent=seller_intent.id, terms=Terms(0, "USD", 4), position=Position(7500, 1),
        strategy=make_strategy("boulware"), guardian=None, now=agent.now(), initiator=True,
        rng=DigestRng(b"x"), session_id=sid, **kw,
    )  # fmt: skip


async def _open(agent: AgentDouble, seller: AgentDouble, first: bytes) -> tuple[Any, Any]:
    """Open a stream to the seller, send ``first``; returns (stream, the reply's message or None)."""
    stream = await agent.host.open_stream(seller.peer_id, NEGOTIATE)
    await write_frame(stream, first)
    reply = await read_frame_or_eof(stream)
    return stream, None if reply is None else open_envelope(reply).message


def _start_bytes(session: Session) -> bytes:
    return next(o.data for o in session.poll() if isinstance(o, Send))


# ------------------------------------------------------------------------------ replays and collisions


def test_a_replayed_or_colliding_session_id_never_touches_the_agreement(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            net, p = await _pair(nursery, tmp_path)
            frames = _frames(net)
            await p["bdm"].start(p["match"])
            await wait_for(lambda: _agreed(p["seller"]) and _agreed(p["buyer"]))
            seller: AgentDouble = p["seller"]
            deal = seller.db.deals()[0]
            stored = seller.db.agreement(deal.id)
            start = next(d for who, d in frames if isinstance(open_envelope(d).message, NegotiationStart))

            # 1. the buyer's own START, replayed: refused without an answer, nothing written
            _stream, reply = await _open(p["buyer"], seller, start)
            assert reply is None
            # 2. another peer opening with the agreed session id (its own valid START): refused too
            mallory = AgentDouble("mallory", tmp_path / "m.db", net)
            m_int, m_rec = mallory.publish(Action.BUY, None, 9000)
            seller.know(m_int, m_rec)
            forged = _raw_initiator(mallory, m_int, p["s_int"], seller, session_id=bytes.fromhex(deal.id))
            _stream, reply = await _open(mallory, seller, _start_bytes(forged))
            assert reply is None
            await trio.sleep(1)

            assert [d.id for d in seller.db.deals()] == [deal.id]
            after = seller.db.deals()[0]
            assert after.state == State.AGREED and seller.db.agreement(deal.id) == stored
            assert p["sdm"].admission.statistics()["refused"]["known_session"] >= 1
            nursery.cancel_scope.cancel()

    run(main)


# ----------------------------------------------------------------------- persisted before it is sent


def test_every_commitment_is_durable_before_it_leaves_and_survives_kill_9(tmp_path: Path) -> None:
    snaps: list[tuple[str, str, Path]] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            net, p = await _pair(nursery, tmp_path)
            agents = {p["seller"].peer_id: p["seller"], p["buyer"].peer_id: p["buyer"]}
            kinds = {NegotiationAccept: "accept", TransactionInit: "init", TransactionConfirm: "confirm"}

            def at_write(who: str, data: bytes) -> None:
                kind = kinds.get(type(open_envelope(data).message))
                if kind is not None:  # the writer is killed as the frame leaves: what is on its disk?
                    path = tmp_path / f"{kind}-{len(snaps)}.db"
                    snaps.append((kind, who, snapshot_db(agents[who].db_path, path)))

            net.on_write.append(at_write)
            await p["bdm"].start(p["match"])
            await wait_for(lambda: _agreed(p["seller"]) and _agreed(p["buyer"]))
            nursery.cancel_scope.cancel()

    run(main)
    assert sorted(k for k, _w, _p in snaps) == ["accept", "confirm", "init"]
    for kind, _who, path in snaps:
        db = AgentDB(path)
        (deal,) = db.deals()
        session = deal.data["session"]
        if kind == "accept":
            assert deal.state == State.WAIT_INIT
        elif kind == "init":  # our signed agreement is on record before the peer can countersign it
            assert deal.state == State.WAIT_CONFIRM and session["agreement"] and session["my_signature"]
        else:  # the co-signed agreement is on record before the peer gets our signature
            assert deal.state == State.AGREED and db.agreement(deal.id) is not None
        db.close()
        # restart from that disk: the agreement the peer may hold is never marked "aborted"
        again = AgentDouble("restarted", path, None)
        DealMaker(again).recover()  # type: ignore[arg-type]
        (after,) = again.db.deals()
        expected = {"accept": State.FAILED, "init": IN_DOUBT, "confirm": State.AGREED}[kind]
        assert after.state == expected, (kind, after.state)
        if kind == "init":
            assert after.data["reason"] == "in_doubt" and after.data["session"]["agreement"]
        if kind == "confirm":
            assert again.db.agreement(after.id) is not None


# ------------------------------------------------------------------------------------- caps and rates


def test_per_peer_and_per_intent_caps(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            net, p = await _pair(nursery, tmp_path, max_per_peer=2, max_per_intent=3)
            seller: AgentDouble = p["seller"]
            replies = []
            for n in range(3):  # one peer, three sessions at once (it never answers the counters)
                s = _raw_initiator(p["buyer"], p["b_int"], p["s_int"], seller, n=n)
                replies.append((await _open(p["buyer"], seller, _start_bytes(s)))[1])
            assert isinstance(replies[0], NegotiationOffer) and isinstance(replies[1], NegotiationOffer)
            assert isinstance(replies[2], NegotiationReject) and replies[2].reason == "peer_busy"
            others = []
            for name in ("b2", "b3"):  # more identities on the same intent
                other = AgentDouble(name, tmp_path / f"{name}.db", net)
                o_int, o_rec = other.publish(Action.BUY, None, 7500)
                seller.know(o_int, o_rec)
                s = _raw_initiator(other, o_int, p["s_int"], seller)
                others.append((await _open(other, seller, _start_bytes(s)))[1])
            assert isinstance(others[0], NegotiationOffer)
            assert isinstance(others[1], NegotiationReject) and others[1].reason == "intent_busy"
            assert p["sdm"].admission.active == 3
            nursery.cancel_scope.cancel()

    run(main)


def test_reopening_after_a_failed_session_backs_off(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            _net, p = await _pair(nursery, tmp_path)
            seller, buyer = p["seller"], p["buyer"]

            async def probe(n: int, walk_away: bool = True) -> Any:
                s = _raw_initiator(buyer, p["b_int"], p["s_int"], seller, n=n)
                stream, reply = await _open(buyer, seller, _start_bytes(s))
                if walk_away and isinstance(reply, NegotiationOffer):
                    sid = s.session_id
                    assert sid is not None
                    await write_frame(stream, seal(buyer.identity, NegotiationReject(sid, 2, "no")).raw)
                    await trio.sleep(1)
                return reply

            assert isinstance(await probe(1), NegotiationOffer)
            again = await probe(2)
            assert isinstance(again, NegotiationReject) and again.reason == "too_soon"
            await trio.sleep(61)  # the first back-off has passed
            assert isinstance(await probe(3), NegotiationOffer)
            await trio.sleep(61)  # ... but it doubled after the second failure
            late = await probe(4)
            assert isinstance(late, NegotiationReject) and late.reason == "too_soon"
            await trio.sleep(60)
            assert isinstance(await probe(5), NegotiationOffer)
            nursery.cancel_scope.cancel()

    run(main)


# ------------------------------------------------------------------------------- deadline and lifetime


def test_a_far_start_deadline_never_outlives_the_handler(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            net, p = await _pair(nursery, tmp_path)
            seller, buyer = p["seller"], p["buyer"]
            s = _raw_initiator(buyer, p["b_int"], p["s_int"], seller, duration=3600)
            start = open_envelope(_start_bytes(s)).message
            assert isinstance(start, NegotiationStart)
            far = NegotiationStart(**{**start.__dict__, "deadline": int(buyer.now() + 4200)})
            _stream, reply = await _open(buyer, seller, seal(buyer.identity, far).raw)
            assert isinstance(reply, NegotiationOffer)  # taken, then never answered: a silent peer
            (deal,) = seller.db.deals()
            assert deal.data["session"]["deadline"] <= deal.created + p["sdm"].duration
            await trio.sleep(handler_lifetime(p["sdm"].duration) + 60)
            (deal,) = seller.db.deals()
            assert deal.state == State.FAILED and deal.data["reason"] == "deadline"
            assert net.handler_timeouts == 0  # the session ended by itself, the guard never had to cut it
            nursery.cancel_scope.cancel()

    run(main)
    assert handler_lifetime(120) >= OPEN_TIMEOUT_S + 120 + CONFIRM_GRACE_S
