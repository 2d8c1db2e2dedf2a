"""Whole simulations on the real DHT core: correctness with no faults, determinism, faults, the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dht import DhtConfig
from sim import SimConfig, run_simulation
from sim.cli import main
from sim.metrics import MACHINE_KEYS

ROOT = Path(__file__).resolve().parent.parent

REQUIRED_KEYS = {
    "nodes",
    "publishes",
    "lookups",
    "lookup_success",
    "publish_replicas_p50",
    "hops_p50",
    "hops_p95",
    "msgs_per_lookup",
    "latency_ms_p50",
    "latency_ms_p90",
    "wall_s",
    "events_per_s",
    "rss_mb",
}


def _seeded(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k not in MACHINE_KEYS}


def test_300_nodes_find_every_published_record():
    cfg = SimConfig(nodes=300, publishes=30, lookups=150, seed=3, join="fast", fast_bootstraps=10)
    res = run_simulation(cfg)
    figs = res.to_dict()
    assert figs["publish_ok"] == 1.0
    assert figs["publish_replicas_p50"] == 15  # reported at the publish quorum (DhtConfig.publish_quorum)
    assert figs["lookup_success"] == 1.0
    assert figs["lookup_outcomes"] == {"Found": 150}
    assert figs["lost"] == 0 and figs["to_dead"] == 0
    assert 1 <= figs["hops_p50"] <= figs["hops_p95"] <= 6
    assert figs["msgs_per_lookup"] >= DhtConfig().get_closest  # a get asks at least the closest it needs
    # 50 ms median RTT: a lookup of a few rounds takes a few hundred virtual ms
    assert 50 < figs["latency_ms_p50"] < 2000
    assert len(res.lookup_hops) == len(res.lookup_latency_ms) == 150


def test_protocol_join_small_network():
    cfg = SimConfig(nodes=60, publishes=10, lookups=40, seed=5, join="protocol")
    figs = run_simulation(cfg).to_dict()
    assert figs["join_failures"] == 0
    assert figs["join_msgs_per_node"] > 1
    assert figs["routing_table_min"] >= 20
    assert figs["lookup_success"] == 1.0


def test_same_seed_same_figures_other_seed_differs():
    cfg = SimConfig(nodes=120, publishes=12, lookups=50, seed=11, loss=0.02, join="fast", fast_bootstraps=10)
    a = _seeded(run_simulation(cfg).to_dict())
    b = _seeded(run_simulation(cfg).to_dict())
    assert a == b
    c = _seeded(run_simulation(dataclasses.replace(cfg, seed=12)).to_dict())
    assert c != a


def test_same_seed_is_reproducible_across_processes_and_hash_seeds():
    code = (
        "import json, sys; from sim import SimConfig, run_simulation; from sim.metrics import MACHINE_KEYS;"
        "r = run_simulation(SimConfig(nodes=80, publishes=8, lookups=30, seed=4, loss=0.02, join='fast'))"
        ".to_dict(); print(json.dumps({k: v for k, v in r.items() if k not in MACHINE_KEYS}, sort_keys=True))"
    )
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["lookups"] == 30


def test_loss_and_failures_complete_and_report():
    cfg = SimConfig(
        nodes=200,
        publishes=20,
        lookups=100,
        seed=7,
        loss=0.05,
        fail_fraction=0.3,
        join="fast",
        fast_bootstraps=10,
    )
    figs = run_simulation(cfg).to_dict()
    assert figs["killed"] == 60
    assert figs["lost"] > 0 and figs["to_dead"] > 0
    assert sum(figs["lookup_outcomes"].values()) == 100  # every lookup ended with a typed result
    assert 0.0 <= figs["lookup_success"] <= 1.0
    # 30% of the replicas are gone and 5% of messages lost, yet k=20 replication keeps most records findable
    assert figs["lookup_success"] >= 0.9
    # a lost message costs the lookup an adaptive peer deadline (dht.rtt), not the 5 s RPC timeout
    assert 0 < figs["latency_ms_p90"] < 5000


def test_silent_dead_nodes_time_out_instead_of_refusing():
    base = SimConfig(nodes=120, publishes=10, lookups=40, seed=2, fail_fraction=0.3, join="fast")
    refused = run_simulation(dataclasses.replace(base, dead_mode="refused")).to_dict()
    silent = run_simulation(dataclasses.replace(base, dead_mode="silent")).to_dict()
    assert refused["lookup_success"] == silent["lookup_success"] == 1.0
    assert silent["latency_ms_p50"] > refused["latency_ms_p50"]


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        run_simulation(SimConfig(nodes=1))
    with pytest.raises(ValueError):
        run_simulation(SimConfig(join="teleport"))
    with pytest.raises(ValueError):
        run_simulation(SimConfig(publishes=0, lookups=5))


def test_cli_json_has_every_key_and_plot_writes_png(tmp_path, capsys):
    png = tmp_path / "run.png"
    argv = ["sim", "run", "--nodes", "100", "--publishes", "10", "--lookups", "30", "--seed", "2"]
    argv += ["--join", "fast", "--loss", "0.01", "--json", "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    figs = json.loads(out)  # exactly one JSON object
    assert set(figs) >= REQUIRED_KEYS
    assert figs["nodes"] == 100 and figs["lookups"] == 30
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_table_and_progress(capsys):
    argv = ["sim", "run", "--nodes", "60", "--publishes", "5", "--lookups", "10", "--join", "fast"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "lookup success" in captured.out and "hops p50" in captured.out
    assert "lookup" in captured.err and "100%" in captured.err


def test_cli_bad_input_is_one_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sim", "run", "--loss", "1.5"])
    assert exc.value.code == 2
    assert "must be in [0, 1)" in capsys.readouterr().err
    assert main(["sim", "run", "--nodes", "1", "--json"]) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
