"""End to end, real processes on 127.0.0.1: two agents deal, arrange and confirm the transaction (the
meeting cell, time window and payment method; the buyer's human confirms with the CLI and both get the
.ics), export and import an open NIP-99 listing with the CLI (bad ones refused), rate each other with
the real CLI, and each sees the other's updated reputation and profile; bad meeting proposals and bad
ratings are refused with a reason and change nothing; a block drops the blocked agent's trust requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import pytest
from icalendar import Calendar

from tests.net_helpers.procs import (
    NetTestError,
    Procs,
    init_home,
    poll_until,
    procs,  # noqa: F401 - a pytest fixture
    run_cli,
    start_bootstrap,
)
from tests.test_e2e_deals import (
    CHICAGO,
    STEP_TIMEOUT,
    SUBURB,
    _check_agreement,
    _deal,
    _publish_pair,
    _start_peer,
)


def _cli_json(home: Path, *args: str) -> dict:
    return json.loads(run_cli("--home", str(home), *args, "--json"))  # type: ignore[no-any-return]


def _refused(home: Path, *args: str) -> str:
    with pytest.raises(NetTestError) as failure:
        run_cli("--home", str(home), *args)
    return str(failure.value)


def test_two_agents_rate_each_other_and_see_the_others_reputation(procs: Procs, tmp_path: Path) -> None:
    boot = start_bootstrap(procs, tmp_path / "boot")
    seller_home = init_home(
        tmp_path / "seller", *CHICAGO, extra=["--spend-limit", "500USD", "--share", "basic", "--owner", "ana"]
    )
    # the buyer shares "basic": an agent that shares nothing deals and rates through per-intent personas
    # (metaspace.peer.personas), so its ratings would not build the agent's own reputation
    # the buyer's human keeps control: deals over $100 wait for her, and her location stays city-level
    buyer_home = init_home(tmp_path / "buyer", *SUBURB, extra=[
        "--language", "es", "--autonomy", "ask_big", "--spend-limit", "100USD", "--share", "basic",
        "--location", "city", "--payment", "zelle,cash",
    ])  # fmt: skip
    seller = _start_peer(procs, "seller", seller_home, boot)
    buyer = _start_peer(procs, "buyer", buyer_home, boot)
    s_home, b_home = seller.home.root, buyer.home.root
    _publish_pair(seller, buyer)
    waiting = poll_until(lambda: _deal(buyer, lambda d: d["needs_approval"]), STEP_TIMEOUT, "the approval")
    run_cli("--home", str(b_home), "approve", waiting["id"])
    deal = _check_agreement(seller, buyer)["id"]
    _transaction(seller, buyer, deal, tmp_path)
    _open_listing(seller, buyer, tmp_path)

    # before anyone rated: both unknown (50/100), the seller's profile already names its handle
    first = _cli_json(b_home, "reputation", seller.peer_id)
    assert first["reputation"]["score"] == 50.0 and first["handle"] == "@ana/agent"
    assert "/metaspace/trust/1.0.0" in first["profile"]["protocols"]

    out = run_cli("--home", str(b_home), "rate", deal, "5", "llantas", "en", "buen", "estado")
    assert f"rated deal {deal}: 5/5" in out and "published" in out
    run_cli("--home", str(s_home), "rate", deal, "4", "paid on time", "--json")

    # each sees the other's updated reputation (the rating stored in the DHT, and shown by its subject)
    seller_seen = _cli_json(b_home, "reputation", seller.peer_id)
    buyer_seen = _cli_json(s_home, "reputation", buyer.peer_id)
    assert seller_seen["reputation"]["score"] > 60 and seller_seen["reputation"]["ratings"] == 1
    assert seller_seen["ratings"][0]["comment"] == "llantas en buen estado"
    assert seller_seen["sources"]["dht"] == 1 and seller_seen["sources"]["evidence"] == 1
    assert buyer_seen["reputation"]["score"] > 55 and buyer_seen["ratings"][0]["score"] == 4
    assert buyer_seen["profile"] is not None and buyer_seen["handle"] is None  # no --owner
    # the rated human was told, in their language
    events = seller.client.get("/api/v1/ratings")["ratings"]
    assert {(r["mine"], r["score"]) for r in events} == {(True, 4), (False, 5)}
    table = run_cli("--home", str(b_home), "reputation", seller.peer_id)
    assert "@ana/agent" in table and "llantas en buen estado" in table

    # the deals and matches show the counterpart's handle and score
    b_deal = poll_until(
        lambda: next((d for d in buyer.client.get("/api/v1/deals")["deals"]
                      if (d.get("peer") or {}).get("score")), None),
        STEP_TIMEOUT, "the seller's score next to the deal",
    )  # fmt: skip
    assert b_deal["peer"]["handle"] == "@ana/agent"
    matches = buyer.client.get("/api/v1/matches")["matches"]
    assert matches and "rank" in matches[0] and matches[0]["peer"]["id"] == seller.peer_id

    # bad input: a second rating, a score out of range, a deal that does not exist — nothing stored
    assert "exited 1" in (msg := _refused(b_home, "rate", deal, "1")) and "already rated" in msg
    assert "exited 2" in (msg := _refused(b_home, "rate", deal, "7")) and "score" in msg
    assert "no deal" in _refused(b_home, "rate", "ab" * 16, "5")
    assert _cli_json(b_home, "reputation", seller.peer_id)["reputation"]["ratings"] == 1

    # a block: the seller drops the buyer's trust requests (no evidence any more), then lifts it
    run_cli("--home", str(s_home), "block", buyer.peer_id)
    assert [b["peer"] for b in seller.client.get("/api/v1/blocks")["blocks"]] == [buyer.peer_id]
    blocked_view = _cli_json(b_home, "reputation", seller.peer_id)
    assert blocked_view["sources"]["evidence"] == 0 and blocked_view["reputation"]["ratings"] == 1
    run_cli("--home", str(s_home), "unblock", buyer.peer_id)
    assert "not blocked" in _refused(s_home, "unblock", buyer.peer_id)
    assert _cli_json(b_home, "reputation", seller.peer_id)["sources"]["evidence"] == 1


def _transaction(seller: Any, buyer: Any, deal: str, tmp_path: Path) -> None:
    """The meeting after the deal: the seller's agent proposes (the deal was within its autonomy), the
    buyer's human (beyond hers) sees it, two bad counter-proposals are refused, she confirms."""
    s_home, b_home = seller.home.root, buyer.home.root

    def meet(home: Path) -> dict[str, Any]:
        return _cli_json(home, "meet", deal)

    view = poll_until(lambda: (v := meet(b_home))["state"] == "reviewing" and v, STEP_TIMEOUT, "the proposal")
    pending = view["pending"]
    assert pending["from"] == "them" and pending["payment"] == ["cash"]
    assert h3.get_resolution(pending["cell"]) == 5  # never finer than the buyer's city-level location
    assert pending["start"] < pending["end"] <= pending["expires"] + 86_400
    shown = run_cli("--home", str(b_home), "meet", deal)
    assert "proposed by the other side" in shown and "next: confirm, decline, propose" in shown

    # bad input: finer than her location setting allows, a time in the past; nothing changes
    fine = h3.latlng_to_cell(*SUBURB, 7)
    msg = _refused(b_home, "meet", deal, "propose", "--cell", fine)
    assert "exited 2" in msg and "more precise than your location setting allows" in msg
    msg = _refused(b_home, "meet", deal, "propose", "--start", "2020-01-01 10:00")
    assert "exited 2" in msg and "past" in msg
    assert meet(b_home)["pending"] == pending and meet(s_home)["state"] == "proposed"

    out = run_cli("--home", str(b_home), "meet", deal, "confirm")
    assert "confirmed" in out and "payment: cash" in out
    plan = poll_until(
        lambda: (v := meet(s_home))["state"] == "confirmed" and v["plan"], STEP_TIMEOUT, "the seller's plan"
    )
    assert plan == {**meet(b_home)["plan"], "proposed_by": "me"} and plan["cell"] == pending["cell"]
    for name, home in (("seller", s_home), ("buyer", b_home)):
        path = tmp_path / f"{name}.ics"
        run_cli("--home", str(home), "meet", deal, "ics", "-o", str(path))
        event = Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
        assert int(event.decoded("dtstart").timestamp()) == plan["start"]
        assert int(event.decoded("dtend").timestamp()) == plan["end"]
        assert meet(home)["ics_file"]  # also written to the agent's calendar folder
    summary = Calendar.from_ical((tmp_path / "buyer.ics").read_bytes()).walk("VEVENT")[0]["summary"]
    assert "Encuentro" in str(summary)  # in the buyer's language


