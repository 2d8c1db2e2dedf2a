"""Churn in the simulator: session models, the live set, node departure and return in the engine, a run
over virtual time, and the checks that refuse impossible parameters before any work."""

from __future__ import annotations

import dataclasses
import json
import math
import random

import pytest

from sim import SimConfig, run_simulation
from sim.churn import HOUR, LiveSet, SessionModel, parse_churn, parse_duration
from sim.cli import main
from sim.config import check_memory
from sim.engine import ABANDONED
from sim.metrics import MACHINE_KEYS, mean, percentile
from tests.test_sim_engine import PingCore, _engine, _ping


def test_durations_and_churn_specs():
    assert parse_duration("2h") == 7200 and parse_duration("30m") == 1800 and parse_duration("90") == 90
    assert parse_duration("500ms") == 0.5 and parse_duration("1.5d") == 36 * HOUR
    ipfs = parse_churn("ipfs")
    assert ipfs.kind == "weibull" and ipfs.median_s == 2 * HOUR and ipfs.shape == 0.6
    assert ipfs.fraction_within(2 * HOUR) == pytest.approx(0.5)  # half leave within 2 hours
    assert parse_churn("exp:45m") == SessionModel("exp", 2700.0, 1.0)
    assert parse_churn("weibull:0.5:90m") == SessionModel("weibull", 5400.0, 0.5)
    assert not parse_churn("none").enabled
    for bad in ("weibull", "exp:-1h", "exp:0s", "teleport", "weibull:0:2h", "exp:2h:3"):
        with pytest.raises(ValueError, match="churn"):
            parse_churn(bad)


@pytest.mark.parametrize("spec", ["ipfs", "exp:1h", "weibull:1.5:30m"])
def test_sessions_have_the_stated_median_and_residuals_the_stationary_mean(spec):
    model = parse_churn(spec)
    rng = random.Random(7)
    draws = [model.draw(rng) for _ in range(20_000)]
    assert percentile(draws, 50) == pytest.approx(model.median_s, rel=0.05)
    assert mean(draws) == pytest.approx(model.mean_s, rel=0.08)
    # a node found alive has, on average, E[T^2] / (2 E[T]) left: the stationary residual life
    scale, c = model.scale_s, model.shape
    expected = scale * math.gamma(1 + 2 / c) / (2 * math.gamma(1 + 1 / c))
    residuals = [model.draw_residual(rng) for _ in range(40_000)]
    assert mean(residuals) == pytest.approx(expected, rel=0.08)


def test_live_set_add_remove_pick():
    live = LiveSet([5, 6, 7])
    live.add(6)
    assert len(live) == 3 and 6 in live
    live.remove(5)
    live.remove(42)  # absent: nothing happens
    assert sorted(live.items()) == [6, 7]
    rng = random.Random(1)
    assert {live.pick(rng) for _ in range(50)} == {6, 7}


def test_engine_remove_abandons_ops_and_revive_brings_the_identity_back():
    eng = _engine(3)
    results: list = []
    _ping(eng, 0, 1, results)
    eng.remove(0)  # the asker leaves with its ping in flight
    assert results == [(0, ABANDONED, 100.0)] and eng.pending_ops() == 0 and eng.abandoned == 1
    eng.run()
    assert eng.nodes[1].served == 0  # its request was never served
    _ping(eng, 2, 0, results)  # a request to the departed node fails as to any dead node
    eng.run()
    assert results[-1][1][0] == "failed"
    with pytest.raises(ValueError):
        eng.revive(0, PingCore(b"\x09" * 32))  # another key
    eng.revive(0, PingCore(bytes([0]) * 32))
    _ping(eng, 2, 0, results)
    eng.run()
    assert results[-1][1][0] == "ok" and eng.nodes[0].served == 1
    with pytest.raises(ValueError):
        eng.revive(0, PingCore(bytes([0]) * 32))  # alive already


def test_unknown_or_misaddressed_contacts_are_unreachable():
    for mode, expect in (("refused", "failed"), ("silent", "timeout")):
        eng = _engine(2)
        eng.unreachable_mode = mode
        results: list = []
        fake = type(eng.nodes[1].contact)(b"\xee" * 32, [])
        wrong_addr = type(eng.nodes[1].contact)(eng.nodes[1].contact.pubkey, ["/ip4/10.9.9.9/tcp/1"])
        for peer in (fake, wrong_addr):
            eng.start_op(
                0, lambda node, now, p=peer: node.ping(p, now), lambda *r, out=results: out.append(r)
            )
        eng.run()
        assert [r[1][0] for r in results] == [expect, expect]
        assert eng.unreachable == 2 and eng.nodes[1].served == 0
        if mode == "refused":  # after one median RTT, not at once
            assert results[0][1][1] - 100.0 == pytest.approx(0.05)


CHURN = SimConfig(
    nodes=200,
    publishes=30,
    lookups=150,
    seed=3,
    join="fast",
    fast_bootstraps=10,
    churn="exp:30m",
    duration_h=0.5,
    sample_min=10,
    loss=0.01,
    replica_samples=20,
)


