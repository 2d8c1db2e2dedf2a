"""Simulator scale benchmark: wall time, events/s, RSS per node, lookup success, messages per lookup vs N.

For each N: join (protocol by default, ``--join fast`` for the huge sizes), P publishes, then L lookups
(default L = N), no faults, 50 ms median RTT. Each N runs in a fresh subprocess so RSS is its own.
Targets: success >= 99.9% at every N; 10k nodes (join + 10k lookups) under 2 minutes; < 10 KiB per node.

    .venv/bin/python bench/sim_scale.py [--sizes 1000,10000] [--lookups 0] [--publishes 1000]
    .venv/bin/python bench/sim_scale.py --sizes 100000 --join fast --lookups 10000

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the project root first: this folder's own wire.py must not shadow the ``wire`` package
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]

KEYS = [
    "nodes",
    "join",
    "publishes",
    "lookups",
    "lookup_success",
    "publish_replicas_p50",
    "hops_p50",
    "hops_p95",
    "msgs_per_lookup",
    "latency_ms_p50",
    "latency_ms_p90",
    "join_msgs_per_node",
    "routing_table_p50",
    "events",
    "net_msgs_per_lookup",
    "wall_s",
    "cpu_s",
    "join_cpu_s",
    "lookup_cpu_s",
    "setup_wall_s",
    "join_wall_s",
    "publish_wall_s",
    "lookup_wall_s",
    "cpu_ms_per_lookup",
    "events_per_s",
    "rss_mb",
    "rss_per_node_kib",
    "publish_cpu_s",
    "setup_rss_mb",
    "join_rss_mb",
    "publish_rss_mb",
    "lookup_rss_mb",
    "peak_rss_mb",
    "prefill_wall_s",
    "prefill_cpu_s",
    "prefill_sort_wall_s",
    "prefill_sample_wall_s",
    "prefill_load_wall_s",
    "prefill_start_wall_s",
    "prefill_contacts_per_node",
    "routing_table_min",
]


def _progress(phase: str, done: int, total: int) -> None:
    step = max(1, total // 10)
    if done == total or done % step == 0:
        print(f"  {phase} {done}/{total}", file=sys.stderr, flush=True)


def one(n: int, publishes: int, lookups: int, seed: int, join: str, rtt_ms: float, dht: str = "{}") -> dict:
    """One size, in this process."""
    from sim import SimConfig, run_simulation

    cfg = SimConfig(
        nodes=n,
        publishes=publishes,
        lookups=lookups,
        seed=seed,
        join=join,
        rtt_ms=rtt_ms,
        dht=json.loads(dht),
    )
    figs = run_simulation(cfg, progress=_progress).to_dict()
    return {k: figs.get(k) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="simulator scale benchmark")
    p.add_argument("--sizes", default="1000,10000", help="comma-separated node counts (default 1000,10000)")
    p.add_argument("--publishes", type=int, default=1000)
    p.add_argument("--lookups", type=int, default=0, help="lookups per size (0 = N)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--join", choices=["protocol", "fast"], default="protocol")
    p.add_argument("--rtt-ms", type=float, default=50.0)
    p.add_argument(
        "--dht", default="{}", help="extra DhtConfig fields as JSON, e.g. '{\"refresh_on_bootstrap\": false}'"
    )
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        lookups = args.lookups or args.one
        print(json.dumps(one(args.one, args.publishes, lookups, args.seed, args.join, args.rtt_ms, args.dht)))
        sys.stdout.flush()
        # skip the interpreter's teardown: freeing 10^6 nodes one object at a time took 9 minutes (1M run)
        os._exit(0)
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        print(f"N={n} ({args.join} join)", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--one", str(n), "--publishes", str(args.publishes)]
        cmd += ["--lookups", str(args.lookups), "--seed", str(args.seed), "--join", args.join]
        cmd += ["--rtt-ms", str(args.rtt_ms), "--dht", args.dht]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    at_10k = [r for r in rows if r["nodes"] == 10_000]
    at_100k = [r for r in rows if r["nodes"] >= 100_000]
    targets = {
        "success_ge_99_9": all((r["lookup_success"] or 0) >= 0.999 for r in rows),
        "10k_under_120s_wall": all(r["wall_s"] < 120 for r in at_10k) if at_10k else None,
        "10k_under_120s_cpu": all(r["cpu_s"] < 120 for r in at_10k) if at_10k else None,
        "under_10_kib_per_node_at_100k": all(r["rss_per_node_kib"] < 10 for r in at_100k)
        if at_100k
        else None,
    }
    out = {
        "bench": "sim_scale",
        "seed": args.seed,
        "dht": json.loads(args.dht),
        "results": rows,
        "targets": targets,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
