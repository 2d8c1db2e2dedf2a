"""Property tests over random scenarios, strategies, caps, guardians, tampering and replays."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation import Autonomy, FailReason, Guardian, State, make_pair, make_strategy
from wire.envelope import open_envelope

NAMES = ["boulware", "linear", "conceder", "tit_for_tat"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw):
    r_s = draw(st.integers(100, 100_000))
    r_b = draw(st.integers(100, 100_000))
    hi = max(r_s, r_b) + draw(st.integers(0, 50_000))
    lo = max(0, min(r_s, r_b) - draw(st.integers(0, 50_000)))
    return {
        "seller_reservation": r_s,
        "buyer_reservation": r_b,
        "seller_opening": hi,
        "buyer_opening": lo,
        "seller_strategy": make_strategy(draw(st.sampled_from(NAMES))),
        "buyer_strategy": make_strategy(draw(st.sampled_from(NAMES))),
        "seller_initiates": draw(st.booleans()),
        "max_rounds": draw(st.integers(1, 12)),
        "seed": draw(st.integers(0, 3)),
    }


def offers_made(pair):
    return len(pair.seller.my_offers) + len(pair.buyer.my_offers)


@SETTINGS
@given(scenarios())
def test_never_outside_reservations_always_within_cap_same_or_none(sc):
    pair = make_pair(**sc)
    result = pair.run()
    assert pair.seller.done and pair.buyer.done
    assert offers_made(pair) <= sc["max_rounds"]
    a, b = result.agreed(0), result.agreed(1)
    assert (a is None) == (b is None)
    if a is not None:
        assert a == b  # byte-identical agreement and the same two signatures
        price = a.agreement.terms.price_minor
        assert sc["seller_reservation"] <= price <= sc["buyer_reservation"]
        assert pair.seller.guarded <= price <= pair.buyer.guarded  # never inside either private margin
    if sc["seller_reservation"] > sc["buyer_reservation"]:
        assert a is None
    # with a zone left by both private margins and the room the schedules need (cap >= 3), the
    # built-ins always agree
    elif pair.seller.guarded <= pair.buyer.guarded and sc["max_rounds"] >= 3:
        assert a is not None
        assert offers_made(pair) <= max(sc["max_rounds"] - 2, 2)  # 2 spare rounds when the cap allows


@SETTINGS
@given(
    scenarios(),
    st.sampled_from(list(Autonomy)),
    st.integers(0, 10**6),
    st.sampled_from([True, False, None]),
    st.integers(0, 1),
)
def test_guardian_and_human_never_break_consistency(sc, level, limit, answer, who):
    guard = Guardian(autonomy=level, spend_limit_minor=limit)
    key = "seller_guardian" if who == 0 else "buyer_guardian"
    pair = make_pair(**sc, **{key: guard}, duration=60)
    result = pair.run(approver=lambda s, req: answer)
    assert pair.seller.done and pair.buyer.done
    a, b = result.agreed(0), result.agreed(1)
    assert (a is None) == (b is None)
    if a is not None:
        assert a == b


@SETTINGS
@given(scenarios(), st.data())
def test_tampered_message_ends_the_session(sc, data):
    clean = make_pair(**sc).run()
    index = data.draw(st.integers(0, clean.messages - 1))
    pos_frac = data.draw(st.floats(0, 1, exclude_max=True))
    bit = data.draw(st.integers(0, 7))

    def flip(i, sender, raw):
        if i != index:
            return raw
        pos = int(pos_frac * len(raw))
        return raw[:pos] + bytes([raw[pos] ^ (1 << bit)]) + raw[pos + 1 :]

    pair = make_pair(**sc)
    result = pair.run(tamper=flip)
    receiver = 1 - index % 2
    f = result.failed(receiver)
    assert f is not None and f.reason is FailReason.BAD_MESSAGE
    assert result.agreed(receiver) is None
    assert pair.seller.done and pair.buyer.done
    if index < clean.messages - 1 or clean.agreed(0) is None:
        assert result.agreed(0) is None and result.agreed(1) is None


@SETTINGS
@given(scenarios(), st.data())
def test_replayed_message_ends_the_session(sc, data):
    clean = make_pair(**sc).run()
    index = data.draw(st.integers(0, clean.messages - 1))
    pair = make_pair(**sc)
    delivered: list[bytes] = []

    def record(i, sender, raw):
        delivered.append(raw)
        return raw

    sides = (pair.first, pair.second)
    result = pair.run(tamper=record, max_steps=index + 1)  # deliver messages 0..index only
    receiver = sides[1 - index % 2]
    if receiver.done:
        return  # replaying into an ended session is ignored (covered by unit tests)
    receiver.handle_message(delivered[index], result.now + 1)
    assert receiver.state is State.FAILED
    assert receiver.reason in (FailReason.STALE_ROUND, FailReason.OUT_OF_TURN)
    env = open_envelope(delivered[index])
    assert env.author != receiver.identity.pubkey


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_garbage_never_raises_and_ends_the_session(data, to_seller):
    pair = make_pair()
    start = pair.seller.poll()
    target = pair.seller if to_seller else pair.buyer
    target.handle_message(data, 1_000_000.5)
    assert target.state is State.FAILED and target.reason is FailReason.BAD_MESSAGE
    assert start  # the START was queued before


def test_signed_non_negotiation_message_ends_the_session():
    from wire.envelope import seal
    from wire.messages import Query

    pair = make_pair()
    pair.seller.poll()
    pair.seller.handle_message(seal(pair.buyer_identity, Query(1, "x")).raw, 1_000_000.5)
    assert pair.seller.reason is FailReason.BAD_MESSAGE