def test_churn_run_measures_availability_replicas_latency_and_cost():
    res = run_simulation(CHURN)
    figs = res.to_dict()
    series = figs["series"]
    assert [w["t_h"] for w in series] == pytest.approx([1 / 6, 2 / 6, 3 / 6], abs=1e-3)
    # 200 nodes with a 30 min median session for 30 min: about 100 leave, as many arrive
    assert 60 <= figs["departures"] <= 140
    assert figs["arrivals_new_id"] > 10 and figs["arrivals_same_id"] > 10
    assert all(140 <= w["live_nodes"] <= 260 for w in series)
    assert figs["lookups_done"] + figs["lookups_abandoned"] <= CHURN.lookups
    assert figs["lookups_done"] >= 100
    assert series[0]["lookups"] == 0  # the first window is the warm-up
    assert 0.8 <= figs["lookup_success"] <= 1.0
    assert all(0 <= w["replicas_p50"] <= CHURN.k for w in series if w["replicas_p50"] is not None)
    assert figs["replicas_p50"] is not None and figs["replicas_p50"] >= 10
    assert figs["msgs_per_node_h"] > 0 and figs["publish_latency_ms_p50"] > 0
    assert figs["latency_ms_p50"] <= figs["latency_ms_p90"]
    assert set(figs["targets"]) == {"lookup_p90_lt_1s", "publish_p50_lt_1s", "success_ge_99_9"}
    assert len(res.lookup_latency_ms) == figs["lookups_done"]


def test_churn_run_is_reproducible():
    def seeded(cfg):
        return {k: v for k, v in run_simulation(cfg).to_dict().items() if k not in MACHINE_KEYS}

    small = dataclasses.replace(CHURN, nodes=120, lookups=60, duration_h=0.25, sample_min=5)
    a, b = seeded(small), seeded(small)
    assert a == b
    assert seeded(dataclasses.replace(small, seed=4)) != a


def test_impossible_parameters_fail_before_any_work():
    cases = {
        "k must be >= 1": SimConfig(k=0),
        "exceeds --k": SimConfig(k=3, alpha=5),
        "alpha must be >= 1": SimConfig(alpha=0),
        "negative rate": SimConfig(lookup_interval=-1.0),
        "churn faster than the network": SimConfig(churn="exp:200ms", rtt_ms=50),
        "fail-fraction is for runs without churn": SimConfig(churn="ipfs", fail_fraction=0.1),
        "sample-min is longer": SimConfig(churn="ipfs", duration_h=0.1, sample_min=30),
        "--loss": SimConfig(loss=-0.1),
        "no setting": SimConfig(dht={"no_such_setting": 1}),
    }
    for message, cfg in cases.items():
        with pytest.raises(ValueError, match=message):
            run_simulation(cfg)
    with pytest.raises(ValueError, match="GiB available"):
        check_memory(SimConfig(nodes=2_000_000), available=4 * 2**30)
    check_memory(SimConfig(nodes=10_000), available=4 * 2**30)
    with pytest.raises(ValueError, match="more than the"):
        SimConfig(nodes=10**9).validate()  # against this machine's memory


def test_cli_churn_json_is_one_object_with_windows(capsys, tmp_path):
    png = tmp_path / "churn.png"
    argv = ["sim", "run", "--nodes", "80", "--publishes", "8", "--lookups", "30", "--join", "fast"]
    argv += ["--churn", "exp:1h", "--duration-h", "0.2", "--sample-min", "4", "--json", "--plot", str(png)]
    assert main(argv) == 0
    figs = json.loads(capsys.readouterr().out)
    assert len(figs["series"]) == 3 and figs["churn"] == "exp:1h"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["sim", "run", "--churn", "exp:10ms", "--json"]) == 2
    err = capsys.readouterr().err
    assert "churn faster than the network" in err and "Traceback" not in err


def test_cli_churn_tables(capsys):
    argv = ["sim", "run", "--nodes", "60", "--publishes", "6", "--lookups", "20", "--join", "fast"]
    argv += ["--churn", "ipfs", "--duration-h", "0.1", "--sample-min", "3"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "availability" in captured.out and "per window" in captured.out
    assert "churn" in captured.err and "100%" in captured.err


def test_windows_out_writes_each_complete_row_as_the_run_goes(capsys, tmp_path):
    events: list[str] = []
    rows: list[dict] = []
    small = dataclasses.replace(CHURN, nodes=100, lookups=80, duration_h=0.25, sample_min=5)

    def on_window(row: dict) -> None:
        events.append(f"row{row['window']}")
        rows.append(row)

    res = run_simulation(
        small, progress=lambda phase, done, _total: events.append(f"{phase}{done}"), on_window=on_window
    )
    # row 0 is handed out as soon as its operations have ended (35 s into window 1), not at the end
    assert events.index("churn1") < events.index("row0") < events.index("churn2")
    assert [r.pop("window") for r in rows] == [0, 1, 2]
    assert rows == res.to_dict()["series"]
    # the pauses to hand out rows change nothing in the run
    same = {k: v for k, v in run_simulation(small).to_dict().items() if k not in MACHINE_KEYS}
    assert same == {k: v for k, v in res.to_dict().items() if k not in MACHINE_KEYS}
    # the CLI writes the same rows, one JSON line each; without churn the option is refused
    out = tmp_path / "windows.jsonl"
    argv = ["sim", "run", "--nodes", "80", "--publishes", "8", "--lookups", "30", "--join", "fast"]
    argv += [
        "--churn",
        "exp:1h",
        "--duration-h",
        "0.2",
        "--sample-min",
        "4",
        "--json",
        "--windows-out",
        str(out),
    ]
    assert main(argv) == 0
    series = json.loads(capsys.readouterr().out)["series"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line.pop("window") for line in lines] == [0, 1, 2] and lines == series
    assert main(["sim", "run", "--nodes", "50", "--windows-out", str(out)]) == 2
    assert "needs a churn run" in capsys.readouterr().err
    assert main([*argv[:-1], str(tmp_path)]) == 2  # a directory: no file can be written there
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err
