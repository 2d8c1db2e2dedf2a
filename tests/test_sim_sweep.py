"""Sweeps: the grid, rows with errors, CSV / Parquet tables, and a real local Ray runtime (started once)."""

from __future__ import annotations

import csv
import json
import os

import pytest

from sim.cli import main
from sim.sweep import ROW_MACHINE_KEYS, Task, config_for, expand, parse_grid, run_sweep, run_task, write_table

BASE = {"nodes": 60, "publishes": 6, "lookups": 20, "join": "fast", "fast_bootstraps": 5}


def _seeded(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ROW_MACHINE_KEYS}


def test_grid_axes_take_the_types_of_their_fields():
    axes = parse_grid(
        ["k=10,20", "alpha=3", "churn=none,ipfs", "loss=0,0.01", "get_quorum=0,3", "dht.new_knob=4"]
    )
    assert axes == {
        "k": [10, 20],
        "alpha": [3],
        "churn": ["none", "ipfs"],
        "loss": [0.0, 0.01],
        "get_quorum": [0, 3],
        "dht.new_knob": [4],
    }
    for bad in (["k"], ["k=1", "k=2"], ["warp=1,2"], ["k=ten"], ["dht={}"], ["k="]):
        with pytest.raises(ValueError):
            parse_grid(bad)


def test_expand_repeats_with_consecutive_seeds_and_builds_configs():
    tasks = expand(parse_grid(["k=10,20", "get_quorum=2"]), repeats=3, seed=7, base=BASE)
    assert len(tasks) == 6 and [t.seed for t in tasks] == [7, 8, 9, 7, 8, 9]
    assert [t.index for t in tasks] == list(range(6))
    cfg = config_for(tasks[4])
    assert cfg.k == 20 and cfg.seed == 8 and cfg.dht == {"get_quorum": 2} and cfg.nodes == 60
    with pytest.raises(ValueError):
        expand({"k": [10]}, repeats=0, seed=1, base=BASE)


def test_a_failing_configuration_is_an_error_row():
    row = run_task(Task(0, {"dht.no_such_knob": 1}, 0, 1, dict(BASE)))
    assert row["error"].startswith("ValueError") and "no_such_knob" in row["error"]
    row = run_task(Task(1, {"alpha": 30}, 0, 1, dict(BASE)))
    assert "exceeds --k" in row["error"]
    good = run_task(Task(2, {"k": 10}, 0, 1, dict(BASE)))
    assert good["error"] == "" and good["lookup_success"] == 1.0 and good["k"] == 10


def test_tables_as_csv_and_parquet(tmp_path):
    rows = [
        {"k": 10, "repeat": 0, "seed": 1, "error": "", "lookup_success": 1.0},
        {"k": 20, "repeat": 0, "seed": 1, "error": "ValueError: x", "extra": "late column"},
    ]
    path = write_table(rows, ["k"], tmp_path / "t.csv")
    with path.open() as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["k", "repeat", "seed", "error", "lookup_success", "extra"]
    assert got[1]["error"] == "ValueError: x" and got[0]["extra"] == ""
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(write_table(rows, ["k"], tmp_path / "t.parquet")).to_pylist()
    assert table[0]["k"] == 10 and table[1]["extra"] == "late column" and table[0]["lookup_success"] == 1.0
    with pytest.raises(ValueError):
        write_table(rows, ["k"], tmp_path / "t.xlsx")


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray runtime with two worker CPUs, started once for this module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    yield ray
    ray.shutdown()


