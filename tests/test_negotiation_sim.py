"""The simulator's negotiation tournament and its CLI."""

from __future__ import annotations

import argparse
import json

from sim.negotiate import Scenario, make_scenarios, tournament
from sim.negotiate_cli import main, register

REQUIRED = {
    "pairs",
    "agreement_rate_with_zone",
    "agreements_without_zone",
    "rounds_mean",
    "rounds_max",
    "nash_distance_mean",
    "welfare_mean",
    "sessions_per_s",
}


def test_scenarios_are_deterministic_and_mixed():
    a, b = make_scenarios(20, 5), make_scenarios(20, 5)
    assert a == b and a != make_scenarios(20, 6)
    assert sum(s.has_zone for s in a) == 10
    for s in a:
        assert s.lo <= min(s.seller_reservation, s.buyer_reservation)
        assert s.hi >= max(s.seller_reservation, s.buyer_reservation)


def test_metrics():
    s = Scenario(6000, 7000, 8000, 5000, 4, True)
    assert s.nash_price == 6500
    assert s.nash_distance(6500) == 0
    assert s.nash_distance(7000) > s.nash_distance(6800) > 0
    assert s.utilities(None) == (0.0, 0.0) and s.welfare(None) == 0
    assert abs(sum(s.utilities(6500)) - (0.25 + 0.25)) < 1e-9


def test_tournament_small():
    report = tournament(pairs=6, seed=3, strategies=("linear", "conceder"))
    summary = report["summary"]
    assert set(summary) >= REQUIRED
    assert summary["sessions"] == 6 * 4
    # every deal the private margins leave room for is found; none outside the reservations
    assert summary["agreement_rate_with_guarded_zone"] == 1.0
    assert summary["agreement_rate_with_zone"] <= 1.0
    assert summary["agreements_without_zone"] == 0
    assert summary["agreements_outside_reservations"] == 0 and summary["inconsistent"] == 0
    assert summary["rounds_max"] <= 8 and summary["min_spare_rounds"] >= 2
    assert len(report["table"]) == 4
    # without margins (benchmarks only) every zone is a guarded zone
    bare = tournament(pairs=6, seed=3, strategies=("linear",), margin_range=(0.0, 0.0))["summary"]
    assert bare["guarded_zone_share"] == 1.0 and bare["agreement_rate_with_zone"] == 1.0


def test_cli_json_and_table(capsys):
    assert main(["--pairs", "4", "--seed", "1", "--json", "--strategies", "linear,tit_for_tat"]) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and set(json.loads(line)) >= REQUIRED
    assert main(["--pairs", "2", "--strategies", "linear"]) == 0
    out = capsys.readouterr().out
    assert "agree%zone" in out and "linear" in out
    assert main(["--pairs", "2", "--strategies", "nope"]) == 2
    assert "unknown strategy" in capsys.readouterr().err


def test_register_adds_negotiate_to_sim_subparsers():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd")
    register(sub)
    args = parser.parse_args(["negotiate", "--pairs", "3", "--json"])
    assert args.pairs == 3 and args.json and callable(args.func)
