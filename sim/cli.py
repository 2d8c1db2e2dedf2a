"""``metaspace sim ...``: the researchers' commands.

* ``metaspace sim run --nodes N --publishes P --lookups L --seed S [...] [--json] [--plot FILE.png]``
* ``metaspace sim negotiate ...`` (registered by ``sim.negotiate_cli`` when that module is present)

Without ``--json`` a plain-text progress bar goes to stderr and a table to stdout; with ``--json`` ONE
JSON object goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

RESULT_ROWS: list[tuple[str, str]] = [
    ("nodes", "nodes"),
    ("publishes", "publishes"),
    ("lookups", "lookups"),
    ("lookup_success", "lookup success"),
    ("publish_ok", "publishes with >= 1 replica"),
    ("publish_replicas_p50", "replicas per publish, p50"),
    ("hops_p50", "hops p50"),
    ("hops_p95", "hops p95"),
    ("msgs_per_lookup", "messages per lookup"),
    ("latency_ms_p50", "lookup latency p50 (virtual ms)"),
    ("latency_ms_p90", "lookup latency p90 (virtual ms)"),
    ("join_msgs_per_node", "join messages per node"),
    ("routing_table_p50", "routing table size p50"),
    ("killed", "nodes killed before lookups"),
    ("lost", "messages lost"),
    ("events", "events"),
    ("virtual_s", "virtual time (s)"),
    ("wall_s", "wall time (s)"),
    ("events_per_s", "events per second"),
    ("rss_mb", "RSS (MB)"),
    ("rss_per_node_kib", "RSS per node (KiB)"),
]


class ProgressBar:
    """A ``\\r``-updated text progress bar (one line per phase), redrawn only when the percentage changes.

    Args:
        stream: where to draw (stderr).
        width: bar width in characters.
    """

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._phase = ""
        self._pct = -1

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self._phase:
            if self._phase:
                self.stream.write("\n")
            self._phase = phase
            self._pct = -1
        pct = 100 if total <= 0 else min(100, done * 100 // total)
        if pct == self._pct:
            return
        self._pct = pct
        filled = self.width * pct // 100
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{phase:<10} [{bar}] {pct:3d}% {done}/{total}")
        self.stream.flush()

    def close(self) -> None:
        if self._phase:
            self.stream.write("\n")
            self.stream.flush()
            self._phase = ""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1): {text}")
    return value


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text}")
    return value


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``sim run`` (shared with benches)."""
    p.add_argument("--nodes", type=_positive_int, default=1000, help="simulated nodes (default 1000)")
    p.add_argument(
        "--publishes", type=_positive_int, default=100, help="signed intents published (default 100)"
    )
    p.add_argument(
        "--lookups", type=_positive_int, default=1000, help="lookups of published keys (default 1000)"
    )
    p.add_argument("--seed", type=int, default=1, help="seed: same seed, same run (default 1)")
    p.add_argument("--loss", type=_fraction, default=0.0, help="probability a message is lost (default 0)")
    p.add_argument(
        "--fail-fraction",
        type=_fraction,
        default=0.0,
        help="share of nodes that die before the lookups (default 0)",
    )
    p.add_argument(
        "--rtt-ms", type=_nonneg_float, default=50.0, help="median round-trip time, ms (default 50)"
    )
    p.add_argument("--k", type=_positive_int, default=20, help="bucket size / replication (default 20)")
    p.add_argument("--alpha", type=_positive_int, default=3, help="lookup parallelism (default 3)")
    p.add_argument(
        "--join",
        choices=["protocol", "fast"],
        default="protocol",
        help="protocol: real bootstrap for every node; fast: prefilled tables + a short protocol phase",
    )
    p.add_argument(
        "--no-join-refresh",
        action="store_true",
        help="joining nodes skip the bucket refresh after their self-lookup (about 10x fewer join messages)",
    )
    p.add_argument(
        "--dead",
        choices=["refused", "silent"],
        default="refused",
        help="a dead node refuses connections after one RTT (default) or stays silent until the RPC timeout",
    )


def register(subparsers: Any) -> None:
    """Add ``sim`` (with ``run`` and, if present, ``negotiate``) to a ``metaspace`` subparsers object.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers()`` returned.
    """
    sim_parser = subparsers.add_parser("sim", help="discrete-event simulations of the protocol (researchers)")
    sim_sub = sim_parser.add_subparsers(dest="sim_command", metavar="COMMAND", required=True)
    run = sim_sub.add_parser(
        "run",
        help="simulate N DHT nodes: join, publish signed intents, look them up",
        description="Simulate N real DHT cores on a virtual network: join, publish P signed intents, "
        "kill --fail-fraction of the nodes, run L lookups; report success, hops, messages, latency.",
    )
    add_run_arguments(run)
    run.add_argument("--json", action="store_true", help="print ONE JSON object instead of a table")
    run.add_argument("--plot", metavar="FILE.png", type=Path, help="draw hop and latency distributions")
    run.set_defaults(func=cmd_run)
    try:
        from sim import negotiate_cli
    except ModuleNotFoundError as exc:
        if exc.name != "sim.negotiate_cli":
            raise
    else:
        negotiate_cli.register(sim_sub)


def config_from_args(args: argparse.Namespace) -> Any:
    """The ``SimConfig`` for parsed ``sim run`` arguments."""
    from sim.runner import SimConfig

    return SimConfig(
        nodes=args.nodes,
        publishes=args.publishes,
        lookups=args.lookups,
        seed=args.seed,
        loss=args.loss,
        fail_fraction=args.fail_fraction,
        rtt_ms=args.rtt_ms,
        k=args.k,
        alpha=args.alpha,
        join=args.join,
        dead_mode=args.dead,
        dht={"refresh_on_bootstrap": False} if getattr(args, "no_join_refresh", False) else {},
    )


def format_table(figures: dict[str, Any]) -> str:
    """A readable two-column table of a run's main figures."""
    lines = []
    for key, label in RESULT_ROWS:
        value = figures.get(key)
        if isinstance(value, float):
            text = f"{value:.4f}" if key in ("lookup_success", "publish_ok") else f"{value:g}"
        else:
            text = "-" if value is None else str(value)
        lines.append(f"{label:<34} {text}")
    lines.append(f"{'join':<34} {figures.get('join_note', '')}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Handler of ``metaspace sim run``. Returns the exit code."""
    from sim.runner import run_simulation

    try:
        config = config_from_args(args)
        config.validate()
    except ValueError as exc:
        print(f"metaspace sim run: error: {exc}", file=sys.stderr)
        return 2
    if args.plot is not None and not args.plot.parent.exists():
        print(f"metaspace sim run: error: no such directory: {args.plot.parent}", file=sys.stderr)
        return 2
    bar = None if args.json else ProgressBar(sys.stderr)
    try:
        result = run_simulation(config, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    figures = result.to_dict()
    if args.plot is not None:
        from sim.plot import plot_result

        try:
            plot_result(result, args.plot)
        except RuntimeError as exc:
            print(f"metaspace sim run: error: {exc}", file=sys.stderr)
            return 1
        figures["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(figures, sort_keys=False))
    else:
        print(format_table(figures))
        if args.plot is not None:
            print(f"{'plot':<34} {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``python -m sim.cli``) with the global ``--home`` option."""
    parser = argparse.ArgumentParser(prog="metaspace")
    parser.add_argument("--home", type=Path, default=Path.home() / ".metaspace", help="agent home directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sim.cli``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
