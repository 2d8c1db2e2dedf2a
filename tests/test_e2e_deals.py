"""End to end, real processes on 127.0.0.1: two agents find each other and negotiate the tire case.

* both sides end holding the same co-signed agreement, inside both private limits;
* with an over-limit deal the seller's side waits in AWAITING_APPROVAL and closes only after
  ``metaspace approve`` (the real CLI command);
* a restarted peer keeps its intents, matches and deals, and an interrupted negotiation ends cleanly on
  both sides;
* two agents still negotiate while the bootstrap node is down (they talk directly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metaspace.home import Home
from negotiation import verify_agreement
from tests.net_helpers.procs import (
    Bootstrap,
    Peer,
    Procs,
    init_home,
    metaspace_cmd,
    poll_until,
    procs,  # noqa: F401 - a pytest fixture
    run_cli,
    start_bootstrap,
    wait_peer,
)

CHICAGO = (41.8781, -87.6298)
SUBURB = (41.6600, -87.7000)  # ~25 km south
STEP_TIMEOUT = 120.0
TIRE = {"category": "vehicles/tires", "radius_km": 50, "quantity": 4, "attributes": {"size": "225/65R17"}}


def _start_peer(procs: Procs, name: str, home: Home, boot: Bootstrap, *extra: str) -> Peer:
    argv = metaspace_cmd("--home", str(home.root), "peer", "--bootstrap", boot.addr,
                         "--watch-interval", "0.5", "--deal-timeout", "30", *extra)  # fmt: skip
    proc = procs.start(name, argv)
    return wait_peer(hash(name) % 1000, home, proc)


def _deal(peer: Peer, pred: Any = None) -> dict[str, Any] | None:
    deals = peer.client.get("/api/v1/deals")["deals"]
    return next((d for d in deals if pred is None or pred(d)), None)


def _usd(minor: int) -> dict[str, Any]:
    return {"amount_minor": minor, "currency": "USD", "per_unit": True}


def _publish_pair(seller: Peer, buyer: Peer) -> None:
    """Seller asks $80 (private floor $55); buyer publishes no price (private ceiling $70).

    The zone is wide enough for both agents' private margins (each keeps 5-10% of its limit)."""
    text = "4 used tires 225/65R17, $80 each"
    seller.publish(
        action="SELL", lat=CHICAGO[0], lon=CHICAGO[1], text=text, price=_usd(8000), limit=_usd(5500), **TIRE
    )
    buyer.publish(
        action="BUY",
        lat=SUBURB[0],
        lon=SUBURB[1],
        text="necesito llantas 225/65R17",
        limit=_usd(7000),
        **TIRE,
    )


def _agents(procs: Procs, tmp_path: Path, seller_flags: list[str]) -> tuple[Bootstrap, Peer, Peer]:
    boot = start_bootstrap(procs, tmp_path / "boot")
    seller_home = init_home(tmp_path / "seller", *CHICAGO, extra=seller_flags)
    buyer_home = init_home(tmp_path / "buyer", *SUBURB, extra=["--language", "es", "--spend-limit", "500USD"])
    return (
        boot,
        _start_peer(procs, "seller", seller_home, boot),
        _start_peer(procs, "buyer", buyer_home, boot),
    )


def _check_agreement(seller: Peer, buyer: Peer) -> dict[str, Any]:
    b = poll_until(
        lambda: _deal(buyer, lambda d: d["state"] in ("agreed", "failed")), STEP_TIMEOUT, "buyer's deal"
    )
    assert b["state"] == "agreed", b
    s = poll_until(
        lambda: _deal(seller, lambda d: d["id"] == b["id"] and d["agreement"]), STEP_TIMEOUT, "seller"
    )
    assert s["state"] == "agreed"
    assert s["agreement"] == b["agreement"], "both sides must hold byte-identical agreements"
    agreement = verify_agreement(
        bytes.fromhex(b["agreement"]),
        bytes.fromhex(b["signatures"]["buyer"]),
        bytes.fromhex(b["signatures"]["seller"]),
    )
    assert 5500 * 1.05 <= agreement.terms.price_minor <= 7000 * 0.95, "inside both private limits and margins"
    assert agreement.terms.quantity == 4
    return b


