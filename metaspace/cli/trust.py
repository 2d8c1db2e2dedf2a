"""The trust subcommands of ``metaspace``: ``rate``, ``reputation``, ``block`` and ``unblock`` (the lists
``ratings`` and ``blocked`` are plain list commands in :mod:`metaspace.cli.client`). They talk to the
running agent peer's control API; input is validated here first."""

from __future__ import annotations

import argparse
from typing import Any

from metaspace.cli.client import _client, _emit


def _peer_arg(text: str) -> str:
    from metaspace.api.contract import check_id

    return check_id(text.strip(), "peer id")


def cmd_rate(args: argparse.Namespace) -> int:
    """``rate DEAL_ID SCORE [COMMENT]``: rate the other party of a co-signed deal, once."""
    from metaspace.api.contract import check_id, validate_rating

    body = {"score": args.score, "as_agreed": not args.not_as_agreed, "comment": " ".join(args.comment)}
    r = validate_rating(body)
    deal = check_id(args.id, "deal id")
    reply = _client(args).post(
        f"/api/v1/deals/{deal}/rate", {"score": r.score, "as_agreed": r.as_agreed, "comment": r.comment}
    )
    if args.json:
        _emit(args, reply)
        return 0
    where = "published in the network" if reply.get("published") else "saved (publishing is retried)"
    told = "; the other agent was told" if reply.get("delivered") else ""
    how = "went as agreed" if r.as_agreed else "did not go as agreed"
    print(f"rated deal {deal}: {r.score}/5, {how} — {where}{told}")
    print("note: a rating is public, with the agreement it names (both agents and the agreed terms)")
    return 0


def cmd_reputation(args: argparse.Namespace) -> int:
    """``reputation [PEER]``: an agent's profile and reputation (default: this agent's own)."""
    from metaspace.cli.output import RATING_COLUMNS, render_mapping, render_table, to_json

    client = _client(args)
    peer = _peer_arg(args.peer) if args.peer else str(client.get("/api/v1/status").get("peer_id"))
    reply = client.get(f"/api/v1/reputation/{peer}")
    if args.json:
        print(to_json(reply))
        return 0
    rep = reply.get("reputation") or {}
    profile = reply.get("profile") or {}
    agreed = rep.get("as_agreed")
    summary: dict[str, Any] = {
        "agent": reply.get("peer"),
        "handle": reply.get("handle") or "-",
        "score": f"{rep.get('score')}/100 ({rep.get('level')}, confidence {rep.get('confidence')})",
        "ratings": f"{rep.get('ratings')} from {rep.get('raters')} counterpart(s)"
        + ("" if agreed is None else f", {round(100 * agreed)}% went as agreed"),
        "flags": rep.get("flags") or "-",
        "profile": {k: profile.get(k) for k in ("languages", "categories", "autonomy", "protocols")}
        if profile
        else "none published",
    }
    if reply.get("blocked"):
        summary["blocked"] = True
    print(render_mapping(summary))
    print()
    print(render_table(reply.get("ratings") or [], RATING_COLUMNS))
    return 0


def cmd_block(args: argparse.Namespace) -> int:
    client = _client(args)
    peer = _peer_arg(args.peer)
    if args.command == "block":
        _emit(args, client.post("/api/v1/blocks", {"peer": peer}))
    else:
        _emit(args, client.delete(f"/api/v1/blocks/{peer}"))
    return 0


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add the trust subcommands to ``metaspace``'s subparsers."""
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser(
        "rate", parents=[parent, js], help="rate the other party of a deal you both signed (once)",
        description="Rate the other party of a co-signed deal, 1 (bad) to 5 (excellent). The rating is "
        "public, with the agreement it names: that evidence is what makes it count.",
    )  # fmt: skip
    p.add_argument("id", metavar="DEAL_ID")
    p.add_argument("score", type=int, metavar="SCORE", help="1 to 5")
    p.add_argument("comment", nargs="*", metavar="COMMENT", help="a short comment (one line)")
    p.add_argument("--not-as-agreed", action="store_true", help="the deal did not go as agreed")
    p.set_defaults(func=cmd_rate)

    p = sub.add_parser("reputation", parents=[parent, js], help="an agent's profile and reputation")
    p.add_argument("peer", nargs="?", metavar="PEER", help="its peer id (default: this agent)")
    p.set_defaults(func=cmd_reputation)

    for name, text in (("block", "drop everything a peer sends you"), ("unblock", "lift a block")):
        p = sub.add_parser(name, parents=[parent, js], help=text)
        p.add_argument("peer", metavar="PEER", help="the agent's peer id (12D3KooW...)")
        p.set_defaults(func=cmd_block)
