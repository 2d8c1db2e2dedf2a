"""Sessions end to end: agreement, and each way a peer can misbehave ending the session."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from negotiation import (
    Agreed,
    Checkpoint,
    Failed,
    FailReason,
    Send,
    Session,
    State,
    make_pair,
    make_strategy,
    peek_start,
    run_pair,
    verify_agreement,
)
from negotiation.agreement import sign_agreement
from wire.envelope import open_envelope, seal
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity
from wire.messages import (
    NegotiationAccept,
    NegotiationOffer,
    NegotiationStart,
    TransactionConfirm,
    TransactionInit,
)

NOW = 1_000_000.0


def sends(session):
    return [o.data for o in session.poll() if isinstance(o, Send)]


def failure(session) -> Failed:
    outs = session.poll()
    return next(o for o in outs if isinstance(o, Failed))


def test_tire_deal_both_hold_identical_agreement():
    pair = make_pair()  # seller >= $60, buyer <= $70, four tires
    result = pair.run()
    a, b = result.agreed(0), result.agreed(1)
    assert isinstance(a, Agreed) and isinstance(b, Agreed)
    assert (a.agreement_bytes, a.buyer_signature, a.seller_signature) == (
        b.agreement_bytes,
        b.buyer_signature,
        b.seller_signature,
    )
    agreement = verify_agreement(a.agreement_bytes, a.buyer_signature, a.seller_signature)
    assert 6000 <= agreement.terms.price_minor <= 7000
    assert agreement.terms.quantity == 4 and agreement.expires > agreement.created
    assert agreement.seller == pair.seller_identity.pubkey and agreement.buyer == pair.buyer_identity.pubkey
    with pytest.raises(RemoteProtocolError):
        verify_agreement(a.agreement_bytes, a.seller_signature, a.buyer_signature)
    assert pair.seller.state is State.AGREED and pair.buyer.state is State.AGREED
    assert pair.seller.next_timer() is None
    stats = pair.seller.statistics()
    assert stats["state"] == "AGREED" and stats["messages_out"] >= 2


def test_reservation_is_never_sent():
    pair = make_pair(
        seller_reservation=6123, buyer_reservation=6987, seller_strategy=make_strategy("boulware")
    )
    wire_bytes: list[bytes] = []
    pair.run(tamper=lambda i, s, data: wire_bytes.append(data) or data)
    for data in wire_bytes:
        body = open_envelope(data).message
        # the reservation is reachable only as an offer price at the very end, never as a field
        assert "reservation" not in repr(body)
    first = open_envelope(wire_bytes[0]).message
    assert isinstance(first, NegotiationStart) and first.terms.price_minor == 8000  # opens at its opening


def test_no_zone_ends_with_no_deal():
    pair = make_pair(seller_reservation=7200, buyer_reservation=7000)
    result = pair.run()
    assert result.agreed(0) is None and result.agreed(1) is None
    reasons = {result.failed(0).reason, result.failed(1).reason}
    assert FailReason.NO_AGREEMENT in reasons and FailReason.REJECTED in reasons
    assert len(pair.seller.my_offers) + len(pair.seller.their_offers) == pair.seller.max_rounds


def test_any_tampered_message_ends_the_session():
    clean = make_pair().run()
    n = clean.messages  # START, offers, ACCEPT, TRANSACTION_INIT, TRANSACTION_CONFIRM
    assert n >= 4
    for index in range(n):
        pair = make_pair()

        def flip(i, sender, data, index=index):
            if i != index:
                return data
            pos = len(data) // 2
            return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]

        result = pair.run(tamper=flip)
        assert pair.seller.done and pair.buyer.done
        receiver = 1 - index % 2  # the initiator (side 0) sends the even-numbered messages
        f = result.failed(receiver)
        assert f is not None and f.reason is FailReason.BAD_MESSAGE
        assert result.agreed(receiver) is None
        if index < n - 1:
            assert result.agreed(0) is None and result.agreed(1) is None
        else:  # a CONFIRM lost in transit: its sender holds the valid, co-signed agreement (two generals)
            assert result.agreed(1 - receiver) is not None


def test_replayed_message_ends_the_session():
    pair = make_pair()
    start = sends(pair.seller)[0]
    pair.buyer.handle_message(start, NOW + 1)
    offer = sends(pair.buyer)[0]
    pair.seller.handle_message(offer, NOW + 2)
    sends(pair.seller)
    pair.seller.handle_message(offer, NOW + 3)  # the same offer again
    f = failure(pair.seller)
    assert f.reason is FailReason.STALE_ROUND
    assert pair.seller.statistics()["reason"] == "stale_round"
    # a replayed START to the responder is stale too
    pair2 = make_pair(seed=2)
    start2 = sends(pair2.seller)[0]
    pair2.buyer.handle_message(start2, NOW + 1)
    pair2.buyer.poll()
    pair2.buyer.handle_message(start2, NOW + 2)
    assert failure(pair2.buyer).reason is FailReason.STALE_ROUND


def _started(seed=1):
    """A pair whose START reached the buyer; returns (pair, buyer's counter-offer bytes)."""
    pair = make_pair(seed=seed)
    start = sends(pair.seller)[0]
    pair.buyer.handle_message(start, NOW + 1)
    return pair, start, sends(pair.buyer)[0]


def test_message_signed_by_someone_else():
    pair, _start, offer = _started()
    mallory = Identity(b"m" * 32)
    forged = NegotiationOffer(pair.seller.session_id, 1, open_envelope(offer).message.terms)
    pair.seller.handle_message(seal(mallory, forged).raw, NOW + 2)
    assert failure(pair.seller).reason is FailReason.WRONG_PEER


def test_other_session_id_and_skipped_round_and_round_cap():
    pair, _start, offer = _started()
    terms = open_envelope(offer).message.terms
    pair.seller.handle_message(seal(pair.buyer_identity, NegotiationOffer(b"z" * 16, 1, terms)).raw, NOW)
    assert failure(pair.seller).reason is FailReason.WRONG_SESSION

    pair, _start, offer = _started(seed=3)
    sid = pair.seller.session_id
    pair.seller.handle_message(seal(pair.buyer_identity, NegotiationOffer(sid, 3, terms)).raw, NOW)
    assert failure(pair.seller).reason is FailReason.BAD_ROUND

    pair = make_pair(max_rounds=1)  # round 0 is the only offer; the buyer may only accept or reject
    pair.buyer.handle_message(sends(pair.seller)[0], NOW)
    assert pair.buyer.state is State.FAILED  # 5000 offered, 8000 asked: no deal in one round
    assert failure(pair.buyer).reason is FailReason.NO_AGREEMENT


def test_changed_term_ends_the_session():
    pair, _start, offer = _started()
    terms = open_envelope(offer).message.terms
    bad = NegotiationOffer(pair.seller.session_id, 1, replace(terms, quantity=3))
    pair.seller.handle_message(seal(pair.buyer_identity, bad).raw, NOW + 2)
    assert failure(pair.seller).reason is FailReason.CHANGED_TERM


def test_accept_must_name_our_last_offer():
    pair, start, offer = _started()
    pair.seller.handle_message(offer, NOW + 2)
    sends(pair.seller)  # seller counter-offer (round 2)
    stale_digest = hashlib.sha256(start).digest()  # the START, not the last offer
    bad = NegotiationAccept(pair.seller.session_id, 3, stale_digest)
    pair.seller.handle_message(seal(pair.buyer_identity, bad).raw, NOW + 3)
    assert failure(pair.seller).reason is FailReason.BAD_ACCEPT


def _to_wait_init():
    """Drive the buyer (responder) to WAIT_INIT: it accepts the seller's START at 6500."""
    pair = make_pair(seller_opening=6500, buyer_opening=6500, seller_reservation=6500, buyer_reservation=6500)
    start = sends(pair.seller)[0]
    pair.buyer.handle_message(start, NOW + 1)
    accept = sends(pair.buyer)[0]
    assert pair.buyer.state is State.WAIT_INIT
    pair.seller.handle_message(accept, NOW + 2)
    init = sends(pair.seller)[0]
    return pair, init


def test_init_with_other_terms_or_bad_signature_ends_the_session():
    pair, init = _to_wait_init()
    msg = open_envelope(init).message
    cheaper = replace(msg.agreement, terms=replace(msg.agreement.terms, price_minor=6400))
    forged = TransactionInit(msg.session, msg.round, cheaper, sign_agreement(pair.seller_identity, cheaper))
    pair.buyer.handle_message(seal(pair.seller_identity, forged).raw, NOW + 3)
    assert failure(pair.buyer).reason is FailReason.BAD_AGREEMENT

    pair, init = _to_wait_init()
    msg = open_envelope(init).message
    forged = TransactionInit(msg.session, msg.round, msg.agreement, b"\0" * 64)
    pair.buyer.handle_message(seal(pair.seller_identity, forged).raw, NOW + 3)
    assert failure(pair.buyer).reason is FailReason.BAD_SIGNATURE


def test_confirm_with_bad_signature_ends_the_session():
    pair, init = _to_wait_init()
    pair.buyer.handle_message(init, NOW + 3)
    confirm = open_envelope(sends(pair.buyer)[0]).message
    forged = TransactionConfirm(confirm.session, confirm.round, confirm.agreement_digest, b"\1" * 64)
    pair.seller.handle_message(seal(pair.buyer_identity, forged).raw, NOW + 4)
    assert failure(pair.seller).reason is FailReason.BAD_SIGNATURE
    assert pair.seller.agreement is not None and pair.seller.state is State.FAILED


def test_silent_peer_hits_the_deadline():
    pair = make_pair(duration=30)
    start = sends(pair.seller)[0]
    assert pair.seller.next_timer() == pair.seller.deadline
    pair.seller.handle_timer(NOW + 10)  # early: nothing
    assert pair.seller.state is State.WAIT_REPLY
    pair.seller.handle_timer(NOW + 30)
    f = failure(pair.seller)
    assert f.reason is FailReason.DEADLINE
    pair.buyer.handle_message(start, NOW + 31)  # too late for the responder too
    assert failure(pair.buyer).reason is FailReason.DEADLINE


def test_late_message_after_deadline():
    pair = make_pair(duration=30)
    pair.buyer.handle_message(sends(pair.seller)[0], NOW + 1)
    offer = sends(pair.buyer)[0]
    pair.seller.handle_message(offer, NOW + 31)
    assert failure(pair.seller).reason is FailReason.DEADLINE


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"max_rounds": 30}, "max_rounds"),
        ({"deadline": int(NOW + 10 * 3600)}, "deadline"),
        ({"seller": b"q" * 32}, "keys"),
        ({"buyer_intent": b"q" * 16}, "intent"),
    ],
)
def test_bad_start_is_refused(change, why):
    pair = make_pair()
    start = open_envelope(sends(pair.seller)[0]).message
    bad = replace(start, **change)
    pair.buyer.handle_message(seal(pair.seller_identity, bad).raw, NOW + 1)
    f = failure(pair.buyer)
    assert f.reason is FailReason.BAD_START and why in f.detail


