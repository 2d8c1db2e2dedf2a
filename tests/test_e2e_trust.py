"""End to end, real processes on 127.0.0.1: two agents deal, rate each other with the real CLI, and each
sees the other's updated reputation and profile; bad ratings are refused with a reason; a block drops
the blocked agent's trust requests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.net_helpers.procs import (
    NetTestError,
    Procs,
    init_home,
    poll_until,
    procs,  # noqa: F401 - a pytest fixture
    run_cli,
    start_bootstrap,
)
from tests.test_e2e_deals import CHICAGO, STEP_TIMEOUT, SUBURB, _check_agreement, _publish_pair, _start_peer


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
    buyer_home = init_home(
        tmp_path / "buyer", *SUBURB, extra=["--language", "es", "--spend-limit", "500USD", "--share", "basic"]
    )
    seller = _start_peer(procs, "seller", seller_home, boot)
    buyer = _start_peer(procs, "buyer", buyer_home, boot)
    s_home, b_home = seller.home.root, buyer.home.root
    _publish_pair(seller, buyer)
    deal = _check_agreement(seller, buyer)["id"]

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
