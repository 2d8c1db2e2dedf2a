"""``metaspace meet`` (the meeting after a deal) and ``metaspace export`` / ``import`` (open NIP-99 listings).

* ``meet DEAL_ID`` shows the arrangement; ``meet DEAL_ID propose [--start "2026-12-05 14:00"] [--hours 2]
  [--cell CELL] [--pay cash,venmo]`` proposes (what is left out comes from the agent's suggestion: the
  neutral cell, tomorrow afternoon, your payment methods); ``confirm [--pay METHOD]``, ``decline``,
  ``cancel``, and ``ics [-o FILE]`` (the calendar file of the confirmed meeting).
* ``export INTENT_ID --format nip99`` prints the signed Nostr event of one of your intents (the peer
  signs it with a key derived for that purpose); ``import FILE`` verifies a NIP-99 event (its id and
  BIP-340 signature; refused with the reason otherwise), shows what would be published, asks, publishes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from metaspace.home import home_from_args


def _usage(message: str) -> Exception:
    from metaspace.cli.main import UsageError

    return UsageError(message)


def _client(args: argparse.Namespace) -> Any:
    from metaspace.api.control import ControlClient

    return ControlClient(home_from_args(args))


def parse_when(text: str) -> int:
    """``2026-12-05 14:00`` (local time), ``2026-12-05T14:00+01:00`` or a Unix time -> Unix seconds.

    Raises:
        UsageError: not a time.
    """
    if text.strip().isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise _usage(f'bad time {text!r} (e.g. "2026-12-05 14:00", local time)') from None
    return int((when if when.tzinfo else when.astimezone()).timestamp())


def _local(ts: object) -> str:
    if not isinstance(ts, int | float):
        return "?"
    return dt.datetime.fromtimestamp(ts).astimezone().strftime("%a %Y-%m-%d %H:%M %Z")


def render_meeting(view: dict[str, Any]) -> str:
    """The arrangement as lines for a terminal."""
    from metaspace.cli.output import sanitize

    lines = [f"meeting for deal {view.get('deal_id')}: {view.get('state')} (you are the {view.get('role')})"]

    def place(p: dict[str, Any]) -> str:
        c = p.get("center") or {}
        return f"cell {p.get('cell')} (≈ {c.get('lat')}, {c.get('lon')}, ~{p.get('size_km')} km across)"

    for key, label in (("plan", "agreed"), ("pending", "proposed"), ("suggestion", "your agent suggests")):
        p = view.get(key)
        if not isinstance(p, dict):
            continue
        who = {"me": " by you", "them": " by the other side"}.get(
            str(p.get("from") or p.get("proposed_by")), ""
        )
        pay = p.get("payment")
        pay_text = ", ".join(map(str, pay)) if isinstance(pay, list) else str(pay)
        lines.append(f"  {label}{who}: {_local(p.get('start'))} – {_local(p.get('end'))}")
        lines.append(f"    where: {place(p)}; a busy public place inside it")
        lines.append(f"    payment: {sanitize(pay_text)}")
        if key == "pending":
            lines.append(f"    answer before {_local(p.get('expires'))}")
    if view.get("reason"):
        lines.append(f"  reason: {view['reason']}")
    if view.get("undelivered"):
        lines.append(f"  {view['undelivered']} message(s) not delivered yet (retried)")
    if view.get("can"):
        lines.append(f"  next: {', '.join(view['can'])}")
    return "\n".join(lines)


def cmd_meet(args: argparse.Namespace) -> int:
    from metaspace.api.contract import check_id
    from metaspace.cli.output import to_json

    deal = check_id(args.id, "deal id")
    client = _client(args)
    base = f"/api/v1/deals/{deal}/handover"
    if args.action == "ics":
        data = client.get_bytes(f"{base}.ics")
        if args.output:
            Path(args.output).write_bytes(data)
            print(f"calendar file written: {args.output}")
        else:
            sys.stdout.write(data.decode("utf-8"))
        return 0
    if args.action == "propose":
        body: dict[str, Any] = {}
        if args.start:
            body["start"] = parse_when(args.start)
            body["end"] = body["start"] + int(args.hours * 3600)
        if args.cell:
            body["cell"] = args.cell
        if args.pay:
            body["payment"] = [m.strip().lower() for m in args.pay.split(",") if m.strip()]
        view = client.post(base, body)
    elif args.action == "confirm":
        view = client.post(f"{base}/confirm", {"payment": args.pay.strip().lower()} if args.pay else {})
    elif args.action in ("decline", "cancel"):
        view = client.post(
            f"{base}/decline", {"reason": "cancelled" if args.action == "cancel" else "declined"}
        )
    else:
        view = client.get(base)
    print(to_json(view) if args.json else render_meeting(view))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from metaspace.api.contract import check_id

    intent = check_id(args.id, "intent id")
    event = _client(args).get(f"/api/v1/intents/{intent}/export", format=args.format)
    print(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Verify a NIP-99 event, show what would be published, ask, publish."""
    from metaspace.api.contract import BadRequest, validate_publish
    from metaspace.cli.client import _load_config, location_fields, precheck_limits, render_preview
    from metaspace.cli.output import sanitize, to_json
    from metaspace.peer.nip99 import MAX_EVENT_BYTES, Nip99Error, import_event

    path = Path(args.file)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise _usage(f"cannot read {path}: {exc.strerror}") from None
    try:
        found = import_event(raw, dt.datetime.now().timestamp())
    except Nip99Error as exc:
        print(f"error: refused: {exc}; nothing was imported", file=sys.stderr)
        return 2
    home = home_from_args(args)
    conf = _load_config(home)
    body = dict(found["params"])
    if args.category:
        body["category"] = args.category
    if "lat" in body:
        ns = argparse.Namespace(lat=body.pop("lat"), lon=body.pop("lon"), cell=None)
        body.update(location_fields(ns, conf))
    body.setdefault("radius_km", 50)
    try:
        params = validate_publish(body)
    except BadRequest as exc:
        raise _usage(f"{exc.message}; add --category (see `metaspace categories`)") from None
    precheck_limits(params, conf, home)
    listing = found["listing"]
    print(f"verified NIP-99 listing {listing['id'][:16]}… by {listing['pubkey'][:16]}…: "
          f"{sanitize(listing['title'])}")  # fmt: skip
    for note in found["notes"]:
        print(f"note: {sanitize(note)}")
    if args.dry_run:
        print(to_json(params.to_body()))
        return 0
    client = _client(args)
    sent = params.to_body()
    preview = client.post("/api/v1/intents/preview", sent)
    print(render_preview(preview))
    if not args.yes:
        if not sys.stdin.isatty():
            raise _usage("not a terminal: add --yes to publish without confirmation")
        if input("Publish exactly this? [y/N] ").strip().lower() not in (
            "y",
            "yes",
            "s",
            "si",
            "sí",
            "oui",
            "ja",
        ):
            print("not published")
            return 1
    published = client.post("/api/v1/intents", sent)
    print(to_json(published) if args.json else f"published: {published.get('id')}")
    return 0


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add ``meet``, ``export`` and ``import`` to ``metaspace``'s subparsers."""
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "meet", parents=[parent, js], help="where, when and how to pay, after a deal",
        description="Arrange the meeting of a co-signed deal: a neutral area between you, a time, a payment "
        "method you both accept (no payment rails: cash or what you name). A proposal lapses after 24 h.",
    )  # fmt: skip
    p.add_argument("id", metavar="DEAL_ID")
    p.add_argument("action", nargs="?", default="show",
                   choices=["show", "propose", "confirm", "decline", "cancel", "ics"])  # fmt: skip
    p.add_argument("--start", help='propose: the start, local time ("2026-12-05 14:00")')
    p.add_argument("--hours", type=float, default=2.0, help="propose: how long the window is (default 2)")
    p.add_argument("--cell", help="propose: an H3 cell instead of the suggested one")
    p.add_argument("--pay", help="propose: payment methods (cash,venmo); confirm: the one you pick")
    p.add_argument("-o", "--output", help="ics: write the calendar file here")
    p.set_defaults(func=cmd_meet)

    p = sub.add_parser(
        "export", parents=[parent], help="one of your intents as an open listing (Nostr NIP-99)"
    )
    p.add_argument("id", metavar="INTENT_ID")
    p.add_argument("--format", default="nip99", choices=["nip99"], help="the listing format")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "import", parents=[parent, js], help="publish an intent from a NIP-99 listing (checked)"
    )
    p.add_argument("file", metavar="FILE", help="a NIP-99 event as JSON")
    p.add_argument("--category", help="the Meta Space category, when the listing names none")
    p.add_argument("--dry-run", action="store_true", help="verify and show, publish nothing")
    p.add_argument("-y", "--yes", action="store_true", help="publish without asking")
    p.set_defaults(func=cmd_import)
