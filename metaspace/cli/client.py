"""The client subcommands of ``metaspace``: they talk to the running agent peer's control API.

Input is validated here first (:mod:`metaspace.api.contract`) so mistakes get a clear one-line message
before anything is sent, and the human's limits from ``config.json`` are pre-checked (the peer checks
them again, authoritatively). Coordinates never leave this process: ``--lat/--lon`` become the H3
cell at the resolution the human allowed (``max_h3_res``) before they are sent to the peer.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from metaspace.cli.status import cmd_identity, cmd_status
from metaspace.home import Home, home_from_args

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhd]?)\s*$")
_MONEY = re.compile(r"^\s*(\d{1,13}(?:\.\d{1,4})?)\s*([A-Za-z]{3})?\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_RADIUS_KM = 50
ACTIONS = ("SELL", "BUY", "OFFER_SERVICE", "SEEK_SERVICE")


def _usage(message: str) -> Exception:
    from metaspace.cli.main import UsageError

    return UsageError(message)


def parse_duration(text: str) -> int:
    """``7d``, ``12h``, ``30m``, ``3600s`` or ``3600`` -> seconds.

    Raises:
        UsageError: not a duration.
    """
    m = _DURATION.match(text)
    if not m:
        raise _usage(f"bad duration {text!r} (e.g. 7d, 12h, 30m)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def parse_money(tokens: list[str], default_currency: str) -> dict[str, Any]:
    """``["80", "USD"]``, ``["80USD"]`` or ``["80"]`` -> a price dict in minor units.

    Raises:
        UsageError: not an amount; BadRequest: unknown currency.
    """
    from metaspace.api.contract import check_currency
    from wire.currency import to_minor

    text = " ".join(tokens)
    m = _MONEY.match(text)
    if not m or len(tokens) > 2:
        raise _usage(f"bad price {text!r} (e.g. --price 80 USD)")
    currency = check_currency(m.group(2) or default_currency)
    return {"amount_minor": to_minor(float(m.group(1)), currency), "currency": currency, "per_unit": True}


def parse_attrs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise _usage(f"bad --attr {item!r} (use NAME=VALUE, e.g. size=225/65R17)")
        out[key.strip().lower()] = value.strip()
    return out


def _load_config(home: Home) -> Any:
    """The agent's config, or None when there is none yet (the peer will complain then)."""
    from metaspace.config import load_config

    if not home.config_file.exists():
        return None
    return load_config(home.config_file)


def location_fields(args: argparse.Namespace, conf: Any) -> dict[str, Any]:
    """``{"cell": ...}`` / ``{"lat", "lon"}`` / ``{}`` from ``--lat/--lon/--cell`` and the human's limits.

    Raises:
        UsageError: location given although the human never shares one, finer than allowed, etc.
    """
    from wire.geo import cell_at, coarsen, is_cell, resolution

    lat, lon, cell = getattr(args, "lat", None), getattr(args, "lon", None), getattr(args, "cell", None)
    if (lat is None) != (lon is None):
        raise _usage("give both --lat and --lon")
    if lat is not None and cell is not None:
        raise _usage("give --lat/--lon or --cell, not both")
    if lat is not None and not (-90.0 <= lat <= 90.0):
        raise _usage(f"--lat must be between -90 and 90 (got {lat})")
    if lon is not None and not (-180.0 <= lon <= 180.0):
        raise _usage(f"--lon must be between -180 and 180 (got {lon})")
    if cell is not None and not is_cell(cell):
        raise _usage(f"--cell is not an H3 cell: {cell!r}")
    given = lat is not None or cell is not None
    if conf is None:
        return {"lat": lat, "lon": lon} if lat is not None else ({"cell": cell} if cell else {})
    if conf.max_h3_res is None:
        if given:
            raise _usage("your agent never shares a location (location: never); leave out --lat/--lon/--cell")
        return {}
    if lat is not None and lon is not None:
        return {"cell": cell_at(lat, lon, conf.max_h3_res)}
    if cell is not None:
        if resolution(cell) > conf.max_h3_res:
            raise _usage(
                f"--cell is finer than your agent may disclose (res {resolution(cell)} > {conf.max_h3_res}); "
                f"use {coarsen(cell, conf.max_h3_res)}"
            )
        return {"cell": cell}
    if conf.home_cell:
        return {"cell": conf.home_cell}
    raise _usage(
        "give --lat and --lon (or set a home location with `metaspace init --reconfigure --lat .. --lon ..`)"
    )


