"""The guardian: autonomy levels, spend limit, categories, location precision; and approval in sessions."""

from __future__ import annotations

import pytest

from negotiation import (
    Agreed,
    Autonomy,
    FailReason,
    Guardian,
    NeedsApproval,
    Role,
    State,
    Verdict,
    make_pair,
    run_pair,
)
from wire import geo
from wire.intent import Action, Intent, Price
from wire.messages import Agreement, Terms

T = Terms(price_minor=6500, currency="USD", quantity=4)  # total 26000


def g(level, limit=30000, **kw):
    return Guardian(autonomy=Autonomy(level), spend_limit_minor=limit, currency="USD", **kw)


@pytest.mark.parametrize(
    ("level", "limit", "role", "verdict", "notify"),
    [
        ("always_ask", 10**9, Role.BUYER, Verdict.NEEDS_APPROVAL, False),
        ("always_ask", 10**9, Role.SELLER, Verdict.NEEDS_APPROVAL, False),
        ("ask_big", 30000, Role.BUYER, Verdict.ALLOW, False),
        ("ask_big", 20000, Role.BUYER, Verdict.NEEDS_APPROVAL, False),
        ("ask_big", 20000, Role.SELLER, Verdict.NEEDS_APPROVAL, False),  # a big sale asks too
        ("act_notify", 30000, Role.BUYER, Verdict.ALLOW, True),
        ("act_notify", 20000, Role.BUYER, Verdict.NEEDS_APPROVAL, False),
        ("act_notify", 20000, Role.SELLER, Verdict.ALLOW, True),  # selling spends nothing
        ("full", 30000, Role.BUYER, Verdict.ALLOW, False),
        ("full", 20000, Role.BUYER, Verdict.NEEDS_APPROVAL, False),  # the limit binds even at full
        ("full", 0, Role.SELLER, Verdict.ALLOW, False),
    ],
)
def test_check_deal_levels(level, limit, role, verdict, notify):
    d = g(level, limit).check_deal(T, role)
    assert d.verdict is verdict
    assert d.notify is notify
    if verdict is not Verdict.ALLOW:
        assert d.reason


def test_limit_is_inclusive_and_currency_checked():
    assert g("full", 26000).check_deal(T, Role.BUYER).allowed
    assert not g("full", 25999).check_deal(T, Role.BUYER).allowed
    eur = Terms(price_minor=1, currency="EUR", quantity=1)
    d = g("full").check_deal(eur, Role.BUYER)
    assert d.verdict is Verdict.NEEDS_APPROVAL and d.reason == "currency"


def test_categories():
    guard = g("full", allowed_categories={"vehicles/tires"})
    assert guard.check_deal(T, Role.BUYER, "vehicles/tires").allowed
    assert guard.check_deal(T, Role.BUYER, "electronics/phones").verdict is Verdict.DENY
    assert g("full").check_deal(T, Role.BUYER, "electronics/phones").allowed  # empty = all


def test_check_deal_accepts_an_agreement():
    a = Agreement(b"s" * 16, b"b" * 32, b"x" * 32, b"i" * 16, b"j" * 16, T, 0, 10)
    assert g("ask_big", 100).check_deal(a, Role.BUYER).verdict is Verdict.NEEDS_APPROVAL


def intent(action=Action.BUY, res=7, price=6500, category="vehicles/tires"):
    return Intent(
        id=b"i" * 16,
        author=b"a" * 32,
        seq=1,
        action=action,
        category=category,
        price=Price(price, "USD"),
        quantity=4,
        cell=geo.cell_at(20.59, -100.39, res),
        created=1_000,
        expires=2_000,
    )


def test_check_publish():
    assert g("full", 30000, max_location_res=5).check_publish(intent(res=7)).reason == "location_precision"
    assert g("full", 30000, max_location_res=7).check_publish(intent(res=7)).allowed
    assert g("full", allowed_categories={"services/moving"}).check_publish(intent()).verdict is Verdict.DENY
    assert g("always_ask").check_publish(intent()).verdict is Verdict.NEEDS_APPROVAL
    assert g("full", 1000).check_publish(intent()).verdict is Verdict.NEEDS_APPROVAL  # buying 4 x 65 > 10
    assert g("full", 1000).check_publish(intent(Action.SELL)).allowed


def test_config_round_trip_and_validation():
    guard = Guardian.from_dict(
        {
            "autonomy": "act_notify",
            "spend_limit_minor": 5000,
            "currency": "MXN",
            "allowed_categories": ["a/b"],
        }
    )
    assert Guardian.from_dict(guard.to_dict()) == guard
    assert Guardian.from_dict({}).autonomy is Autonomy.ASK_BIG
    with pytest.raises(ValueError):
        Guardian.from_dict({"autonomy": "yolo"})
    with pytest.raises(ValueError):
        Guardian(max_location_res=9)
    with pytest.raises(ValueError):
        Guardian(spend_limit_minor=-1)