def test_tire_deal_end_to_end_then_restart_keeps_everything(procs: Procs, tmp_path: Path) -> None:
    boot, seller, buyer = _agents(procs, tmp_path, ["--spend-limit", "500USD"])
    _publish_pair(seller, buyer)
    deal = _check_agreement(seller, buyer)
    # The seller's human sees it in their own language.
    events = seller.client.get("/api/v1/matches")["matches"]
    assert events and events[0]["state"] == "agreed"

    # Restart the seller: intents, matches and deals are still there, and it serves the network again.
    before = {
        k: seller.client.get(f"/api/v1/{k}")[k if k != "intents" else "intents"] for k in ("matches", "deals")
    }
    intents_before = seller.client.get("/api/v1/intents")
    seller.proc.popen.terminate()
    seller.proc.popen.wait(timeout=30)
    again = _start_peer(procs, "seller2", seller.home, boot)
    assert again.client.get("/api/v1/intents") == intents_before
    assert again.client.get("/api/v1/matches")["matches"] == before["matches"]
    deals_after = again.client.get("/api/v1/deals")["deals"]
    assert [d["id"] for d in deals_after] == [deal["id"]] and deals_after[0]["state"] == "agreed"
    assert deals_after[0]["agreement"] == deal["agreement"]


def test_over_limit_waits_for_the_humans_approval(procs: Procs, tmp_path: Path) -> None:
    # The seller's human asks for big decisions: 4 tires at ~$65 (~$260) is over its $100 limit.
    _boot, seller, buyer = _agents(procs, tmp_path, ["--spend-limit", "100USD", "--autonomy", "ask_big"])
    _publish_pair(seller, buyer)
    waiting = poll_until(
        lambda: _deal(seller, lambda d: d["needs_approval"]), STEP_TIMEOUT, "an approval request"
    )
    assert waiting["state"] == "awaiting_approval"
    b = _deal(buyer)
    assert b is not None and b["state"] != "agreed", "nothing closes before the seller's human says yes"
    out = run_cli("--home", str(seller.home.root), "approve", waiting["id"])
    assert waiting["id"][:8] in out or "approved" in out.lower()
    _check_agreement(seller, buyer)


def test_interrupted_negotiation_ends_on_both_sides(procs: Procs, tmp_path: Path) -> None:
    boot, seller, buyer = _agents(procs, tmp_path, ["--spend-limit", "100USD", "--autonomy", "ask_big"])
    _publish_pair(seller, buyer)
    waiting = poll_until(
        lambda: _deal(seller, lambda d: d["needs_approval"]), STEP_TIMEOUT, "an approval request"
    )
    seller.proc.kill9()  # the seller's peer dies mid-negotiation
    failed = poll_until(
        lambda: _deal(buyer, lambda d: d["state"] == "failed"), STEP_TIMEOUT, "the buyer's end"
    )
    assert failed["id"] == waiting["id"] and failed["agreement"] is None
    again = _start_peer(procs, "seller2", seller.home, boot)
    ended = poll_until(
        lambda: _deal(again, lambda d: d["id"] == waiting["id"]), STEP_TIMEOUT, "seller's deal"
    )
    assert ended["state"] == "failed" and ended["reason"] == "aborted" and ended["agreement"] is None


def test_agents_still_deal_while_the_bootstrap_node_is_down(procs: Procs, tmp_path: Path) -> None:
    boot = start_bootstrap(procs, tmp_path / "boot")
    seller_home = init_home(tmp_path / "seller", *CHICAGO, extra=["--spend-limit", "500USD"])
    # The buyer's human wants to start negotiations by hand.
    buyer_home = init_home(
        tmp_path / "buyer", *SUBURB, extra=["--spend-limit", "500USD", "--autonomy", "always_ask"]
    )
    seller = _start_peer(procs, "seller", seller_home, boot)
    buyer = _start_peer(procs, "buyer", buyer_home, boot)
    _publish_pair(seller, buyer)
    match = poll_until(
        lambda: next(iter(buyer.client.get("/api/v1/matches")["matches"]), None), STEP_TIMEOUT, "match"
    )
    boot.proc.kill9()
    out = run_cli("--home", str(buyer.home.root), "negotiate", match["id"], "--json")
    assert match["id"] in out or '"id"' in out
    # always_ask: the buyer's own side waits for its human before committing.
    waiting = poll_until(
        lambda: _deal(buyer, lambda d: d["needs_approval"]), STEP_TIMEOUT, "buyer's approval request"
    )
    run_cli("--home", str(buyer.home.root), "approve", waiting["id"])
    _check_agreement(seller, buyer)
