"""The web page in headless Chromium against two REAL agent peers (separate processes on 127.0.0.1).

The buyer's human uses only the page: writes what she wants in Spanish, confirms the understood draft,
sees the match arrive live, approves the deal her limits hold back (4 tires at ~$65 is over her $100
spending limit), and sees the co-signed agreement. A screenshot is kept in ``artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from metaspace.peer import notify
from tests.net_helpers.procs import (
    Procs,
    init_home,
    metaspace_cmd,
    poll_until,
    procs,  # noqa: F401 - a pytest fixture
    start_bootstrap,
    wait_peer,
)
from tests.test_web_page import ARTIFACTS, browser  # noqa: F401 - browser is a fixture

CHICAGO = (41.8781, -87.6298)
SUBURB = (41.6600, -87.7000)
TIMEOUT_MS = 90_000


def test_page_with_two_real_peers(browser: Any, procs: Procs, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    boot = start_bootstrap(procs, tmp_path / "boot")
    seller_home = init_home(tmp_path / "seller", *CHICAGO, extra=["--spend-limit", "500USD"])
    buyer_home = init_home(
        tmp_path / "buyer",
        *SUBURB,
        extra=["--language", "es", "--autonomy", "ask_big", "--spend-limit", "100USD"],
    )
    peers = []
    for i, home in enumerate((seller_home, buyer_home)):
        argv = metaspace_cmd(
            "--home", str(home.root), "peer", "--bootstrap", boot.addr, "--watch-interval", "0.5"
        )
        peers.append(wait_peer(i, home, procs.start(f"peer{i}", argv)))
    seller, buyer = peers
    usd = lambda minor: {"amount_minor": minor, "currency": "USD", "per_unit": True}  # noqa: E731
    seller.publish(action="SELL", category="vehicles/tires", lat=CHICAGO[0], lon=CHICAGO[1], radius_km=50,
                   quantity=4, attributes={"size": "225/65R17"}, price=usd(8000), limit=usd(5500),
                   text="4 used tires 225/65R17, $80 each")  # fmt: skip

    url = buyer.client.get("/api/v1/status") and buyer_home.api_file.read_text()
    base = re.search(r'"url": "([^"]+)"', url)
    assert base is not None
    token = buyer_home.token_file.read_text().strip()

    es = notify.page_strings("es")[1]  # the buyer's page speaks her language
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 1200}, locale="es-ES")
    expect.set_options(timeout=TIMEOUT_MS)  # real peers on a shared machine: matches, deals take seconds
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.goto(f"{base.group(1)}/#token={token}")
        expect(page.locator("#identity")).to_have_text(re.compile(r"^12D3KooW"))
        expect(page.locator("#conn")).to_have_text(es["live"])
        expect(page.locator("#want-h")).to_have_text("¿Qué quieres?")

        page.fill(
            "#intent-text", "Necesito 4 llantas 225/65R17 para mi camioneta, máximo 70 dólares cada una"
        )
        page.click("details.location > summary")
        page.fill("#lat", str(SUBURB[0]))
        page.fill("#lon", str(SUBURB[1]))
        page.click("#understand-btn")
        expect(page.locator("#draft")).to_be_visible()
        expect(page.locator("#draft-category")).to_have_value("vehicles/tires")
        expect(page.locator("#draft-action")).to_have_value("BUY")
        expect(page.locator("#draft-confidence")).to_contain_text("nunca se publica")
        page.fill("#draft-radius", "50")
        page.click("#confirm-btn")  # review: what the peer would publish (share nothing: no free text)
        expect(page.locator("#draft-preview")).to_be_visible()
        expect(page.locator("#preview-published")).to_contain_text(es["no_free_text"])
        expect(page.locator("#preview-private")).to_contain_text("70.00 USD")
        expect(page.locator("#preview-published")).not_to_contain_text("máximo")
        page.click("#confirm-btn")
        expect(page.locator("#intents")).to_contain_text(es["cat_vehicles/tires"])

        # The match appears live; the buyer's agent opens the negotiation itself (autonomy ask_big) and
        # stops before committing: ~$260 is over the $100 limit.
        expect(page.locator("#matches")).to_contain_text("225/65R17")
        approve = page.locator("[data-testid^=approve-]")
        expect(approve.first).to_be_visible()
        deal = poll_until(
            lambda: next(iter(buyer.client.get("/api/v1/deals")["deals"]), None), 60, "the deal"
        )
        assert deal["needs_approval"] and deal["state"] == "awaiting_approval"
        approve.first.click()
        agreement = page.locator(f"#agreements [data-testid=agreement-{deal['id']}]")
        expect(agreement).to_contain_text(es["state_agreed"])
        expect(page.locator("#notifications")).to_contain_text("Trato cerrado")
        # the Agent panel counts what is on screen (it used to stay at 0 matches and 0 deals)
        expect(page.locator("#status [data-key=matches]")).to_have_text("1")
        expect(page.locator("#status [data-key=deals]")).to_have_text("1")

        # the meeting: the seller's agent proposed it (the deal was within its autonomy); the buyer's was
        # beyond hers, so she confirms it on the page; both hold the plan and a calendar file
        meeting = agreement.locator(f"[data-testid=meeting-{deal['id']}]")
        expect(meeting).to_have_attribute("data-state", "reviewing")
        expect(meeting.locator("[data-testid=meeting-pay]")).to_contain_text(es["pay_cash"])
        page.click(f"[data-testid=meeting-confirm-{deal['id']}]")
        expect(meeting).to_have_attribute("data-state", "confirmed")
        expect(meeting).to_contain_text(es["state_meeting_confirmed"])
        expect(page.locator("#notifications")).to_contain_text("Encuentro confirmado")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web_page_real_peers.png"), full_page=True)
    finally:
        expect.set_options(timeout=None)  # back to Playwright's default for the other tests
        context.close()
    assert problems == []
    ours = next(d for d in buyer.client.get("/api/v1/deals")["deals"] if d["id"] == deal["id"])
    theirs = poll_until(
        lambda: next((d for d in seller.client.get("/api/v1/deals")["deals"] if d["agreement"]), None),
        60,
        "seller",
    )
    assert ours["agreement"] == theirs["agreement"]
    plan = poll_until(
        lambda: seller.client.get(f"/api/v1/deals/{deal['id']}/handover")["plan"], 60, "the plan"
    )
    assert plan == {**buyer.client.get(f"/api/v1/deals/{deal['id']}/handover")["plan"], "proposed_by": "me"}
    assert b"BEGIN:VEVENT" in seller.client.get_bytes(f"/api/v1/deals/{deal['id']}/handover.ics")