def precheck_limits(params: Any, conf: Any, home: Home) -> None:
    """Refuse early what the human's limits would refuse anyway (the peer re-checks).

    Raises:
        UsageError: action or category not allowed.
    """
    if conf is None:
        return
    fix = f"change it with `metaspace {home.home_flag()}init --reconfigure ...`"
    if not conf.allows_action(params.action):
        raise _usage(
            f"your agent may not publish {params.action} intents "
            f"(marketplace access: {conf.marketplace}); {fix}"
        )
    if not conf.allows_category(params.category):
        raise _usage(f"category {params.category} is not among your allowed categories; {fix}")


def _client(args: argparse.Namespace) -> Any:
    from metaspace.api.control import ControlClient

    return ControlClient(home_from_args(args))


def _emit(args: argparse.Namespace, value: Any, columns: Any = None) -> None:
    from metaspace.cli.output import emit

    emit(value, as_json=args.json, columns=columns)


def cmd_publish(args: argparse.Namespace) -> int:
    from metaspace.api.contract import validate_publish

    home = home_from_args(args)
    conf = _load_config(home)
    body: dict[str, Any] = {
        "action": args.action,
        "category": args.category,
        "radius_km": args.radius_km,
        "quantity": args.quantity,
        "attributes": parse_attrs(args.attr),
        "text": args.text,
        "lang": args.lang or (conf.language if conf else None),
        "expires_in_s": parse_duration(args.expires_in),
        **location_fields(args, conf),
    }
    if args.price is not None:
        body["price"] = parse_money(args.price, conf.currency if conf else "USD")
        body["price"]["per_unit"] = not args.total
    if args.limit is not None:
        body["limit"] = parse_money(args.limit, conf.currency if conf else "USD")
    params = validate_publish(body)
    precheck_limits(params, conf, home)
    sent = params.to_body()
    if args.dry_run:
        _emit(args, sent)
        return 0
    _emit(args, _client(args).post("/api/v1/intents", sent))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from metaspace.api.contract import validate_search
    from metaspace.cli.output import INTENT_COLUMNS

    conf = _load_config(home_from_args(args))
    body = {
        "action": args.action,
        "category": args.category,
        "radius_km": args.radius_km,
        "limit": args.limit,
        "text": args.text,
        **location_fields(args, conf),
    }
    params = validate_search(body)
    reply = _client(args).get("/api/v1/metaspace/search", **params.to_body())
    _emit(args, _items(reply, "results"), INTENT_COLUMNS)
    return 0


def _items(reply: Any, key: str) -> list[Any]:
    from metaspace.api.control import ControlError

    if isinstance(reply, dict) and isinstance(reply.get(key), list):
        return list(reply[key])
    raise ControlError(f"unexpected reply from the agent peer (no {key!r} list)")


