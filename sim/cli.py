"""``metaspace sim ...``: the researchers' commands.

* ``metaspace sim run --nodes N --publishes P --lookups L --seed S [...] [--json] [--plot FILE.png]`` —
  one run; with ``--churn ipfs`` a run over virtual hours with metrics per window; with
  ``--malicious F --attack NAME`` hostile nodes;
* ``metaspace sim sweep --grid k=10,20 alpha=3,5 --repeats 3 [--ray-address ADDR]`` (``sim.sweep_cli``);
* ``metaspace sim attack --shares 0.1,0.2,0.3 --attacks drop,liar,eclipse`` (``sim.sweep_cli``);
* ``metaspace sim watch --nodes 100000 --intents 1000000`` (``sim.watch_cli``): polling vs push;
* ``metaspace sim negotiate ...`` (registered by ``sim.negotiate_cli`` when that module is present).

Progress bars go to stderr (with ``--json`` only when stderr is a terminal), tables to stdout
(``sim.progress``); with ``--json`` ONE JSON object goes to stdout. Bad parameters are refused before
any work starts (exit 2, one line).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from sim.progress import PhaseProgress, format_value, print_table

RESULT_ROWS: list[tuple[str, str]] = [
    ("nodes", "nodes"),
    ("publishes", "publishes"),
    ("lookups", "lookups"),
    ("lookup_success", "lookup success"),
    ("record_availability", "records with an honest replica"),
    ("honest_replicas_p50", "honest replicas per record, p50"),
    ("publish_ok", "publishes with >= 1 replica"),
    ("publish_replicas_p50", "replicas per publish, p50"),
    ("keys_per_publish", "keys per publish (extra groups)"),
    ("publish_msgs_per_publish", "messages per publish"),
    ("hops_p50", "hops p50"),
    ("hops_p95", "hops p95"),
    ("msgs_per_lookup", "messages per lookup"),
    ("latency_ms_p50", "lookup latency p50 (virtual ms)"),
    ("latency_ms_p90", "lookup latency p90 (virtual ms)"),
    ("join_msgs_per_node", "join messages per node"),
    ("routing_table_p50", "routing table size p50"),
    ("killed", "nodes killed before lookups"),
    ("malicious_nodes", "malicious nodes"),
    ("lost", "messages lost"),
    ("events", "events"),
    ("virtual_s", "virtual time (s)"),
    ("wall_s", "wall time (s)"),
    ("events_per_s", "events per second"),
    ("rss_mb", "RSS (MB)"),
    ("rss_per_node_kib", "RSS per node (KiB)"),
]

CHURN_ROWS: list[tuple[str, str]] = [
    ("nodes", "nodes (steady state)"),
    ("churn_model", "sessions"),
    ("duration_h", "virtual hours"),
    ("departures", "departures"),
    ("arrivals_new_id", "arrivals, new identity"),
    ("arrivals_same_id", "arrivals, same identity"),
    ("lookups_done", "lookups"),
    ("lookup_success", "lookup success"),
    ("availability_mean", "availability, mean of windows"),
    ("availability_min", "availability, worst window"),
    ("replicas_p50", "replicas in the k closest, p50"),
    ("replicas_p10", "replicas in the k closest, p10"),
    ("latency_ms_p50", "lookup latency p50 (virtual ms)"),
    ("latency_ms_p90", "lookup latency p90 (virtual ms)"),
    ("publish_latency_ms_p50", "publish latency p50 (virtual ms)"),
    ("publish_latency_ms_p90", "publish latency p90 (virtual ms)"),
    ("msgs_per_node_h", "requests per node per hour"),
    ("targets.lookup_p90_lt_1s", "target: lookup p90 < 1 s"),
    ("targets.publish_p50_lt_1s", "target: publish p50 < 1 s"),
    ("targets.success_ge_99_9", "target: success >= 99.9%"),
    ("wall_s", "wall time (s)"),
    ("rss_mb", "RSS (MB)"),
]

SERIES_COLUMNS = [
    ("t_h", "hour"),
    ("live_nodes", "live"),
    ("availability", "availability"),
    ("replicas_p50", "replicas p50"),
    ("lookup_ms_p50", "lookup p50 ms"),
    ("lookup_ms_p90", "lookup p90 ms"),
    ("publish_ms_p50", "publish p50 ms"),
    ("msgs_per_node_h", "req/node/h"),
]


def _number(kind: type, low: float | None = None, high: float | None = None, high_open: bool = False) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        too_low = low is not None and not value >= low
        too_high = high is not None and not (value < high if high_open else value <= high)
        if too_low or too_high:
            if high is None:
                raise argparse.ArgumentTypeError(f"must be >= {low:g}: {text}")
            bracket = ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}{bracket}: {text}")
        return value

    return parse


_count = _number(int, 0)
_fraction = _number(float, 0.0, 1.0, high_open=True)
_share = _number(float, 0.0, 1.0)  # a closed [0, 1]: 1 is a meaningful share
_nonneg = _number(float, 0.0)


def _key_value(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"use NAME=VALUE, got {text!r}")
    from sim.sweep import convert_value

    return name.strip(), convert_value(value.strip(), None)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``sim run`` (also the base values of ``sim sweep`` and ``sim attack``)."""
    from sim.adversary import ATTACKS

    p.add_argument("--nodes", type=_count, default=1000, help="simulated nodes (default 1000)")
    p.add_argument("--publishes", type=_count, default=100, help="signed intents published (default 100)")
    p.add_argument("--lookups", type=_count, default=1000, help="lookups of published keys (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="seed: same seed, same run (default 1)")
    p.add_argument("--loss", type=_fraction, default=0.0, help="probability a message is lost (default 0)")
    p.add_argument(
        "--fail-fraction", type=_fraction, default=0.0, help="share of nodes that die before the lookups"
    )
    p.add_argument("--rtt-ms", type=_nonneg, default=50.0, help="median round-trip time, ms (default 50)")
    p.add_argument("--k", type=int, default=20, help="bucket size / replication (default 20)")
    p.add_argument("--alpha", type=int, default=3, help="lookup parallelism (default 3)")
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
    p.add_argument(
        "--unreachable",
        choices=["silent", "refused"],
        default="silent",
        help="a dial to a fake contact or bogus addresses (a liar's) times out (default) or is refused",
    )
    p.add_argument(
        "--churn",
        default="none",
        help="session model: none (default), ipfs (Weibull, median 2 h, shape 0.6), exp[:MEDIAN], "
        "weibull:SHAPE[:MEDIAN] (MEDIAN like 2h, 45m); with churn the run lasts --duration-h",
    )
    p.add_argument("--duration-h", type=_nonneg, default=6.0, help="virtual hours of a churn run (default 6)")
    p.add_argument("--sample-min", type=_nonneg, default=10.0, help="minutes per metrics window (default 10)")
    p.add_argument(
        "--stagger-jobs",
        choices=["auto", "on", "off"],
        default="auto",
        help="fast join: prefilled nodes start their hourly refresh / replication / republish at random "
        "phases (on), all within 1 h +-10%% of the start (off), or on with churn only (auto, default)",
    )
    p.add_argument(
        "--same-id",
        type=_share,
        default=0.5,
        help="share of arrivals that are departed nodes coming back with their identity (default 0.5)",
    )
    p.add_argument(
        "--extra-share",
        type=_share,
        default=0.0,
        help="share of intents also filed under a second taxonomy group (extra_groups: an agent unsure of "
        "the category), so stored under two DHT keys; lookups ask either key (default 0)",
    )
    p.add_argument(
        "--malicious", type=_fraction, default=0.0, help="share of nodes run by the attacker (default 0)"
    )
    p.add_argument(
        "--attack", choices=["none", *sorted(ATTACKS)], default="none", help="what the malicious nodes do"
    )
    p.add_argument(
        "--attack-option",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an attack option, e.g. per_key=40 (eclipse) or pool=200000 (liar)",
    )
    p.add_argument(
        "--dht",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a DhtConfig setting of every honest node, e.g. get_quorum=3 or rpc_timeout=2",
    )


def config_from_args(args: argparse.Namespace) -> Any:
    """The ``SimConfig`` for parsed ``sim run`` arguments."""
    from sim.config import SimConfig

    dht: dict[str, Any] = {"refresh_on_bootstrap": False} if getattr(args, "no_join_refresh", False) else {}
    dht.update(dict(args.dht))
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
        unreachable=args.unreachable,
        dht=dht,
        churn=args.churn,
        duration_h=args.duration_h,
        sample_min=args.sample_min,
        same_id=args.same_id,
        malicious=args.malicious,
        attack=args.attack,
        attack_options=dict(args.attack_option),
        stagger_jobs=args.stagger_jobs,
        extra_share=args.extra_share,
    )


