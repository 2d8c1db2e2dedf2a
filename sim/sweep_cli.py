"""``metaspace sim sweep`` and ``metaspace sim attack``: grids of runs, inline or on Ray (``sim.sweep``).

* ``sim sweep --grid k=10,20 alpha=3,5 churn=none,ipfs --repeats 3 [--ray-address ADDR] [--out t.csv]``
  runs every configuration x repeat as a Ray task (a local Ray unless ``--ray-address``; ``--inline``
  runs them in this process) and prints one summary row per configuration; ``--out`` writes every run's
  row (CSV or Parquet), ``--plot`` a summary chart.
* ``sim attack --shares 0.1,0.2,0.3 --attacks drop,liar,eclipse --disjoint 1,3 [--puzzle-bits 0,8,16]`` is a
  sweep over malicious share x attack x ``dht.disjoint_paths`` printed side by side: lookup success, record
  availability and messages per lookup for each disjoint-path setting ("default" leaves the core's own
  default); the eclipse rows are repeated for each id puzzle size (``attack.puzzle_bits``). Its join is
  ``fast`` unless ``--join protocol`` is given (see ``cmd_attack``).

The other options of ``sim run`` give the base values of every configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.progress import PhaseProgress, format_value, print_table

#: Short column titles of the summary metrics.
SHORT = {
    "lookup_success": "success",
    "record_availability": "available",
    "availability_mean": "avail/window",
    "latency_ms_p50": "lookup p50 ms",
    "latency_ms_p90": "lookup p90 ms",
    "publish_latency_ms_p50": "publish p50 ms",
    "msgs_per_lookup": "msgs/lookup",
    "msgs_per_node_h": "req/node/h",
}


def _add_execution(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeats", type=int, default=1, help="runs per configuration, seeds seed..seed+R-1")
    p.add_argument(
        "--ray-address",
        help="a Ray cluster (e.g. ray://head:10001 or auto); default: a local Ray for the sweep",
    )
    p.add_argument("--workers", type=int, help="CPUs of the local Ray (default: all)")
    p.add_argument("--inline", action="store_true", help="run the configurations here, one by one, no Ray")
    p.add_argument("--out", type=Path, metavar="FILE", help="write every run's row: .csv or .parquet")
    p.add_argument("--json", action="store_true", help="print ONE JSON object (rows and summary)")


def register(sim_sub: Any) -> None:
    """Add ``sweep`` and ``attack`` to the ``sim`` subparsers."""
    from sim.cli import add_run_arguments

    sweep = sim_sub.add_parser(
        "sweep",
        help="run a parameter grid x repeats as Ray tasks; one table of results",
        description="Run every configuration of a grid (x --repeats) as a Ray task and collect one table. "
        "Grid names: SimConfig fields (k, alpha, churn, loss, nodes, malicious, attack ...), DhtConfig "
        "fields (get_quorum, rpc_timeout ...), dht.NAME, attack.NAME.",
    )
    sweep.add_argument("--grid", nargs="+", required=True, metavar="NAME=V1,V2", help="the grid axes")
    _add_execution(sweep)
    sweep.add_argument("--plot", type=Path, metavar="FILE.png", help="summary chart (mean over repeats)")
    add_run_arguments(sweep)
    sweep.set_defaults(func=cmd_sweep)

    attack = sim_sub.add_parser(
        "attack",
        help="lookup success and record availability under attack, disjoint paths side by side",
        description="Malicious share x attack x disjoint-path setting in one sweep; prints lookup success, "
        "record availability and messages per lookup for each setting side by side. The join is the fast "
        "one (prefilled routing tables) unless --join protocol is given.",
    )
    attack.add_argument(
        "--shares", default="0.1,0.2,0.3", help="malicious shares (default 0.1,0.2,0.3)", metavar="F1,F2"
    )
    attack.add_argument(
        "--attacks", default="drop,liar,eclipse", help="attacks (default drop,liar,eclipse)", metavar="A1,A2"
    )
    attack.add_argument(
        "--disjoint",
        default="1,3",
        help="values of dht.disjoint_paths to compare, first = off (default 1,3); 'default' = not set",
    )
    attack.add_argument(
        "--puzzle-bits",
        default="0",
        metavar="C1,C2",
        help="id puzzle sizes for the eclipse rows (attack.puzzle_bits; default 0), e.g. 0,8,16",
    )
    _add_execution(attack)
    add_run_arguments(attack)
    attack.set_defaults(func=cmd_attack, join="fast")


def _base(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    from sim.cli import config_from_args

    config = config_from_args(args)
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "seed"}


def _execute(
    prog: str, args: argparse.Namespace, axes: dict[str, list[Any]], out: Path | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | int:
    """Expand, check, run, write the rows to ``out`` (if given); returns (rows, summary) or an exit code."""
    from sim.sweep import config_for, expand, run_sweep, summarize, write_table

    try:
        tasks = expand(axes, args.repeats, args.seed, _base(args))
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    if out is not None and not _out_ok(prog, out):
        return 2
    errors = []
    for task in tasks:  # fail fast when nothing could run; a few bad configurations become error rows
        try:
            config_for(task).validate()
        except (TypeError, ValueError) as exc:
            errors.append(str(exc))
    if errors and len(errors) == len(tasks):
        print(f"{prog}: error: no configuration can run: {errors[0]}", file=sys.stderr)
        return 2
    try:
        if args.json:
            rows = run_sweep(tasks, not args.inline, args.ray_address, args.workers)
        else:
            with PhaseProgress() as bar:
                rows = run_sweep(tasks, not args.inline, args.ray_address, args.workers, bar)
    except RuntimeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    if out is not None:
        write_table(rows, list(axes), out)
    return rows, summarize(rows, list(axes))


def _out_ok(prog: str, out: Path) -> bool:
    """True if ``--out`` names a table format we write; else says so on stderr."""
    if out.suffix.lower() in (".csv", ".parquet"):
        return True
    print(f"{prog}: error: --out must end in .csv or .parquet", file=sys.stderr)
    return False


def cmd_sweep(args: argparse.Namespace) -> int:
    """Handler of ``metaspace sim sweep``."""
    from sim.sweep import SUMMARY_METRICS, parse_grid

    prog = "metaspace sim sweep"
    try:
        axes = parse_grid(args.grid)
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    if args.plot is not None and not args.plot.parent.exists():
        print(f"{prog}: error: no such directory: {args.plot.parent}", file=sys.stderr)
        return 2
    done = _execute(prog, args, axes, args.out)
    if isinstance(done, int):
        return done
    rows, summary = done
    names = list(axes)
    shown = [m for m in SUMMARY_METRICS if any(s.get(m) is not None for s in summary)]
    if args.plot is not None:
        from sim.plot import plot_sweep

        try:
            plot_sweep(summary, names, shown, args.plot)
        except RuntimeError as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({"axes": axes, "repeats": args.repeats, "rows": rows, "summary": summary}))
        return 0
    print_table(
        [
            [*(s[a] for a in names), s["runs"], s["errors"], *(format_value(m, s.get(m)) for m in shown)]
            for s in summary
        ],
        [*names, "runs", "errors", *(SHORT.get(m, m) for m in shown)],
        title=f"sweep: {len(rows)} runs, mean over {args.repeats} repeat(s)",
    )
    for s in summary:
        if s.get("error"):
            print(f"error in {', '.join(f'{a}={s[a]}' for a in names)}: {s['error']}")
    if args.out is not None:
        print(f"rows: {args.out}")
    if args.plot is not None:
        print(f"plot: {args.plot}")
    return 0


def cmd_attack(args: argparse.Namespace) -> int:
    """Handler of ``metaspace sim attack``.

    The configurations of one invocation differ only in the attack, its share, the disjoint paths and the
    puzzle size, so they share a seed; each run builds its own network (with ``--join fast``, the default
    here, a converged network prefilled in about a second at 10k nodes: the cost of a run is its lookups).
    """
    from sim.sweep import dht_value, parse_grid

    prog = "metaspace sim attack"
    disjoint = [v.strip() for v in args.disjoint.split(",") if v.strip()]
    try:
        axes = parse_grid([f"malicious={args.shares}", f"attack={args.attacks}"])
        bits = parse_grid([f"attack.puzzle_bits={args.puzzle_bits}"])["attack.puzzle_bits"]
        if disjoint:
            axes["dht.disjoint_paths"] = [
                None if v == "default" else dht_value("disjoint_paths", v) for v in disjoint
            ]
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    if any(not isinstance(b, int) or b < 0 for b in bits):
        print(f"{prog}: error: --puzzle-bits takes integers >= 0", file=sys.stderr)
        return 2
    settings = axes.get("dht.disjoint_paths", [None])
    grids = []  # (label of the rows' attack column, axes)
    for name in axes["attack"]:
        sizes = bits if name == "eclipse" else [0]
        for c in sizes:
            grid: dict[str, list[Any]] = {"malicious": axes["malicious"], "attack": [name]}
            if name == "eclipse":
                grid["attack.puzzle_bits"] = [c]
            grid["dht.disjoint_paths"] = settings
            label = f"{name} c={c}" if name == "eclipse" and bits != [0] else name
            grids.append((label, grid))
    out = args.out
    if out is not None and not _out_ok(prog, out):
        return 2
    rows: list[dict[str, Any]] = []
    summary: list[tuple[str, dict[str, Any]]] = []
    for label, grid in grids:
        done = _execute(prog, args, grid, None)  # one file with every grid's rows, written below
        if isinstance(done, int):
            return done
        rows += done[0]
        summary += [(label, s) for s in done[1]]
    if out is not None:
        from sim.sweep import write_table

        write_table(rows, ["malicious", "attack", "attack.puzzle_bits", "dht.disjoint_paths"], out)
    if args.json:
        print(json.dumps({"axes": {**axes, "attack.puzzle_bits": bits}, "rows": rows,
                          "summary": [{**s, "label": label} for label, s in summary]}))  # fmt: skip
        return 0
    metrics = ("lookup_success", "record_availability", "msgs_per_lookup")
    table = []
    for label, _grid in grids:
        for share in axes["malicious"]:
            line: list[Any] = [label, share]
            for d in settings:
                key = (label, share, d)
                s = next(
                    (s for lab, s in summary if (lab, s["malicious"], s["dht.disjoint_paths"]) == key), {}
                )
                if s.get("errors"):
                    line += ["error"] * len(metrics)
                else:
                    line += [format_value(m, s.get(m)) for m in metrics]
            table.append(line)
    headers = ["attack", "malicious"]
    for d in settings:
        label = "default" if d is None else f"d={d}"
        headers += [f"success {label}", f"available {label}", f"msgs {label}"]
    print_table(
        table,
        headers,
        title=f"lookup success / records with an honest replica / messages per lookup, {args.nodes} nodes "
        f"({args.join} join)",
    )
    for label, s in summary:
        if s.get("error"):
            where = f"{label} malicious={s['malicious']} disjoint_paths={s['dht.disjoint_paths']}"
            print(f"error in {where}: {s['error']}")
    if args.out is not None:
        print(f"rows: {args.out}")
    return 0