def test_ray_rows_match_inline_rows_and_errors_stay_in_their_row(local_ray):
    tasks = expand(parse_grid(["k=10,20", "alpha=3,30"]), repeats=1, seed=3, base=BASE)
    seen: list = []
    on_ray = run_sweep(tasks, use_ray=True, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("sweep", 4, 4) and len(seen) == 4
    assert [(r["k"], r["alpha"]) for r in on_ray] == [(10, 3), (10, 30), (20, 3), (20, 30)]
    errors = {(r["k"], r["alpha"]): r["error"] for r in on_ray}
    assert "exceeds --k" in errors[(10, 30)] and "exceeds --k" in errors[(20, 30)]
    assert errors[(10, 3)] == errors[(20, 3)] == ""
    # the runs happened in Ray's worker processes, not here
    assert all(r["worker_pid"] != os.getpid() for r in on_ray)
    inline = run_sweep(tasks, use_ray=False)
    assert [_seeded(r) for r in on_ray] == [_seeded(r) for r in inline]
    assert on_ray[0]["lookup_success"] == 1.0 and local_ray.is_initialized()  # a running Ray is reused


def test_cli_sweep_on_ray_writes_the_table_and_the_plot(local_ray, tmp_path, capsys):
    out, png = tmp_path / "rows.csv", tmp_path / "summary.png"
    argv = ["sim", "sweep", "--grid", "k=10,20", "churn=none,exp:1h", "--repeats", "2", "--nodes", "60"]
    argv += [
        "--publishes",
        "5",
        "--lookups",
        "15",
        "--join",
        "fast",
        "--duration-h",
        "0.1",
        "--sample-min",
        "3",
    ]
    argv += ["--out", str(out), "--plot", str(png)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "sweep: 8 runs" in text and "success" in text
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 and {r["churn"] for r in rows} == {"none", "exp:1h"}
    assert all(r["error"] == "" for r in rows)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_sweep_inline_json_and_bad_grids(capsys):
    argv = ["sim", "sweep", "--inline", "--json", "--grid", "alpha=2,3", "--nodes", "50", "--publishes", "4"]
    argv += ["--lookups", "10", "--join", "fast"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["rows"]) == 2 and len(doc["summary"]) == 2 and doc["axes"] == {"alpha": [2, 3]}
    assert main(["sim", "sweep", "--inline", "--grid", "warp=1"]) == 2
    assert "unknown grid parameter" in capsys.readouterr().err
    assert main(["sim", "sweep", "--inline", "--grid", "k=0,-1"]) == 2  # nothing could run: fail fast
    assert "no configuration can run" in capsys.readouterr().err


def test_cli_attack_side_by_side(capsys):
    argv = [
        "sim",
        "attack",
        "--inline",
        "--shares",
        "0.1,0.2",
        "--attacks",
        "drop,liar",
        "--disjoint",
        "default",
    ]
    argv += ["--nodes", "80", "--publishes", "8", "--lookups", "20", "--join", "fast"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "success default" in text and "available default" in text
    for attack in ("drop", "liar"):
        assert attack in text
    # a disjoint-path setting the core does not have becomes error rows, not a crash
    argv[argv.index("default")] = "default,4"
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "success d=4" in text


def test_cli_attack_eclipse_rows_per_puzzle_size_in_one_file(capsys, tmp_path):
    out = tmp_path / "attack.csv"
    argv = ["sim", "attack", "--inline", "--shares", "0.2", "--attacks", "drop,eclipse", "--disjoint", "1"]
    argv += [
        "--puzzle-bits",
        "0,16",
        "--nodes",
        "80",
        "--publishes",
        "8",
        "--lookups",
        "20",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "eclipse c=0" in text and "eclipse c=16" in text and "msgs d=1" in text and "fast join" in text
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["attack"], r["attack.puzzle_bits"]) for r in rows] == [
        ("drop", ""),
        ("eclipse", "0"),
        ("eclipse", "16"),
    ]
    assert {r["join"] for r in rows} == {"fast"}  # sim attack prefills unless told --join protocol
    assert rows[2]["eclipse_puzzle_bits"] == "16" and int(rows[1]["eclipse_near_k"]) > int(
        rows[2]["eclipse_near_k"]
    )
    assert main([*argv[:9], "--puzzle-bits", "-1"]) == 2
