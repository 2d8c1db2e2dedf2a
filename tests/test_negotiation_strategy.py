"""Every built-in strategy, the acceptance rule, and the registry."""

from __future__ import annotations

import itertools

import pytest

from negotiation import (
    STRATEGIES,
    Boulware,
    Conceder,
    Context,
    Linear,
    Role,
    Strategy,
    TimeDependent,
    TitForTat,
    make_pair,
    make_strategy,
    register_strategy,
)


def ctx(role=Role.SELLER, rnd=0, max_rounds=8, mine=(), theirs=(), res=6000, opening=8000):
    return Context(role, res, opening, rnd, max_rounds, tuple(mine), tuple(theirs))


def offers(strategy, role=Role.SELLER, res=6000, opening=8000, max_rounds=8):
    return [strategy.propose(ctx(role, r, max_rounds, res=res, opening=opening)) for r in range(max_rounds)]


@pytest.mark.parametrize("cls", [Boulware, Linear, Conceder, TitForTat])
@pytest.mark.parametrize("role", [Role.SELLER, Role.BUYER])
def test_concedes_monotonically_from_opening_to_reservation(cls, role):
    res, opening = (6000, 8000) if role is Role.SELLER else (7000, 5000)
    seq = offers(cls(), role, res, opening)
    assert seq[0] == opening
    sign = -1 if role is Role.SELLER else 1
    assert all(sign * (b - a) >= 0 for a, b in itertools.pairwise(seq))
    # the schedule reaches the reservation two rounds before the cap (round 5 of 0..7)
    assert seq[5] == res and seq[-1] == res


def test_boulware_firmer_than_linear_firmer_than_conceder():
    mid = ctx(rnd=2)  # progress 0.4
    b, li, c = Boulware().propose(mid), Linear().propose(mid), Conceder().propose(mid)
    assert b > li > c
    assert li == 8000 - round(0.4 * 2000)


def test_one_exponent_family():
    assert TimeDependent(0.25).propose(ctx(rnd=3)) == Boulware().propose(ctx(rnd=3))
    assert TimeDependent(4).propose(ctx(rnd=3)) == Conceder().propose(ctx(rnd=3))
    with pytest.raises(ValueError):
        TimeDependent(0)


def test_rounding_favours_the_proposer():
    seller = Context(Role.SELLER, 6000, 6003, 1, 4)  # progress 1/(4-1-2) = 1 -> reservation
    assert seller.price_at(0.5) == 6002  # 6001.5 rounded up
    buyer = Context(Role.BUYER, 6003, 6000, 1, 4)
    assert buyer.price_at(0.5) == 6001  # 6001.5 rounded down


def test_tit_for_tat_mirrors_the_peer_concession():
    tft = TitForTat(floor_exponent=0.1)  # a very firm floor: the mirror decides
    c = ctx(rnd=2, mine=(8000,), theirs=(5000, 5300))
    assert tft.propose(c) == 7700
    # a peer that does not concede gets the floor schedule only
    c2 = ctx(rnd=2, mine=(8000,), theirs=(5000, 5000))
    assert tft.propose(c2) == TimeDependent(0.1).propose(c2)


def test_tit_for_tat_never_lags_its_schedule():
    tft = TitForTat(floor_exponent=1.0)
    c = ctx(rnd=4, mine=(8000, 7990), theirs=(5000, 5001))  # the peer barely moves
    assert tft.propose(c) == Linear().propose(c)


def test_accept_rule():
    s = Linear()
    # below the reservation: never, even at the last moment
    assert not s.accept(ctx(rnd=8), 5999)
    # at the end (no counter-offer possible): anything within the reservation
    assert s.accept(ctx(rnd=8), 6000)
    # AC_next: at least as good as our next offer
    c = ctx(rnd=1)
    nxt = s.propose(c)
    assert s.accept(c, nxt) and not s.accept(c, nxt - 1)
    b = ctx(Role.BUYER, rnd=1, res=7000, opening=5000)
    assert s.accept(b, s.propose(b)) and not s.accept(b, s.propose(b) + 1)


def test_registry():
    assert {"boulware", "linear", "conceder", "tit_for_tat", "time"} <= set(STRATEGIES)
    assert make_strategy("time", exponent=2.0).params() == {"exponent": 2.0}
    with pytest.raises(KeyError):
        make_strategy("nope")
    with pytest.raises(ValueError):
        register_strategy("linear", Linear)


class Stubborn(Strategy):
    """A researcher's strategy: never moves, accepts anything within the reservation."""

    name = "test_stubborn"

    def propose(self, ctx: Context) -> int:
        return (ctx.opening + ctx.reservation) // 2

    def accept(self, ctx: Context, price: int) -> bool:
        return ctx.acceptable(price)


def test_a_plugged_in_strategy_is_used_and_still_bounded():
    if "test_stubborn" not in STRATEGIES:
        register_strategy("test_stubborn", Stubborn)
    pair = make_pair(seller_strategy=make_strategy("test_stubborn"), buyer_strategy=make_strategy("linear"))
    result = pair.run()
    deal = result.agreed(0)
    # the stubborn seller takes the first of the linear buyer's offers within its (guarded) limit
    first_ok = next(p for p in pair.buyer.my_offers if p >= pair.seller.guarded)
    assert deal is not None and deal.agreement.terms.price_minor == first_ok
    assert pair.seller.guarded > 5500  # the limit it defends sits above the reservation

    # a strategy proposing beyond the reservation is clamped by the session
    class Reckless(Strategy):
        name = "reckless"

        def propose(self, ctx: Context) -> int:
            return 1

    pair = make_pair(seller_strategy=Reckless(), buyer_strategy=make_strategy("boulware"))
    deal = pair.run().agreed(0)
    assert deal is not None and deal.agreement.terms.price_minor >= pair.seller.guarded > 5500