# ---------------------------------------------------------------------------------- in a session


def approvals(result, side):
    return [o for o in result.outputs[side] if isinstance(o, NeedsApproval)]


def test_over_limit_pauses_then_human_approves():
    pair = make_pair(buyer_guardian=g("ask_big", 100))  # any deal is over $1
    result = pair.run(approver=lambda s, req: True)
    assert approvals(result, 1) and approvals(result, 1)[0].role is Role.BUYER
    a, b = result.agreed(0), result.agreed(1)
    assert isinstance(a, Agreed) and isinstance(b, Agreed) and a.agreement_bytes == b.agreement_bytes


def test_human_declines():
    pair = make_pair(seller_guardian=g("always_ask"))
    result = pair.run(approver=lambda s, req: False)
    assert approvals(result, 0)
    assert result.failed(0).reason is FailReason.DECLINED
    assert result.failed(1).reason is FailReason.REJECTED and result.failed(1).detail == "declined"
    assert result.agreed(0) is None and result.agreed(1) is None


def test_no_answer_until_deadline():
    pair = make_pair(buyer_guardian=g("always_ask"), duration=60)
    result = pair.run()  # nobody answers
    assert pair.buyer.state is State.FAILED and pair.seller.state is State.FAILED
    assert result.failed(1).reason is FailReason.DEADLINE
    assert result.agreed(0) is None and result.agreed(1) is None
    assert result.now >= pair.buyer.deadline


def test_guardian_denies_a_category():
    pair = make_pair(seller_guardian=g("full", allowed_categories={"services/moving"}))
    pair.seller.category = "vehicles/tires"
    result = pair.run()
    assert result.failed(0).reason is FailReason.DENIED
    assert result.agreed(1) is None


def test_approve_outside_awaiting_is_an_error():
    from wire.errors import LocalProtocolError

    pair = make_pair()
    with pytest.raises(LocalProtocolError):
        pair.seller.approve(0.0)


def test_from_metaspace_config_document():
    doc = {
        "version": 1,
        "peer_id": "12D3KooW...",
        "autonomy": "act_notify",
        "spend": "moderate",
        "spend_limit_minor": 30000,
        "currency": "USD",
        "location": "city",
        "max_h3_res": 5,
        "marketplace": "buy_approval",
        "categories": ["vehicles/*"],
    }
    guard = Guardian.from_dict(doc)
    assert guard.check_publish(intent(res=5)).allowed
    assert guard.check_publish(intent(res=7)).reason == "location_precision"
    assert guard.check_publish(intent(Action.SELL, res=5)).reason == "action"
    assert guard.check_publish(intent(res=5, category="electronics/phones")).reason == "category"
    # marketplace short of "full": every deal waits for the human, even within the limit
    d = guard.check_deal(T, Role.BUYER, "vehicles/tires")
    assert d.verdict is Verdict.NEEDS_APPROVAL and d.reason == "marketplace"
    full = Guardian.from_dict({**doc, "marketplace": "full", "spend_limit_minor": None, "categories": ["*"]})
    assert full.check_deal(Terms(price_minor=10**9, currency="USD", quantity=9), Role.BUYER).allowed
    assert Guardian.from_dict(full.to_dict()) == full
    never = Guardian.from_dict({**doc, "max_h3_res": None})
    assert never.check_publish(intent(res=3)).reason == "location_precision"


def test_awaiting_approval_survives_a_restart():
    import json

    from negotiation import Session

    pair = make_pair(buyer_guardian=g("always_ask"))
    result = pair.run(max_steps=1)  # deliver the START, then one message at a time until the buyer asks
    while pair.buyer.state is not State.AWAITING_APPROVAL and not pair.buyer.done:
        result = run_pair(pair.seller, pair.buyer, now=result.now, max_steps=1)
    assert pair.buyer.state is State.AWAITING_APPROVAL
    request = pair.buyer.approval_request()
    assert request is not None and request.reason == "always_ask"
    snap = json.loads(json.dumps(pair.buyer.to_dict()))
    restored = Session.from_dict(snap, pair.buyer_identity, guardian=g("always_ask"))
    assert restored.approval_request() == request
    restored.approve(result.now)
    final = run_pair(restored, pair.seller, now=result.now)
    a, b = final.agreed(0), final.agreed(1)
    assert a is not None and a == b
