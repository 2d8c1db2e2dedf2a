"""Deals between agents behind NATs: how many close, how often hole punching upgrades the connection,
and how long an agreement takes, relayed vs direct.

    python bench/nat.py --attempts 5 [--pairings eim-eim,eim-symmetric,symmetric-symmetric]

Needs root (it builds network namespaces and nftables NATs with ``tests/net_helpers/netns.py``). One
test bed: a public network with a relaying bootstrap node and, per pairing, two home networks behind
NATs of the named kinds. Each attempt starts a fresh seller and a fresh buyer (new identities, so no
connection or NAT state carries over), publishes the tire case, and waits for the co-signed agreement.
Per pairing it reports the share of deals closed, the share whose connection ended direct (DCUtR
succeeded; read once the hole punch ended, up to ``PUNCH_WAIT`` after the agreement), and the median
time from the buyer's publish to agreement for deals whose connection was relayed or direct at
agreement time. The agents share nothing (the default), so the deal runs between the two intents'
persona hosts: the connection and the hole punches are read from their status (``persona_network``).
Prints one JSON line (with the load average) and a table on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.net_helpers.netns import TestBed, skip_reason
from tests.net_helpers.procs import NetTestError, Procs, init_home, poll_until
from tests.test_nat_netns import (
    CHICAGO,
    SUBURB,
    TIRE,
    _usd,
    personas,
    start_agent,
    start_relay,
    wait_relayed_reachability,
)

DEAL_TIMEOUT = 180.0
#: After the agreement: how long to wait for the hole punch between the personas to end (3 rounds).
PUNCH_WAIT = 45.0


def _deal(peer: Any) -> dict[str, Any] | None:
    for d in peer.client.get("/api/v1/deals")["deals"]:
        if d["state"] in ("agreed", "failed"):
            return d  # type: ignore[no-any-return]
    return None


def link(seller: Any, buyer: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """How the buyer's persona is connected to the seller's (``relayed``/``direct``/None), and the hole
    punches either side ran between them."""
    ours, theirs = personas(buyer), personas(seller)
    kinds = [n["connections"][p] for n in ours.values() for p in theirs if p in n.get("connections", {})]
    punches = [p for n in theirs.values() for p in n.get("hole_punches", []) if p["peer"] in ours]
    punches += [p for n in ours.values() for p in n.get("hole_punches", []) if p["peer"] in theirs]
    return (kinds[0] if kinds else None), punches


def attempt(bed: TestBed, root: Path, boot: Any, seller_ns: str, buyer_ns: str, n: int) -> dict[str, Any]:
    """One fresh seller/buyer pair: returns what happened."""
    procs = Procs(root / f"attempt{n}")
    out: dict[str, Any] = {"closed": False, "kind": None, "seconds": None, "error": None}
    try:
        seller_home = init_home(root / f"s{n}", *CHICAGO, extra=["--spend-limit", "500USD"])
        buyer_home = init_home(root / f"b{n}", *SUBURB, extra=["--spend-limit", "500USD"])
        seller = start_agent(bed, procs, "seller", seller_ns, seller_home.root, boot)
        buyer = start_agent(bed, procs, "buyer", buyer_ns, buyer_home.root, boot)
        wait_relayed_reachability(seller)
        wait_relayed_reachability(buyer)
        seller.publish(action="SELL", lat=CHICAGO[0], lon=CHICAGO[1], text="4 used tires 225/65R17, $80 each",
                       price=_usd(8000), limit=_usd(5500), **TIRE)  # fmt: skip
        started = time.monotonic()
        buyer.publish(action="BUY", lat=SUBURB[0], lon=SUBURB[1], text="necesito llantas 225/65R17",
                      limit=_usd(7000), **TIRE)  # fmt: skip
        deal = poll_until(lambda: _deal(buyer), DEAL_TIMEOUT, "the buyer's deal", interval=0.2)
        out["seconds"] = round(time.monotonic() - started, 2)
        out["closed"] = deal["state"] == "agreed"
        out["kind"], _punches = link(seller, buyer)
        if not out["closed"]:
            out["error"] = deal.get("reason")
        with contextlib.suppress(NetTestError):  # no punch at all (e.g. no relayed connection): say so
            poll_until(lambda: link(seller, buyer)[1], PUNCH_WAIT, "the hole punch", interval=0.5)
        out["final_kind"], punches = link(seller, buyer)
        out["punch"] = [{k: p[k] for k in ("outcome", "reason", "rtt_ms")} for p in punches][-2:]
    except (NetTestError, OSError) as exc:
        out["error"] = str(exc)[:300]
    finally:
        procs.close()
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    closed = [r for r in rows if r["closed"]]
    direct = [r for r in closed if r["kind"] == "direct"]
    relayed = [r for r in closed if r["kind"] == "relayed"]
    upgraded = [r for r in closed if r.get("final_kind") == "direct"]

    def median(rs: list[dict[str, Any]]) -> float | None:
        return round(statistics.median(r["seconds"] for r in rs), 2) if rs else None

    return {
        "attempts": n,
        "closed_share": round(len(closed) / n, 3) if n else None,
        "direct_share": round(len(upgraded) / n, 3) if n else None,
        "direct_at_agreement": len(direct),
        "agreement_s_p50_relayed": median(relayed),
        "agreement_s_p50_direct": median(direct),
        "errors": [r["error"] for r in rows if r["error"]][:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=3, help="attempts per NAT pairing")
    parser.add_argument("--pairings", default="eim-eim,eim-symmetric,symmetric-symmetric")
    args = parser.parse_args(argv)
    reason = skip_reason()
    if reason is not None:
        print(f"bench/nat.py can't run here: {reason}", file=sys.stderr)
        return 2
    pairings = [tuple(p.split("-")) for p in args.pairings.split(",")]
    kinds: list[str] = [k for pair in pairings for k in pair]
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    # `metaspace init` (in-process, by init_home) prints each new home as JSON: stdout is for our line.
    with (
        contextlib.redirect_stdout(sys.stderr),
        tempfile.TemporaryDirectory(prefix="bench-nat-") as tmp,
        TestBed(kinds) as bed,
    ):
        root = Path(tmp)
        relay_procs = Procs(root / "relay")
        try:
            boot = start_relay(bed, relay_procs, root / "relay-data")
            for i, (a, b) in enumerate(pairings):
                seller_home, buyer_home = bed.homes[2 * i], bed.homes[2 * i + 1]
                rows = []
                for n in range(args.attempts):
                    row = attempt(bed, root / f"p{i}", boot, seller_home.ns, buyer_home.ns, n)
                    print(f"{a}-{b} #{n}: {row}", file=sys.stderr, flush=True)
                    rows.append(row)
                results[f"{a}-{b}"] = summarize(rows)
        finally:
            relay_procs.close()
    line = {"bench": "nat", "pairings": results, "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    print(
        f"{'pairing':<22}{'closed':>8}{'direct':>8}{'p50 relayed s':>15}{'p50 direct s':>14}", file=sys.stderr
    )
    for name, r in results.items():
        cells = (
            r["closed_share"],
            r["direct_share"],
            r["agreement_s_p50_relayed"],
            r["agreement_s_p50_direct"],
        )
        print(f"{name:<22}{cells[0]!s:>8}{cells[1]!s:>8}{cells[2]!s:>15}{cells[3]!s:>14}", file=sys.stderr)
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
