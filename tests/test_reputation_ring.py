"""A ring of Sybils that co-sign fake agreements and rate each other stays below honest traders.

The market (``reputation.market``) is simulated with a seed; every figure is computed twice: from the
whole rating graph, and from what one agent's lookup fetches (two DHT hops), as ``metaspace`` does.
"""

from __future__ import annotations

import random

import pytest

from reputation.market import MarketConfig, figures, simulate
from reputation.score import score_all

NOW = 1_800_000_000.0
SMALL = {"honest": 60, "cheaters": 6, "newcomers": 4}


@pytest.mark.parametrize("lookup", [False, True], ids=["whole-graph", "lookup"])
@pytest.mark.parametrize(
    "attack",
    [
        {"sybils": 8, "sybil_deals_per_pair": 3},
        {"sybils": 20, "sybil_deals_per_pair": 8},
        {"sybils": 8, "sybil_deals_per_pair": 3, "sybil_feeders": 15},
    ],
    ids=["ring", "big-ring", "ring-with-fresh-feeders"],
)
def test_sybil_ring_stays_below_every_honest_trader(attack, lookup):
    market = simulate(MarketConfig(**SMALL, **attack), random.Random(7), NOW)
    f = figures(market, NOW, lookup=lookup)
    assert f["sybils"]["max"] < f["honest"]["min"], f
    assert f["margin"] > 0 and f["sybils"]["max"] < 60
    assert f["ring_flagged"]["sybils"] == attack["sybils"]
    assert f["cheaters"]["max"] < f["newcomers"]["min"] == 50.0  # cheaters fall below the unknown
    if not lookup:
        assert f["ring_flagged"]["honest"] == 0


def test_the_ring_adds_almost_nothing_to_sybils_who_also_trade_for_real():
    market = simulate(MarketConfig(**SMALL, sybils=8, sybil_real_deals=3), random.Random(7), NOW)
    sybils = set(market.sybils)
    with_ring = score_all(market.ratings, NOW)
    genuine = score_all([r for r in market.ratings if not (r.rater in sybils and r.subject in sybils)], NOW)
    gains = [with_ring[s].score - genuine[s].score for s in market.sybils]
    assert max(gains) < 3.0, gains  # their 3 honest deals count; 56 fake ratings among them barely do


def test_same_seed_same_figures():
    a = figures(simulate(MarketConfig(**SMALL), random.Random(1), NOW), NOW)
    b = figures(simulate(MarketConfig(**SMALL), random.Random(1), NOW), NOW)
    assert a == b