def test_start_with_wrong_currency_or_too_many_units():
    for terms_change in ({"currency": "EUR"}, {"quantity": 5}):
        pair = make_pair()
        start = open_envelope(sends(pair.seller)[0]).message
        bad = replace(start, terms=replace(start.terms, **terms_change))
        pair.buyer.handle_message(seal(pair.seller_identity, bad).raw, NOW + 1)
        assert failure(pair.buyer).reason is FailReason.BAD_START


def test_peek_start():
    pair = make_pair()
    author, start = peek_start(sends(pair.seller)[0])
    assert author == pair.seller_identity.pubkey and isinstance(start, NegotiationStart)
    with pytest.raises(RemoteProtocolError):
        peek_start(b"\x00garbage")


def test_messages_after_the_end_are_ignored():
    pair = make_pair()
    pair.run()
    pair.seller.handle_message(b"junk", NOW)
    assert pair.seller.poll() == [] and pair.seller.statistics()["ignored"] == 1


def test_persist_mid_session_and_continue():
    pair = make_pair()
    start = sends(pair.seller)[0]
    pair.buyer.handle_message(start, NOW + 1)
    offer = sends(pair.buyer)[0]
    snapshot = json.loads(json.dumps(pair.seller.to_dict()))
    restored = Session.from_dict(snapshot, pair.seller_identity, guardian=None)
    assert restored.state is State.WAIT_REPLY and restored.to_dict() == snapshot
    restored.handle_message(offer, NOW + 2)
    result = run_pair(restored, pair.buyer, now=NOW + 2)
    a, b = result.agreed(0), result.agreed(1)
    assert a is not None and b is not None and a.agreement_bytes == b.agreement_bytes


