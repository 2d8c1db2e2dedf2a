"""``metaspace status`` and ``metaspace identity``: this agent, its limits and its peer's state (the
network part summarised: reachability, relays, connections, the last hole punch; ``--json`` has all).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from metaspace.home import home_from_args


def cmd_status(args: argparse.Namespace) -> int:
    """Local facts (works without a running peer) plus the peer's status when it runs."""
    from metaspace.api.control import ControlClient, ControlError, PeerNotRunning, not_running_message
    from metaspace.cli.output import render_mapping, to_json
    from metaspace.keystore import stored_peer_id

    home = home_from_args(args)
    peer_id = stored_peer_id(home.keystore_file)
    if peer_id is None:
        print(
            f"error: no agent in {home.root}; create one with `metaspace {home.home_flag()}init`",
            file=sys.stderr,
        )
        return 1
    from metaspace.cli.client import _load_config

    conf = _load_config(home)
    local: dict[str, Any] = {"agent": peer_id, "home": str(home.root)}
    if conf is not None:
        local["limits"] = {
            "autonomy": conf.autonomy,
            "spend": conf.spend,
            "spend_limit": None
            if conf.spend_limit_minor is None
            else {"amount_minor": conf.spend_limit_minor, "currency": conf.currency, "per_unit": False},
            "share": conf.share,
            "location": conf.location,
            "marketplace": conf.marketplace,
        }
    code = 0
    try:
        local["peer"] = ControlClient(home).get("/api/v1/status")
        local["running"] = True
    except PeerNotRunning:
        local["running"] = False
        local["peer"] = not_running_message(home)
        code = 3
    except ControlError as exc:
        local["running"] = False
        local["peer"] = f"error: {exc.message}"
        code = 1
    if not args.json and isinstance(local.get("peer"), dict) and "network" in local["peer"]:
        local["peer"]["network"] = network_summary(local["peer"]["network"])
        local["peer"]["persona_network"] = [  # each private intent's own host (share: nothing)
            {"intent": str(n.get("intent_id", ""))[:12], **network_summary(n)}
            for n in local["peer"].get("persona_network") or []
        ]
    print(to_json(local) if args.json else render_mapping(local))
    return code


def _short(peer_id: str) -> str:
    return peer_id if len(peer_id) <= 16 else f"{peer_id[:8]}…{peer_id[-6:]}"


def network_summary(net: dict[str, Any] | None) -> dict[str, Any]:
    """The readable part of the peer's ``network`` status (``--json`` shows all of it): reachable or
    not and why, the relays, how each peer is connected, the last hole punch."""
    if not net:
        return {"reachability": "not checked"}
    out: dict[str, Any] = {"reachability": net.get("reachability"), "why": net.get("reason")}
    if net.get("observed_addr"):
        out["seen_from_outside_as"] = net["observed_addr"]
    relays = [r for r in net.get("relays") or [] if r.get("state") != "idle" or r.get("detail")]
    if relays:
        out["relays"] = "; ".join(
            f"{_short(r['relay'])}: {r['state']}" + (f" ({r['detail']})" if r.get("detail") else "")
            for r in relays
        )
    conns = net.get("connections") or {}
    if conns:
        out["connections"] = ", ".join(f"{_short(p)} {kind}" for p, kind in conns.items())
    punches = net.get("hole_punches") or []
    if punches:
        last = punches[-1]
        out["last_hole_punch"] = f"{_short(last['peer'])}: {last['outcome']}" + (
            f" ({last['reason']})" if last.get("reason") else ""
        )
    return out


def cmd_identity(args: argparse.Namespace) -> int:
    """Show the agent id; with ``--verify``, unlock the keystore to check the passphrase."""
    from metaspace import keystore
    from metaspace.cli.output import to_json

    home = home_from_args(args)
    if args.verify:
        peer_id = keystore.unlock(home.keystore_file).peer_id
    else:
        peer_id = str(keystore.read_keystore(home.keystore_file).get("peer_id"))
    print(to_json({"peer_id": peer_id, "verified": args.verify}) if args.json else peer_id)
    return 0
