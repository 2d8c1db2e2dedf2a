"""``metaspace sim watch``: the cost of watching, polling vs push (see :mod:`sim.watch`).

    metaspace sim watch --nodes 100000 --intents 1000000 [--churn ipfs] [--json]

Prints the two models side by side (RPCs per node per hour, the hottest key's replica load, time from
publish to match, missed notifications under churn), or ONE JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from sim.progress import PhaseProgress, print_table

#: Rows of the side-by-side table: (title, figure suffix).
ROWS = (
    ("RPCs per node per hour, mean", "rpc_per_node_h_mean"),
    ("RPCs per node per hour, p50", "rpc_per_node_h_p50"),
    ("RPCs per node per hour, p99", "rpc_per_node_h_p99"),
    ("RPCs per node per hour, max", "rpc_per_node_h_max"),
    ("hottest key, busiest replica (RPC/s)", "hot_replica_rpc_s"),
    ("publish -> match p50 (s)", "match_s_p50"),
    ("publish -> match p90 (s)", "match_s_p90"),
    ("publish -> match p99 (s)", "match_s_p99"),
)


def register(sim_sub: Any) -> None:
    """Add ``watch`` to the ``sim`` subparsers."""
    from sim.watch import WatchConfig

    p = sim_sub.add_parser(
        "watch",
        help="the cost of watching: agents polling their key cells vs subscriptions pushed by replicas",
        description="Model N nodes and M live intents with Zipf-popular groups and places: the load of "
        "polling every key cell within the radius every --poll-s, beside subscriptions held by the key's "
        "closest nodes and notifications on store; per-GET costs calibrated on the real DHT core.",
    )
    defaults = WatchConfig()
    for f in dataclasses.fields(WatchConfig):
        value = getattr(defaults, f.name)
        kind = type(value)
        p.add_argument(
            "--" + f.name.replace("_", "-"),
            type=kind,
            default=value,
            help=f"(default {value})",
        )
    p.add_argument("--json", action="store_true", help="print ONE JSON object instead of a table")
    p.set_defaults(func=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    """Handler of ``metaspace sim watch``. Returns the exit code."""
    from sim.watch import WatchConfig, run_watch

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(WatchConfig)}
    config = WatchConfig(**values)
    try:
        config.validate()
    except ValueError as exc:
        print(f"metaspace sim watch: error: {exc}", file=sys.stderr)
        return 2
    if args.json and not sys.stderr.isatty():
        figures = run_watch(config)
    else:
        with PhaseProgress() as bar:
            figures = run_watch(config, progress=bar)
    if args.json:
        print(json.dumps(figures))
        return 0
    calib = figures["calibration"]
    print(
        f"{config.nodes} nodes, {config.intents} live intents, {figures['keys_watched']} keys watched, "
        f"{figures['cells_per_intent']} key cells per intent, churn {config.churn}; calibrated on "
        f"{calib['nodes']} real cores: {calib['msgs_per_get']} messages per GET"
    )
    rows = [(title, figures[f"poll_{key}"], figures[f"push_{key}"]) for title, key in ROWS]
    rows.append(("missed notifications under churn", "-", figures["push_missed_under_churn"]))
    print_table(rows, ["", f"poll every {config.poll_s:g} s", f"push, renew {config.renew_s:g} s"])
    print(
        f"hottest key: {figures['hot_key_watchers']} watchers ({100 * figures['hot_key_share']:.2f}% of all)"
    )
    return 0