def test_restart_then_abort_tells_the_peer():
    pair = make_pair()
    pair.buyer.handle_message(sends(pair.seller)[0], NOW + 1)
    sends(pair.buyer)
    restored = Session.from_dict(pair.seller.to_dict(), pair.seller_identity, guardian=None)
    restored.abort(NOW + 5, "restarted")
    outs = restored.poll()
    reject = next(o.data for o in outs if isinstance(o, Send))
    assert any(isinstance(o, Failed) and o.reason is FailReason.ABORTED for o in outs)
    pair.buyer.handle_message(reject, NOW + 6)
    f = failure(pair.buyer)
    assert f.reason is FailReason.REJECTED and f.detail == "aborted"
    with pytest.raises(LocalProtocolError):
        Session.from_dict(pair.seller.to_dict(), pair.buyer_identity, guardian=None)


def test_buyer_may_initiate():
    pair = make_pair(seller_initiates=False)
    assert pair.first is pair.buyer
    result = pair.run()
    a, b = result.agreed(0), result.agreed(1)
    assert a is not None and b is not None and a.agreement_bytes == b.agreement_bytes


def test_bad_local_arguments():
    with pytest.raises(LocalProtocolError):
        make_pair(max_rounds=31)
    with pytest.raises(LocalProtocolError):
        make_pair(seller_opening=5000)  # opening below the seller's reservation