def register(subparsers: Any) -> None:
    """Add ``sim`` (run, sweep, attack and, if present, negotiate) to a ``metaspace`` subparsers object.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers()`` returned.
    """
    from sim import sweep_cli, watch_cli

    sim_parser = subparsers.add_parser("sim", help="discrete-event simulations of the protocol (researchers)")
    sim_sub = sim_parser.add_subparsers(dest="sim_command", metavar="COMMAND", required=True)
    run = sim_sub.add_parser(
        "run",
        help="simulate N DHT nodes: join, publish signed intents, look them up",
        description="Simulate N real DHT cores on a virtual network: join, publish P signed intents, "
        "kill --fail-fraction of the nodes, run L lookups; report success, hops, messages, latency. "
        "With --churn: nodes come and go for --duration-h virtual hours; metrics per window.",
    )
    add_run_arguments(run)
    run.add_argument("--json", action="store_true", help="print ONE JSON object instead of tables")
    run.add_argument(
        "--plot", metavar="FILE.png", type=Path, help="draw the run's distributions / time series"
    )
    run.add_argument(
        "--windows-out",
        metavar="FILE.jsonl",
        type=Path,
        help="with --churn: write each window's row to FILE as one JSON line as soon as its operations "
        "have ended (a long run's curve survives a stopped run)",
    )
    run.set_defaults(func=cmd_run)
    sweep_cli.register(sim_sub)
    watch_cli.register(sim_sub)
    try:
        from sim import negotiate_cli
    except ModuleNotFoundError as exc:
        if exc.name != "sim.negotiate_cli":
            raise
    else:
        negotiate_cli.register(sim_sub)