def _open_listing(seller: Any, buyer: Any, tmp_path: Path) -> None:
    """``metaspace export`` of the seller's intent verifies and imports on the buyer's side (dry run); a
    listing with a bad signature or an unknown currency is refused with its reason, nothing published."""
    from metaspace.peer.nip99 import nostr_key, sign_event, verify_event
    from wire.identity import Identity

    intent = seller.client.get("/api/v1/intents")["intents"][0]
    event = json.loads(run_cli("--home", str(seller.home.root), "export", intent["id"], "--format", "nip99"))
    assert verify_event(event)["kind"] == 30402 and ["price", "80.00", "USD"] in event["tags"]
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(event))
    b_home = buyer.home.root
    shown = run_cli("--home", str(b_home), "import", str(listing), "--dry-run")
    assert "verified NIP-99 listing" in shown and '"category": "vehicles/tires"' in shown

    before = buyer.client.get("/api/v1/intents")["intents"]
    bad_sig = {**event, "sig": ("1" if event["sig"][0] == "0" else "0") + event["sig"][1:]}
    key = nostr_key(Identity(b"\x07" * 32))
    unknown = sign_event(
        key, event["created_at"], 30402, [["t", "vehicles/tires"], ["price", "10", "XXX"]], "x"
    )
    for bad, reason in ((bad_sig, "bad signature"), (unknown, "unknown currency 'XXX'")):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        msg = _refused(b_home, "import", str(path), "--yes")
        assert "exited 2" in msg and reason in msg and "nothing was imported" in msg
    assert buyer.client.get("/api/v1/intents")["intents"] == before
