"""``metaspace understand "TEXT"``: show how a text is understood, without publishing anything."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from matching.errors import MatchingError


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
    if args.json:
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
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m matching.cli understand ...``)."""
    parser = argparse.ArgumentParser(prog="metaspace")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