def _flat(figures: dict[str, Any]) -> dict[str, Any]:
    out = dict(figures)
    for key, value in figures.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
    return out


def print_result(figures: dict[str, Any]) -> None:
    """The tables of a run on stdout: its figures, and a churn run's windows."""
    flat = _flat(figures)
    series = figures.get("series")
    rows = CHURN_ROWS if series else RESULT_ROWS
    print_table([(label, format_value(key, flat.get(key))) for key, label in rows], ["figure", "value"])
    if series:
        print_table(
            [[format_value(key, w.get(key)) for key, _ in SERIES_COLUMNS] for w in series],
            [label for _, label in SERIES_COLUMNS],
            title="per window (lookups and publishes by the window they started in)",
        )
    print(f"join: {figures.get('join_note', '')}")


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
    windows_out = args.windows_out
    if windows_out is not None and not config.session_model.enabled:
        print("metaspace sim run: error: --windows-out needs a churn run (--churn)", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        on_window = None
        if windows_out is not None:
            try:
                sink = stack.enter_context(windows_out.open("w", encoding="utf-8"))
            except OSError as exc:
                why = f"cannot write {windows_out}: {exc.strerror}"
                print(f"metaspace sim run: error: {why}", file=sys.stderr)
                return 2

            def on_window(row: dict[str, Any]) -> None:
                sink.write(json.dumps(row) + "\n")
                sink.flush()

        if args.json and not sys.stderr.isatty():  # a pipe or a log file: no bars, just the object
            result = run_simulation(config, on_window=on_window)
        else:
            with PhaseProgress() as bar:
                result = run_simulation(config, progress=bar, on_window=on_window)
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
        print_result(figures)
        if args.plot is not None:
            print(f"plot: {args.plot}")
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
