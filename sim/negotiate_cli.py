"""``metaspace sim negotiate``: the negotiation strategy tournament (see :mod:`sim.negotiate`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from negotiation import DEFAULT_MAX_ROUNDS, STRATEGIES
from negotiation.types import MAX_SESSION_ROUNDS

MAX_PAIRS = 100_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=int, default=100, help="buyer/seller scenarios (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--rounds", type=int, default=DEFAULT_MAX_ROUNDS, help=f"round cap (default {DEFAULT_MAX_ROUNDS})"
    )
    parser.add_argument(
        "--spare",
        type=int,
        default=2,
        help="rounds before the cap at which strategies reach their reservation (default 2)",
    )
    parser.add_argument(
        "--strategies",
        default="boulware,linear,conceder,tit_for_tat",
        help="comma-separated strategy names (default: all built-ins)",
    )
    parser.add_argument("--json", action="store_true", help="print ONE JSON object instead of tables")


def register(subparsers: Any) -> None:
    """Add ``negotiate`` to the ``sim`` subparsers.

    Args:
        subparsers: the object ``sim_parser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser(
        "negotiate",
        help="tournament of negotiation strategies on generated buyer/seller scenarios",
        description="Play every ordered pair of strategies on --pairs scenarios (half with a zone of "
        "agreement) through the real sans-IO sessions; report agreements, rounds, Nash distance, welfare.",
    )
    add_arguments(p)
    p.set_defaults(func=cmd_negotiate)


def cmd_negotiate(args: argparse.Namespace) -> int:
    """Run the tournament and print it. Returns the exit code."""
    from sim.negotiate import TABLE_COLUMNS, tournament
    from sim.progress import print_table

    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        known = ", ".join(sorted(STRATEGIES))
        print(f"error: unknown strategy {', '.join(unknown) or '(none)'}; known: {known}", file=sys.stderr)
        return 2
    if not 1 <= args.pairs <= MAX_PAIRS:
        print(f"error: --pairs must be in [1, {MAX_PAIRS}]", file=sys.stderr)
        return 2
    if not 1 <= args.rounds <= MAX_SESSION_ROUNDS:
        print(f"error: --rounds must be in [1, {MAX_SESSION_ROUNDS}]", file=sys.stderr)
        return 2
    if not 0 <= args.spare < args.rounds:
        print("error: --spare must be in [0, --rounds)", file=sys.stderr)
        return 2
    report = tournament(args.pairs, args.seed, names, args.rounds, spare_rounds=args.spare)
    if args.json:
        print(json.dumps(report["summary"], sort_keys=True))
        return 0
    print_table(
        [[fmt.format(row[key]) for key, _, fmt in TABLE_COLUMNS] for row in report["table"]],
        [label for _, label, _ in TABLE_COLUMNS],
        title=f"{args.pairs} scenarios per pair of strategies",
    )
    print_table([(key, value) for key, value in report["summary"].items()], ["figure", "value"])
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.negotiate_cli`` (until the ``metaspace sim`` command is wired)."""
    parser = argparse.ArgumentParser(prog="python -m sim.negotiate_cli", description=__doc__)
    add_arguments(parser)
    return cmd_negotiate(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
