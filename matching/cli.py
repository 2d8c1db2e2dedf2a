"""``metaspace understand "TEXT"``: show how a text is understood, without publishing anything."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from matching.errors import MatchingError

if TYPE_CHECKING:
    from matching.classify import Votes

#: How many categories ``--explain`` shows per vote.
EXPLAIN_BEST = 3


def register(subparsers: Any) -> None:
    """Add the ``understand`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("understand", help="show the intent understood from a text (publishes nothing)")
    p.add_argument("text", help="what you want, in your language")
    p.add_argument("--lat", type=float, default=None, help="your latitude (becomes an H3 cell, res 7)")
    p.add_argument("--lon", type=float, default=None, help="your longitude")
    p.add_argument(
        "--lang", default=None, help="language code, overrides detection (en, es, zh, fr, de, pt, ...)"
    )
    p.add_argument(
        "--currency", default=None, help="currency for a bare '$' or a price without currency (ISO code)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--explain",
        action="store_true",
        help="also show each vote of the category classifier: its weight and the categories it favours",
    )
    p.set_defaults(func=handle_understand)


def handle_understand(args: argparse.Namespace) -> int:
    """Run ``understand`` and print the result. Returns an exit code (2 for bad input)."""
    from matching.understand import understand
    from wire.currency import format_minor

    if (args.lat is None) != (args.lon is None):
        print("error: give both --lat and --lon, or neither", file=sys.stderr)
        return 2
    location = None if args.lat is None else (args.lat, args.lon)
    defaults = {"currency": args.currency.upper()} if args.currency else {}
    try:
        u = understand(args.text, location=location, lang=args.lang, defaults=defaults)
    except MatchingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = u.summary()
    votes = None
    if args.explain:
        from matching.understand import category_votes

        each = category_votes([args.text], lang=args.lang, currency=defaults.get("currency"))
        votes = vote_table(each, summary["category"])
    if args.json:
        if votes is not None:
            summary["votes"] = votes
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return 0
    price = summary["price"]
    lines = [
        f"action:     {summary['action']}",
        f"category:   {summary['category']}"
        + ("  (not sure: pick one with --category)" if summary["needs_choice"] else ""),
        "candidates: " + ", ".join(f"{c['code']} {c['probability']:.0%}" for c in summary["categories"]),
        "attributes: " + (", ".join(f"{k}={v}" for k, v in summary["attributes"].items()) or "-"),
        "price:      "
        + (
            "-"
            if price is None
            else format_minor(price["amount_minor"], price["currency"])
            + (" each" if price["per_unit"] else " for all")
            + (f" ({price['bound']})" if price["bound"] else "")
        ),
        f"quantity:   {summary['quantity']}",
        f"language:   {summary['lang']}",
        f"confidence: {summary['confidence']:.2f}",
        "missing:    " + (", ".join(summary["missing"]) or "-"),
        f"canonical:  {summary['canonical']}",
    ]
    lines += [f"warning:    {w}" for w in summary["warnings"]]
    if votes is not None:
        lines += explain_lines(votes)
    print("\n".join(lines))
    return 0


def vote_table(votes: Votes, chosen: str, best: int = EXPLAIN_BEST) -> list[dict[str, Any]]:
    """Per vote of one text (``Votes`` of a single text; the weighted sum last, as "sum"): its weight, the
    ``best`` categories it favours with their weighted scores, and ``chosen``'s weighted score and rank in it.
    A vote the text did not hear (weight 0) is left out; the boosts list only the categories they raise."""
    import numpy as np

    from matching.classify import VOTE_NAMES

    rows: list[tuple[str, float, Any]] = [
        (name, float(votes.weights[0, v]), votes.weights[0, v] * votes.scores[v, 0])
        for v, name in enumerate(VOTE_NAMES)
        if votes.weights[0, v] != 0.0
    ]
    rows.append(("sum", 1.0, votes.total()[0]))
    col = votes.codes.index(chosen) if chosen in votes.codes else None
    out: list[dict[str, Any]] = []
    for name, weight, scores in rows:
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        if name == "boosts":
            order = [i for i in order if scores[i] > 0.0]
        out.append(
            {
                "vote": name,
                "weight": round(weight, 4),
                "best": [{"code": votes.codes[i], "score": round(float(scores[i]), 4)} for i in order[:best]],
                "chosen": None if col is None else _rank(order, col, float(scores[col])),
            }
        )
    return out


def _rank(order: list[int], col: int, score: float) -> dict[str, Any]:
    return {"rank": 1 + order.index(col) if col in order else None, "score": round(score, 4)}


def explain_lines(table: list[dict[str, Any]]) -> list[str]:
    """``vote_table`` as text lines, one per vote."""
    lines = ["votes:      weight x score, best first; [the chosen category's rank in the vote]"]
    for row in table:
        best = ", ".join(f"{b['code']} {b['score']:+.3f}" for b in row["best"]) or "-"
        rank = row["chosen"]["rank"] if row["chosen"] is not None else None
        lines.append(f"  {row['vote']:<15} x{row['weight']:<5.2f} {best}" + (f"  [{rank}]" if rank else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m matching.cli understand ...``)."""
    parser = argparse.ArgumentParser(prog="metaspace")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
