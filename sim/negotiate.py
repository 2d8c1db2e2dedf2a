"""Negotiation tournament: every pair of strategies on generated buyer/seller scenarios.

Researchers' API::

    from sim.negotiate import tournament
    report = tournament(pairs=100, seed=1)
    print(report["summary"]["agreement_rate_with_zone"], report["table"][0])

A *scenario* is one buyer and one seller with private reservations (half of them with a zone of
agreement, half without), opening prices, a quantity and who opens. Each scenario is played by every
ordered pair (seller strategy, buyer strategy) through the real sans-IO sessions (signed envelopes,
guardian-free) with :func:`negotiation.run_pair`.

Metrics, on the price line with each side's utility normalised over the scenario's price range
(``u_seller = (p - r_s) / (hi - r_s)``, ``u_buyer = (r_b - p) / (r_b - lo)``):

* the Nash bargaining point maximises ``u_seller * u_buyer`` (the midpoint of the reservations);
* ``nash_distance`` is the Euclidean distance from the outcome's utilities to the Nash point's, over the
  scenarios with a zone; a failure counts as the disagreement point (0, 0);
* ``welfare`` is ``u_seller + u_buyer`` (0 for no deal), over the scenarios with a zone;
* ``rounds`` is the number of offers made (START and OFFERs) in a session;
* each side defends its reservation moved by a private margin (``negotiation.margin``);
  ``guarded_zone_share`` is the share of zone scenarios where a zone survives both margins (the
  margins' cost) and ``agreement_rate_with_guarded_zone`` the agreement rate there (the strategies');
* ``sessions_per_s`` is sessions per CPU second spent in the two sans-IO sessions (signatures included).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from negotiation import DEFAULT_MAX_ROUNDS, Position, Role, Session, make_strategy, run_pair
from negotiation.agreement import verify_agreement
from negotiation.margin import MAX_MARGIN, MIN_MARGIN, DigestRng
from negotiation.strategy import DEFAULT_SPARE_ROUNDS
from wire.identity import Identity
from wire.messages import Terms

DEFAULT_STRATEGIES = ("boulware", "linear", "conceder", "tit_for_tat")


@dataclass(frozen=True)
class Scenario:
    """One buyer/seller pair. Prices are unit prices in minor units; reservations are private."""

    seller_reservation: int
    buyer_reservation: int
    seller_opening: int  # = hi, the top of the price range
    buyer_opening: int  # = lo, the bottom of the price range
    quantity: int
    seller_initiates: bool
    currency: str = "USD"

    @property
    def has_zone(self) -> bool:
        return self.seller_reservation <= self.buyer_reservation

    @property
    def lo(self) -> int:
        return self.buyer_opening

    @property
    def hi(self) -> int:
        return self.seller_opening

    def utilities(self, price: int | None) -> tuple[float, float]:
        """(u_seller, u_buyer) of a deal at ``price`` (None: no deal -> (0, 0))."""
        if price is None:
            return 0.0, 0.0
        us = (price - self.seller_reservation) / max(1, self.hi - self.seller_reservation)
        ub = (self.buyer_reservation - price) / max(1, self.buyer_reservation - self.lo)
        return us, ub

    @property
    def nash_price(self) -> float:
        """The price maximising the product of utilities (the reservations' midpoint)."""
        return (self.seller_reservation + self.buyer_reservation) / 2

    def nash_distance(self, price: int | None) -> float:
        us, ub = self.utilities(price)
        ns, nb = self.utilities(self.nash_price)  # type: ignore[arg-type]
        return math.hypot(us - ns, ub - nb)

    def welfare(self, price: int | None) -> float:
        return sum(self.utilities(price))


def make_scenarios(n: int, seed: int) -> list[Scenario]:
    """``n`` scenarios, alternately with and without a zone of agreement.

    Args:
        n: how many.
        seed: the generator's seed.

    Returns:
        The scenarios (deterministic for a seed).
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        mid = rng.randint(2_000, 50_000)
        if i % 2 == 0:  # a zone of agreement: r_s < r_b
            width = max(2, int(mid * rng.uniform(0.02, 0.4)))
            r_s, r_b = mid - width // 2, mid + width // 2
        else:  # no zone: r_b < r_s
            gap = max(2, int(mid * rng.uniform(0.01, 0.3)))
            r_s, r_b = mid + gap // 2, mid - gap // 2
        hi = max(r_s, r_b) + max(1, int(mid * rng.uniform(0.05, 0.5)))
        lo = max(0, min(r_s, r_b) - max(1, int(mid * rng.uniform(0.05, 0.5))))
        out.append(Scenario(r_s, r_b, hi, lo, rng.randint(1, 10), rng.random() < 0.5))
    return out


@dataclass(frozen=True)
class Outcome:
    """The result of one session pair."""

    scenario: Scenario
    price: int | None  # the agreed unit price, None for no deal
    rounds: int  # offers made
    consistent: bool  # both sides hold the same agreement, or neither does
    seconds: float = 0.0
    guarded_zone: bool | None = None  # a zone between the limits both sides defend (margins included)


def play(
    scenario: Scenario,
    seller_strategy: str,
    buyer_strategy: str,
    *,
    seller: Identity,
    buyer: Identity,
    session_id: bytes,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    spare_rounds: int = DEFAULT_SPARE_ROUNDS,
    now: float = 1_000_000.0,
    margin_range: tuple[float, float] = (MIN_MARGIN, MAX_MARGIN),
) -> Outcome:
    """Play one scenario through two real sessions.

    Args:
        scenario: the scenario.
        seller_strategy: registered strategy name for the seller.
        buyer_strategy: registered strategy name for the buyer.
        seller: the seller's identity.
        buyer: the buyer's identity.
        session_id: 16 bytes.
        max_rounds: the round cap.
        spare_rounds: rounds before the cap at which the strategies reach their reservation.
        now: the starting time.
        margin_range: each side's private margin range (drawn per side from the session id).

    Returns:
        The outcome.
    """
    terms = Terms(price_minor=0, currency=scenario.currency, quantity=scenario.quantity)
    sides = []
    for role, ident, other, strat in (
        (Role.SELLER, seller, buyer, seller_strategy),
        (Role.BUYER, buyer, seller, buyer_strategy),
    ):
        initiator = (role is Role.SELLER) == scenario.seller_initiates
        is_seller = role is Role.SELLER
        position = (
            Position(scenario.seller_reservation, scenario.seller_opening)
            if is_seller
            else Position(scenario.buyer_reservation, scenario.buyer_opening)
        )
        sides.append(
            Session(
                ident,
                role,
                peer=other.pubkey,
                my_intent=(b"S" if is_seller else b"B") * 16,
                peer_intent=(b"B" if is_seller else b"S") * 16,
                terms=terms,
                position=position,
                strategy=make_strategy(strat),
                guardian=None,
                now=now,
                initiator=initiator,
                rng=DigestRng(session_id + (b"S" if is_seller else b"B")),
                session_id=session_id,
                max_rounds=max_rounds,
                spare_rounds=spare_rounds,
                margin_range=margin_range,
            )
        )
    seller_s, buyer_s = sides
    first, second = (seller_s, buyer_s) if scenario.seller_initiates else (buyer_s, seller_s)
    t0 = time.process_time()  # CPU time: a busy machine does not deflate sessions_per_s
    result = run_pair(first, second, now=now)
    elapsed = time.process_time() - t0
    a, b = result.agreed(0), result.agreed(1)
    consistent = (a is None and b is None) or (
        a is not None
        and b is not None
        and a.agreement_bytes == b.agreement_bytes
        and a.buyer_signature == b.buyer_signature
        and a.seller_signature == b.seller_signature
    )
    price = None
    if a is not None and consistent:
        price = verify_agreement(a.agreement_bytes, a.buyer_signature, a.seller_signature).terms.price_minor
    rounds = len(seller_s.my_offers) + len(buyer_s.my_offers)
    return Outcome(scenario, price, rounds, consistent, elapsed, seller_s.guarded <= buyer_s.guarded)


def summarize(outcomes: Sequence[Outcome], max_rounds: int = DEFAULT_MAX_ROUNDS) -> dict[str, Any]:
    """The figures of a list of outcomes (see the module docstring)."""
    zone = [o for o in outcomes if o.scenario.has_zone]
    nozone = [o for o in outcomes if not o.scenario.has_zone]
    agreed = [o for o in outcomes if o.price is not None]
    zone_agreed = [o for o in zone if o.price is not None]
    guarded = [o for o in outcomes if o.guarded_zone]
    rounds = [o.rounds for o in outcomes]
    agreed_rounds = [o.rounds for o in agreed]
    outside = sum(
        1
        for o in agreed
        if o.price is not None
        and not o.scenario.seller_reservation <= o.price <= o.scenario.buyer_reservation
    )

    def mean(xs: Sequence[float]) -> float:
        return round(statistics.fmean(xs), 4) if xs else 0.0

    return {
        "sessions": len(outcomes),
        "agreement_rate_with_zone": round(len(zone_agreed) / len(zone), 4) if zone else 0.0,
        "agreements_without_zone": sum(1 for o in nozone if o.price is not None),
        "guarded_zone_share": round(len(guarded) / len(zone), 4) if zone else 0.0,
        "agreement_rate_with_guarded_zone": (
            round(sum(1 for o in guarded if o.price is not None) / len(guarded), 4) if guarded else 0.0
        ),
        "agreements_outside_reservations": outside,
        "inconsistent": sum(1 for o in outcomes if not o.consistent),
        "rounds_mean": mean(rounds),
        "rounds_max": max(rounds, default=0),
        "rounds_mean_agreed": mean(agreed_rounds),
        "rounds_max_agreed": max(agreed_rounds, default=0),
        "min_spare_rounds": max_rounds - max(agreed_rounds, default=0),
        "nash_distance_mean": mean([o.scenario.nash_distance(o.price) for o in zone]),
        "nash_distance_agreed_mean": mean([o.scenario.nash_distance(o.price) for o in zone_agreed]),
        "welfare_mean": mean([o.scenario.welfare(o.price) for o in zone]),
    }


def tournament(
    pairs: int,
    seed: int,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    spare_rounds: int = DEFAULT_SPARE_ROUNDS,
    margin_range: tuple[float, float] = (MIN_MARGIN, MAX_MARGIN),
) -> dict[str, Any]:
    """Play ``pairs`` scenarios with every ordered (seller, buyer) strategy pair.

    Args:
        pairs: number of buyer/seller scenarios.
        seed: seeds scenarios and identities.
        strategies: registered strategy names.
        max_rounds: the round cap.
        spare_rounds: rounds before the cap at which the strategies reach their reservation.
        margin_range: each side's private margin range ((0, 0): no margin, the reservation is probeable).

    Returns:
        ``{"summary": {...figures...}, "table": [{"seller", "buyer", ...figures...}, ...]}``.

    Raises:
        KeyError: an unknown strategy name.
    """
    for name in strategies:
        make_strategy(name)
    scenarios = make_scenarios(pairs, seed)
    rng = random.Random(seed + 1)
    idents = [(Identity(rng.randbytes(32)), Identity(rng.randbytes(32))) for _ in range(min(pairs, 64))]
    all_outcomes: list[Outcome] = []
    table = []
    t0 = time.perf_counter()
    for s_name in strategies:
        for b_name in strategies:
            outcomes = []
            for i, sc in enumerate(scenarios):
                seller, buyer = idents[i % len(idents)]
                sid = rng.randbytes(16)
                outcomes.append(
                    play(
                        sc,
                        s_name,
                        b_name,
                        seller=seller,
                        buyer=buyer,
                        session_id=sid,
                        max_rounds=max_rounds,
                        spare_rounds=spare_rounds,
                        margin_range=margin_range,
                    )
                )
            all_outcomes.extend(outcomes)
            table.append({"seller": s_name, "buyer": b_name, **summarize(outcomes, max_rounds)})
    wall = time.perf_counter() - t0
    core = sum(o.seconds for o in all_outcomes)
    summary = {
        "pairs": pairs,
        "seed": seed,
        "max_rounds": max_rounds,
        "spare_rounds": spare_rounds,
        "margin_range": list(margin_range),
        "strategies": list(strategies),
        **summarize(all_outcomes, max_rounds),
        "sessions_per_s": round(len(all_outcomes) / core, 1) if core else 0.0,
        "wall_s": round(wall, 3),
    }
    return {"summary": summary, "table": table}


TABLE_COLUMNS = (
    ("seller", "seller", "{}"),
    ("buyer", "buyer", "{}"),
    ("agreement_rate_with_zone", "agree%zone", "{:.1%}"),
    ("agreements_without_zone", "deals!zone", "{}"),
    ("rounds_mean_agreed", "rounds", "{:.2f}"),
    ("rounds_max_agreed", "max", "{}"),
    ("nash_distance_mean", "nash_dist", "{:.3f}"),
    ("welfare_mean", "welfare", "{:.3f}"),
)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A fixed-width table of per-pair figures."""
    header = "  ".join(f"{label:>11}" for _, label, _ in TABLE_COLUMNS)
    lines = [header]
    for row in rows:
        lines.append("  ".join(f"{fmt.format(row[key]):>11}" for key, _, fmt in TABLE_COLUMNS))
    return "\n".join(lines)
