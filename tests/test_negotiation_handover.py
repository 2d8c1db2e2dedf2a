"""The handover core (negotiation.handover): two in-process sides with an explicit ``now``."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation.agreement import agreement_bytes
from negotiation.handover import Confirmed, Ended, Handover, NeedsConfirmation, ProposalClosed
from negotiation.handover_table import REMOTE_INPUTS, TRANSITIONS, HInput, HState
from negotiation.meeting import choose_payment, meeting_cell, midpoint
from negotiation.types import Send
from wire.envelope import seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.geo import cell_at, cell_distance_km, resolution
from wire.handover import HandoverConfirm, HandoverDecline, HandoverPropose
from wire.identity import Identity
from wire.messages import Agreement, Terms

SELLER = Identity(bytes(range(32)))
BUYER = Identity(bytes(range(1, 33)))
MALLORY = Identity(bytes(range(2, 34)))
T0 = 1_790_000_000
HOUR = 3600
CHICAGO = cell_at(41.8781, -87.6298, 7)
SUBURB = cell_at(41.6600, -87.7000, 7)


def agreement(**changes: Any) -> Agreement:
    fields: dict[str, Any] = {
        "session": b"s" * 16, "buyer": BUYER.pubkey, "seller": SELLER.pubkey, "buyer_intent": b"b" * 16,
        "seller_intent": b"i" * 16, "terms": Terms(price_minor=6500, currency="USD", quantity=4),
        "created": T0, "expires": T0 + 7 * 24 * HOUR,
    }  # fmt: skip
    return Agreement(**{**fields, **changes})


def pair(buyer_res: int | None = 7, seller_res: int | None = 7) -> tuple[Handover, Handover]:
    a = agreement()
    digest = hashlib.sha256(agreement_bytes(a)).digest()
    seller = Handover(SELLER, a, digest, my_cell=CHICAGO, their_cell=SUBURB, my_max_res=seller_res)
    buyer = Handover(BUYER, a, digest, my_cell=SUBURB, their_cell=CHICAGO, my_max_res=buyer_res)
    return seller, buyer


def sent(side: Handover) -> list[bytes]:
    return [o.data for o in side.poll() if isinstance(o, Send)]


def deliver(src: Handover, dst: Handover, now: float) -> list[Any]:
    for data in sent(src):
        dst.handle_message(data, now)
    return dst.poll()


def propose(side: Handover, now: float = T0 + 60, **kw: Any) -> HandoverPropose:
    args: dict[str, Any] = {
        "cell": meeting_cell(side.my_cell, side.their_cell, side.my_max_res),
        "start": T0 + 26 * HOUR,
        "end": T0 + 28 * HOUR,
        "payment": ["cash", "venmo"],
    }
    args.update(kw)
    return side.propose(args["cell"], args["start"], args["end"], args["payment"], now)


def test_propose_confirm_both_hold_the_same_plan():
    seller, buyer = pair()
    p = propose(seller)
    assert seller.state is HState.PROPOSED and p.expires == T0 + 60 + 24 * HOUR
    outs = deliver(seller, buyer, T0 + 120)
    assert buyer.state is HState.REVIEWING
    assert any(isinstance(o, NeedsConfirmation) and o.proposal == p for o in outs)
    plan = buyer.confirm(choose_payment(p.payment, ["venmo"]) or "", T0 + 180)
    assert plan.payment == "venmo" and buyer.state is HState.CONFIRMED
    outs = deliver(buyer, seller, T0 + 200)
    assert seller.state is HState.CONFIRMED
    (theirs,) = [o.plan for o in outs if isinstance(o, Confirmed)]
    assert theirs == plan and theirs.proposer == SELLER.pubkey
    assert seller.next_timer() is None and buyer.next_timer() is None


def test_meeting_cell_is_between_and_never_finer_than_allowed():
    cell = meeting_cell(CHICAGO, SUBURB, 5)
    assert resolution(cell) == 5
    d = cell_distance_km(CHICAGO, SUBURB)
    assert cell_distance_km(cell, CHICAGO) < d and cell_distance_km(cell, SUBURB) < d
    assert resolution(meeting_cell(CHICAGO, cell_at(41.66, -87.70, 6), 7)) == 6  # their disclosed res
    lat, lon = midpoint((0.0, 179.0), (0.0, -179.0))
    assert abs(lat) < 1e-9 and abs(abs(lon) - 180.0) < 1e-6  # across the antimeridian
    with pytest.raises(ValueError):
        meeting_cell(CHICAGO, SUBURB, None)


def test_decline_then_counter_proposal_swaps_roles():
    seller, buyer = pair()
    first = propose(seller)
    deliver(seller, buyer, T0 + 100)
    counter = propose(buyer, T0 + 200, payment=["zelle", "cash"], start=T0 + 50 * HOUR, end=T0 + 51 * HOUR)
    assert counter.number == first.number + 1 and buyer.state is HState.PROPOSED
    outs = deliver(buyer, seller, T0 + 300)
    assert seller.state is HState.REVIEWING
    assert any(isinstance(o, ProposalClosed) and o.mine and o.reason == "superseded" for o in outs)
    seller.decline("not_that_day", T0 + 400)
    assert seller.state is HState.IDLE
    outs = deliver(seller, buyer, T0 + 500)
    assert buyer.state is HState.IDLE
    assert any(isinstance(o, ProposalClosed) and o.reason == "declined" for o in outs)


def test_cancel_a_confirmed_plan():
    seller, buyer = pair()
    propose(seller)
    deliver(seller, buyer, T0 + 100)
    buyer.confirm("cash", T0 + 200)
    deliver(buyer, seller, T0 + 300)
    seller.decline("cancelled", T0 + 400)
    outs = deliver(seller, buyer, T0 + 500)
    assert seller.state is buyer.state is HState.CANCELLED
    assert any(isinstance(o, Ended) and o.by_peer and o.reason == "cancelled" for o in outs)
    with pytest.raises(RemoteProtocolError, match="ended"):
        buyer.handle_message(seal(SELLER, HandoverDecline(b"s" * 16, b"x" * 32, "again")).raw, T0 + 600)


def _refused(dst: Handover, data: bytes, now: float, match: str) -> None:
    before = dst.to_dict()
    with pytest.raises(RemoteProtocolError, match=match):
        dst.handle_message(data, now)
    assert dst.to_dict() == before and dst.poll() == []  # nothing changed, nothing stored


def _proposal(**changes: Any) -> HandoverPropose:
    a = agreement()
    fields: dict[str, Any] = {
        "deal": a.session, "agreement": hashlib.sha256(agreement_bytes(a)).digest(), "number": 0,
        "cell": meeting_cell(CHICAGO, SUBURB, 7), "start": T0 + 26 * HOUR, "end": T0 + 27 * HOUR,
        "payment": ["cash"], "created": T0, "expires": T0 + 24 * HOUR,
    }  # fmt: skip
    return HandoverPropose(**{**fields, **changes})


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: seal(MALLORY, _proposal()).raw, "another agent"),
        (lambda: seal(SELLER, _proposal(deal=b"o" * 16)).raw, "another deal"),
        (lambda: seal(SELLER, _proposal(agreement=b"x" * 32)).raw, "another agreement"),
        (lambda: seal(SELLER, _proposal(created=T0 - 2 * HOUR, expires=T0 - HOUR)).raw, "expired"),
        (lambda: seal(SELLER, _proposal(start=T0 + 10, end=T0 + HOUR, expires=T0 + 10)).raw, "past"),
        (lambda: seal(SELLER, _proposal(cell=cell_at(41.66, -87.70, 7))).raw, "more precise"),
        (lambda: seal(SELLER, _proposal(cell=cell_at(19.43, -99.13, 5))).raw, "not between"),
        (
            lambda: seal(SELLER, _proposal(start=T0 + 29 * 24 * HOUR, end=T0 + 29 * 24 * HOUR + 60)).raw,
            "agreement",
        ),
        (lambda: seal(SELLER, _proposal(created=T0 + 2 * HOUR, expires=T0 + 3 * HOUR)).raw, "future"),
        (lambda: seal(SELLER, HandoverConfirm(b"s" * 16, b"p" * 32, "cash")).raw, "nothing of ours"),
        (lambda: seal(SELLER, HandoverDecline(b"s" * 16, b"p" * 32, "no")).raw, "not pending"),
        (lambda: seal(SELLER, _proposal()).raw[:-3] + b"\x00\x00\x00", r"signature|envelope|canonical"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(make, match):
    _seller, buyer = pair(buyer_res=5)
    _refused(buyer, make(), T0 + 100, match)


def test_bad_confirm_and_stale_numbers_are_refused():
    seller, buyer = pair()
    first = propose(seller)
    deliver(seller, buyer, T0 + 100)
    wrong = seal(BUYER, HandoverConfirm(b"s" * 16, b"z" * 32, "cash")).raw
    _refused(seller, wrong, T0 + 150, "not our pending")
    mine = seller.mine
    assert mine is not None
    _refused(
        seller, seal(BUYER, HandoverConfirm(b"s" * 16, mine.digest, "bitcoin")).raw, T0 + 160, "not proposed"
    )
    _refused(buyer, seal(SELLER, replace(first, payment=["gold"])).raw, T0 + 170, "stale")
    with pytest.raises(LocalProtocolError, match="not among"):
        buyer.confirm("bitcoin", T0 + 180)


def test_local_proposals_are_checked_too():
    seller, _buyer = pair(seller_res=5)
    with pytest.raises(LocalProtocolError, match="more precise"):
        propose(seller, cell=meeting_cell(CHICAGO, SUBURB, 7))
    with pytest.raises(LocalProtocolError, match="past"):
        propose(seller, start=T0 - HOUR, end=T0)
    with pytest.raises(LocalProtocolError, match="payment"):
        propose(seller, payment=["Cash!"])
    assert seller.state is HState.IDLE and seller.poll() == []


def test_retries_are_acknowledged_without_change():
    seller, buyer = pair()
    propose(seller)
    (data,) = sent(seller)
    assert buyer.handle_message(data, T0 + 100) is True
    buyer.poll()
    assert buyer.handle_message(data, T0 + 101) is False and buyer.poll() == []


def test_crossed_proposals_the_sellers_stands_on_both_sides():
    seller, buyer = pair()
    propose(seller)
    propose(buyer, payment=["zelle"])
    (from_seller,), (from_buyer,) = sent(seller), sent(buyer)
    with pytest.raises(RemoteProtocolError, match="seller's proposal stands"):
        seller.handle_message(from_buyer, T0 + 100)
    buyer.handle_message(from_seller, T0 + 100)
    assert seller.state is HState.PROPOSED and buyer.state is HState.REVIEWING
    buyer.confirm("cash", T0 + 200)
    deliver(buyer, seller, T0 + 300)
    assert seller.state is buyer.state is HState.CONFIRMED


def test_a_lapsed_proposal_and_the_proposal_cap():
    seller, buyer = pair()
    for _ in range(6):
        p = propose(seller)
        deliver(seller, buyer, T0 + 100)
        assert seller.next_timer() == p.expires
        seller.handle_timer(p.expires)
        buyer.handle_timer(p.expires)
        seller.poll(), buyer.poll()
    assert seller.state is buyer.state is HState.FAILED and seller.reason == "no_meeting"
    with pytest.raises(LocalProtocolError):
        propose(seller)


def test_the_agreement_expiring_ends_an_idle_arrangement():
    seller, _ = pair()
    assert seller.next_timer() == agreement().expires
    seller.handle_timer(agreement().expires)
    assert seller.state is HState.FAILED and seller.reason == "agreement_expired"


def test_snapshot_roundtrip():
    seller, buyer = pair()
    propose(seller)
    deliver(seller, buyer, T0 + 100)
    buyer.confirm("cash", T0 + 200)
    for side in (seller, buyer):
        copy = Handover(side.identity, side.agreement, side.digest, my_cell=side.my_cell,
                        their_cell=side.their_cell, my_max_res=7)  # fmt: skip
        copy.restore(side.to_dict())
        assert copy.to_dict() == side.to_dict() and copy.state is side.state and copy.plan == side.plan
    with pytest.raises(LocalProtocolError, match=r"malformed|version"):
        seller.restore({"version": 1, "state": "CONFIRMED", "next_number": 1})


def test_table_shape():
    for (state, _event), new in TRANSITIONS.items():
        assert not state.terminal
        assert isinstance(new, HState)
    assert {e for (_s, e) in TRANSITIONS} >= set(REMOTE_INPUTS)
    assert all((HState.CONFIRMED, e) not in TRANSITIONS for e in (HInput.EXPIRE, HInput.RECV_PROPOSE))


MOVES = st.lists(
    st.tuples(
        st.sampled_from(["seller", "buyer"]), st.sampled_from(["propose", "confirm", "decline", "tick"])
    ),
    max_size=14,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(moves=MOVES, lossy=st.lists(st.booleans(), max_size=14))
def test_any_interleaving_keeps_both_sides_consistent(moves, lossy):
    """Whatever the two humans do (with messages delivered or lost), a side only holds a plan both
    signed, and two sides that both hold one hold the same one."""
    seller, buyer = pair()
    sides = {"seller": (seller, buyer), "buyer": (buyer, seller)}
    now = T0 + 60
    for i, (who, move) in enumerate(moves):
        me, other = sides[who]
        now += 600
        try:
            if move == "propose":
                propose(me, now, start=int(now) + 30 * HOUR, end=int(now) + 31 * HOUR)
            elif move == "confirm":
                me.confirm("cash", now)
            elif move == "decline":
                me.decline("no", now)
            else:
                me.handle_timer(now + 25 * HOUR)
        except LocalProtocolError:
            pass
        for data in sent(me):
            if i < len(lossy) and lossy[i]:
                continue
            with contextlib.suppress(RemoteProtocolError):
                other.handle_message(data, now)
        seller.poll(), buyer.poll()
    for side in (seller, buyer):
        assert (side.state is HState.CONFIRMED) == (side.plan is not None and side.state is HState.CONFIRMED)
    if seller.state is buyer.state is HState.CONFIRMED:
        assert seller.plan == buyer.plan