# ------------------------------------------------------------------ hostile counterparty (issue 10)


def test_the_responders_horizon_is_its_own():
    """A START with a tiny cap used to make the responder concede to its reservation at once."""
    counters = {}
    for cap in (2, 8):
        pair = make_pair(max_rounds=cap, horizon=8, seller_initiates=False)
        pair.seller.handle_message(sends(pair.buyer)[0], NOW + 1)
        counters[cap] = open_envelope(sends(pair.seller)[0]).message.terms.price_minor
        assert pair.seller.max_rounds == cap and pair.seller.horizon == 8
    assert counters[2] == counters[8] > pair.seller.guarded > 5500
    # an initiator may not ask for more rounds than our horizon
    pair = make_pair(max_rounds=9, horizon=8, seller_initiates=False)
    pair.seller.handle_message(sends(pair.buyer)[0], NOW + 1)
    assert failure(pair.seller).reason is FailReason.BAD_START


def test_a_far_start_deadline_is_cut_to_our_duration():
    pair = make_pair(duration=60)
    start = open_envelope(sends(pair.seller)[0]).message
    far = replace(start, deadline=int(NOW + 4200))  # within the protocol bound, far beyond ours
    pair.buyer.handle_message(seal(pair.seller_identity, far).raw, NOW + 1)
    assert pair.buyer.state is State.WAIT_REPLY
    assert pair.buyer.deadline == pair.buyer.created + 60
    pair.buyer.handle_timer(NOW + 61)
    assert failure(pair.buyer).reason is FailReason.DEADLINE


def test_every_commitment_is_preceded_by_a_checkpoint():
    """ACCEPT, TRANSACTION_INIT and TRANSACTION_CONFIRM each come after a Checkpoint (saved before sent)."""
    pair = make_pair()
    sessions = (pair.first, pair.second)
    outputs: dict[int, list] = {0: list(sessions[0].poll()), 1: []}
    queue = [(1, o.data) for o in outputs[0] if isinstance(o, Send)]
    while queue:  # deliver every message, keeping each side's outputs in order
        side, data = queue.pop(0)
        sessions[side].handle_message(data, NOW + 1)
        outs = sessions[side].poll()
        outputs[side].extend(outs)
        queue.extend((1 - side, o.data) for o in outs if isinstance(o, Send))
    committing = (NegotiationAccept, TransactionInit, TransactionConfirm)
    seen = set()
    for outs in outputs.values():
        for i, out in enumerate(outs):
            msg = open_envelope(out.data).message if isinstance(out, Send) else None
            if isinstance(msg, committing):
                seen.add(type(msg))
                assert isinstance(outs[i - 1], Checkpoint)
                if isinstance(msg, TransactionConfirm):
                    assert any(isinstance(o, Agreed) for o in outs[:i])  # recorded before it leaves
    assert seen == set(committing)
    assert pair.seller.state is State.AGREED and pair.buyer.state is State.AGREED


def test_a_snapshot_keeps_the_margin_and_resumes_only_a_consistent_state():
    pair = make_pair()
    pair.buyer.handle_message(sends(pair.seller)[0], NOW + 1)
    sends(pair.buyer)
    snap = json.loads(json.dumps(pair.seller.to_dict()))
    restored = Session.from_dict(snap, pair.seller_identity, guardian=None)
    assert (restored.margin, restored.guarded, restored.horizon) == (
        pair.seller.margin,
        pair.seller.guarded,
        pair.seller.horizon,
    )
    for bad in (
        {"state": "DECIDING"},  # transient: never between calls
        {"state": "IDLE"},
        {"state": "WAIT_START"},  # an initiator never waits for a START
        {"state": "AGREED"},  # without any agreement
        {"state": "FAILED", "reason": None},
        {"max_rounds": 30},  # a cap above our horizon
        {"margin": 0.9},
        {"version": 1},
    ):
        with pytest.raises(LocalProtocolError):
            Session.from_dict({**snap, **bad}, pair.seller_identity, guardian=None)