def _list_cmd(path: str, key: str, columns_name: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from metaspace.cli import output

        _emit(args, _items(_client(args).get(path), key), getattr(output, columns_name))
        return 0

    return handler


def _id_cmd(method: str, path: str, what: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from metaspace.api.contract import check_id

        ident = check_id(args.id, what)
        client = _client(args)
        reply = (
            client.delete(path.format(id=ident)) if method == "DELETE" else client.post(path.format(id=ident))
        )
        _emit(args, reply)
        return 0

    return handler


def cmd_negotiate(args: argparse.Namespace) -> int:
    from metaspace.api.contract import check_id

    _emit(args, _client(args).post("/api/v1/negotiate/start", {"match_id": check_id(args.id, "match id")}))
    return 0


def cmd_categories(args: argparse.Namespace) -> int:
    from wire.taxonomy import taxonomy

    rows = [{"code": c.code, "label": c.label, "group": c.group} for c in taxonomy().categories]
    _emit(args, rows, [("code", "CATEGORY"), ("label", "LABEL"), ("group", "GROUP")])
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise _usage("not a terminal: add --yes to publish without confirmation")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "s", "si", "sí", "oui", "ja")


def cmd_sell_buy(args: argparse.Namespace) -> int:
    """``sell "TEXT"`` / ``buy "TEXT"``: understand, show, confirm, publish."""
    from metaspace.api.contract import PUBLISH_KEYS, BadRequest, validate_publish
    from metaspace.cli.output import to_json

    home = home_from_args(args)
    conf = _load_config(home)
    text = " ".join(args.text).strip()
    if not text:
        raise _usage(
            f'say what you want to {args.command}, e.g. metaspace {args.command} "four tires 225/65R17"'
        )
    loc = location_fields(args, conf)
    client = _client(args)
    draft = client.post("/api/v1/intents/understand", {"text": text, **_coarse_point(loc)})
    if not isinstance(draft, dict):
        raise _usage("the agent peer did not understand the text")
    body = {k: v for k, v in draft.items() if k in PUBLISH_KEYS and k not in ("lat", "lon", "cell")}
    chosen = _category_choice(draft, args)
    if chosen is not None:
        body["category"] = chosen
    body["action"] = _side(args.command, draft.get("action"), body.get("category"))
    body.update(loc)
    body["text"] = text  # the peer decides what of it is published (never a price or a private limit)
    body.setdefault("radius_km", DEFAULT_RADIUS_KM)
    if args.radius_km is not None:
        body["radius_km"] = args.radius_km
    if args.quantity is not None:
        body["quantity"] = args.quantity
    if args.price is not None:
        body["price"] = parse_money(args.price, conf.currency if conf else "USD")
    if args.limit is not None:
        body["limit"] = parse_money(args.limit, conf.currency if conf else "USD")
    try:
        params = validate_publish(body)
    except BadRequest as exc:
        missing = draft.get("missing")
        hint = (
            f" (could not infer: {', '.join(map(str, missing))})"
            if isinstance(missing, list) and missing
            else ""
        )
        raise _usage(f"{exc.message}{hint}; add --category/--price or use `metaspace publish`") from exc
    precheck_limits(params, conf, home)
    sent = params.to_body()
    preview = client.post("/api/v1/intents/preview", sent)
    if not isinstance(preview, dict) or not isinstance(preview.get("published"), dict):
        raise _usage("the agent peer did not say what it would publish; nothing was published")
    if not args.json:
        print(render_preview(preview, draft.get("confidence")))
    if not args.yes and not _confirm("Publish exactly this?"):
        print("not published")
        return 1
    published = client.post("/api/v1/intents", sent)
    if args.json:
        print(to_json({"understood": draft, "preview": preview, "published": published}))
    else:
        ident = published.get("id") if isinstance(published, dict) else None
        print(f"published: {ident}" if ident else f"published: {published}")
    return 0


#: The fields of an intent shown before publishing, in this order.
PREVIEW_KEYS = (
    "action", "category", "extra_groups", "attributes", "price", "quantity", "cell", "radius_km", "text",
    "lang", "author", "contact",
)  # fmt: skip


def render_preview(preview: dict[str, Any], confidence: object = None) -> str:
    """What ``metaspace sell/buy`` shows before asking: exactly the public fields the peer will sign and
    publish, what stays private, and the peer's warnings (remote-free, but sanitised all the same)."""
    from metaspace.cli.output import render_mapping, sanitize

    published = preview["published"]
    shown: dict[str, Any] = {k: published.get(k) for k in PREVIEW_KEYS if k in published}
    if not shown.get("extra_groups"):  # filed under its category's group only
        shown.pop("extra_groups", None)
    if shown.get("text") is None:
        shown["text"] = "(no free text)"
    lines = ["Will be published (anyone on the network can read this):", render_mapping(shown, indent=2)]
    private = preview.get("private") or {}
    if private.get("limit_text"):
        limit = sanitize(str(private["limit_text"]))
        lines.append(f"Kept private (never published or sent): your limit {limit}")
    if isinstance(confidence, int | float):
        lines.append(f"Understood with confidence {confidence:.2f}")
    for w in preview.get("warnings") or []:
        lines.append(f"note: {sanitize(str(w))}")
    return "\n".join(lines)


def _coarse_point(loc: dict[str, Any]) -> dict[str, float]:
    """lat/lon for ``understand`` (it may infer the currency from them): the cell's centre, never finer."""
    if loc.get("lat") is not None:
        return {"lat": loc["lat"], "lon": loc["lon"]}
    if loc.get("cell"):
        from wire.geo import center

        lat, lon = center(loc["cell"])
        return {"lat": round(lat, 4), "lon": round(lon, 4)}
    return {}


def cmd_web(args: argparse.Namespace) -> int:
    """Print (or open) the local web page's address, with the token in the URL fragment."""
    from metaspace.api.control import ControlClient

    client = ControlClient(home_from_args(args))
    client.get("/api/v1/status")  # fails clearly when no peer runs
    host, port, token = client.endpoint()
    url = f"http://{host}:{port}/#token={token}"
    if args.open:
        import webbrowser

        webbrowser.open(url)
    print(url)
    return 0


def _category_choice(draft: dict[str, Any], args: argparse.Namespace) -> str | None:
    """The category to publish under: ``--category``; else, when the agent was unsure (``needs_choice``),
    the human picks one of the best three on the keyboard; never a silent low-confidence guess. None keeps
    the understood category.

    Raises:
        UsageError: unsure and no terminal to ask (or ``--yes``): names the candidates and ``--category``.
    """
    from metaspace.api.contract import check_category

    if args.category is not None:
        return check_category(args.category)
    if not draft.get("needs_choice"):
        return None
    cands = [
        c for c in draft.get("categories") or [] if isinstance(c, dict) and isinstance(c.get("code"), str)
    ][:3]
    if not cands:
        return None
    codes = [str(c["code"]) for c in cands]
    if args.yes or not sys.stdin.isatty():
        raise _usage(
            f"not sure about the category ({', '.join(codes)}); "
            f"say which with --category, e.g. --category {codes[0]}"
        )
    print("Not sure about the category. Which one is it?")
    for n, c in enumerate(cands, start=1):
        p = c.get("probability")
        share = f", {p:.0%}" if isinstance(p, int | float) else ""
        print(f"  {n}) {c['code']}  {c.get('label', '')}{share}")
    answer = input(f"1-{len(cands)}, or another category code: ").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(cands):
        return codes[int(answer) - 1]
    if answer:
        return check_category(answer)
    raise _usage("no category chosen; nothing published")


def _side(command: str, understood: object, category: object = None) -> str:
    """The action for ``sell``/``buy``: the side comes from the command, the kind (goods or service) from the
    chosen category (or, without one, from what was understood)."""
    service = isinstance(understood, str) and understood.upper() in ("OFFER_SERVICE", "SEEK_SERVICE")
    if isinstance(category, str):
        from matching.cues import is_service_category

        service = is_service_category(category)
    if command == "sell":
        return "OFFER_SERVICE" if service else "SELL"
    return "SEEK_SERVICE" if service else "BUY"


def _location_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lat", type=float, help="latitude (sent only as a coarse H3 cell)")
    p.add_argument("--lon", type=float, help="longitude")
    p.add_argument("--cell", help="an H3 cell instead of --lat/--lon")


def _action_arg(text: str) -> str:
    return text.upper().replace("-", "_")


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add the client subcommands to ``metaspace``'s subparsers."""
    actions = list(ACTIONS)  # not imported from metaspace.api.contract: that imports wire (slow for --help)
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("status", parents=[parent, js], help="this agent and its peer")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("publish", parents=[parent, js], help="publish an intent")
    p.add_argument(
        "--action",
        type=_action_arg,
        choices=actions,
        required=True,
        help="sell, buy, offer_service, seek_service",
    )
    p.add_argument("--category", required=True, help="e.g. vehicles/tires (see `metaspace categories`)")
    _location_options(p)
    p.add_argument("--radius-km", type=int, default=DEFAULT_RADIUS_KM, help=f"default {DEFAULT_RADIUS_KM}")
    p.add_argument("--price", nargs="+", metavar="PRICE", help="AMOUNT [CURRENCY], e.g. 80 USD (per unit)")
    p.add_argument("--total", action="store_true", help="the price is for the whole quantity")
    p.add_argument(
        "--limit", nargs="+", metavar="LIMIT",
        help="AMOUNT [CURRENCY]: your private limit per unit (selling: minimum, buying: maximum), never sent",
    )  # fmt: skip
    p.add_argument("--quantity", type=int, default=1)
    p.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE", help="an attribute (repeat)")
    p.add_argument("--text", help="free text for the other side to read")
    p.add_argument("--lang", help="language of the text (default: yours)")
    p.add_argument("--expires-in", default="7d", help="e.g. 7d, 12h (at most 7d)")
    p.add_argument("--dry-run", action="store_true", help="validate and print what would be sent")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("search", parents=[parent, js], help="search the network for intents")
    p.add_argument(
        "--action",
        type=_action_arg,
        choices=actions,
        required=True,
        help="the action of the intents you want to find (sell finds sellers)",
    )
    p.add_argument("--category", required=True)
    _location_options(p)
    p.add_argument("--radius-km", type=int, default=DEFAULT_RADIUS_KM)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--text", help="rank results by similarity to this text")
    p.set_defaults(func=cmd_search)

    for name, path, key, cols, text in (
        ("intents", "/api/v1/intents", "intents", "INTENT_COLUMNS", "your published intents"),
        ("matches", "/api/v1/matches", "matches", "MATCH_COLUMNS", "counterparts found for your intents"),
        ("deals", "/api/v1/deals", "deals", "DEAL_COLUMNS", "negotiations and deals"),
        ("ratings", "/api/v1/ratings", "ratings", "RATING_COLUMNS", "ratings you made and received"),
        ("blocked", "/api/v1/blocks", "blocks", "BLOCK_COLUMNS", "peers you blocked (and flooders)"),
    ):
        p = sub.add_parser(name, parents=[parent, js], help=text)
        p.set_defaults(func=_list_cmd(path, key, cols))

    for name, method, path, what, text in (
        ("withdraw", "DELETE", "/api/v1/intents/{id}", "intent id", "withdraw one of your intents"),
        ("approve", "POST", "/api/v1/deals/{id}/approve", "deal id", "approve a deal waiting for you"),
        ("decline", "POST", "/api/v1/deals/{id}/decline", "deal id", "decline a deal"),
    ):
        p = sub.add_parser(name, parents=[parent, js], help=text)
        p.add_argument("id", metavar="ID", help=what)
        p.set_defaults(func=_id_cmd(method, path, what))

    p = sub.add_parser("negotiate", parents=[parent, js], help="start negotiating a match")
    p.add_argument("id", metavar="MATCH_ID")
    p.set_defaults(func=cmd_negotiate)

    for name, text in (
        ("sell", "sell something, described in your words"),
        ("buy", "buy something, in your words"),
    ):
        p = sub.add_parser(name, parents=[parent, js], help=text)
        p.add_argument("text", nargs="+", metavar="TEXT", help='e.g. "four used tires 225/65R17, $50 each"')
        _location_options(p)
        p.add_argument("--radius-km", type=int, default=None)
        p.add_argument(
            "--category", help="the category (see `metaspace categories`); asked for when the agent is unsure"
        )
        p.add_argument(
            "--price", nargs="+", metavar="PRICE", help="AMOUNT [CURRENCY]: override the understood price"
        )
        p.add_argument("--quantity", type=int, default=None)
        p.add_argument(
            "--limit", nargs="+", metavar="LIMIT",
            help="AMOUNT [CURRENCY]: your private limit per unit (never published)",
        )  # fmt: skip
        p.add_argument("-y", "--yes", action="store_true", help="publish without asking")
        p.set_defaults(func=cmd_sell_buy)

    p = sub.add_parser("identity", parents=[parent, js], help="show this agent's id")
    p.add_argument("--verify", action="store_true", help="unlock the keystore to check the passphrase")
    p.set_defaults(func=cmd_identity)

    p = sub.add_parser("web", parents=[parent], help="the address of this agent's local web page")
    p.add_argument("--open", action="store_true", help="open it in a browser")
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("categories", parents=[parent, js], help="list the categories of the taxonomy")
    p.set_defaults(func=cmd_categories)
