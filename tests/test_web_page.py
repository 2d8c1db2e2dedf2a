"""The agent's web page (metaspace/static/) in headless Chromium, against the real control API app.

The app is ``metaspace.api.app.create_app`` over a fake AgentService (tests/web_helpers/fake_agent.py),
served over real HTTP by hypercorn's trio worker on 127.0.0.1. The browser test is skipped (with the
reason) only when the ``playwright`` package or ``/usr/bin/chromium`` is missing; the static checks
at the top always run.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from metaspace.api.app import _STATIC as _STATIC_TYPES
from metaspace.api.app import create_app
from metaspace.peer import notify
from tests.web_helpers.fake_agent import DEAL_ID, INTENT_ID, MATCH_ID, OTHER, FakeAgent
from tests.web_helpers.server import ServedApp

TOKEN = "web-page-test-token-0123456789"
CHROMIUM = os.environ.get("METASPACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
TIMEOUT_MS = 10_000
STATIC = resources.files("metaspace.api").joinpath("static")
#: The page's scripts, in the order index.html loads them (each uses window.MetaSpace from the ones before).
SCRIPTS = ("core.js", "trust.js", "lists.js", "app.js")


def _static(name: str) -> str:
    return STATIC.joinpath(name).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- static checks (no browser)


def test_page_is_self_contained_and_csp_clean():
    """Offline and under ``default-src 'self'``: no external URL, no inline script/style/handlers."""
    html = _static("index.html")
    for name in ("index.html", *SCRIPTS, "app.css"):
        text = _static(name)
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), f"external URL in {name}"
        assert "@import" not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> is blocked by the CSP"
    assert "<style" not in html, "inline <style> is blocked by the CSP"
    assert not re.search(r"\sstyle=", html), "style attributes are blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers are blocked by the CSP"
    assert 'href="/static/app.css"' in html
    # the scripts load in dependency order (defer keeps document order); each one is served
    loaded = re.findall(r'<script src="/static/([a-z]+\.js)" defer></script>', html)
    assert loaded == list(SCRIPTS), loaded
    assert sorted(p.name for p in STATIC.iterdir() if p.name.endswith(".js")) == sorted(SCRIPTS)
    assert set(SCRIPTS) <= set(_STATIC_TYPES)


def test_page_never_injects_html():
    """Remote data (other people's intents) reaches the DOM as text only."""
    js = "\n".join(_static(name) for name in SCRIPTS)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink


def test_page_has_the_stable_ids_tests_rely_on():
    html = _static("index.html")
    for ident in (
        "intent-text",
        "understand-btn",
        "confirm-btn",
        "intents",
        "matches",
        "deals",
        "agreements",
        "notifications",
        "status",
        "settings",
    ):
        assert f'id="{ident}"' in html, ident


def test_the_api_serves_this_page_at_root():
    from starlette.testclient import TestClient

    client = TestClient(create_app(FakeAgent(), TOKEN))
    r = client.get("/")
    assert r.status_code == 200
    assert r.text == _static("index.html")
    assert "default-src 'self'" in r.headers["content-security-policy"]


# ---------------------------------------------------------------------------- the browser test


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module; skipped (saying why) without playwright or chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright==1.65.2)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get("METASPACE_REQUIRE_BROWSER"):  # CI installs it: missing there is a failure
            pytest.fail(f"Chromium not found at {CHROMIUM} but METASPACE_REQUIRE_BROWSER is set")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=["es", "en"])
def served(request: Any) -> Iterator[tuple[ServedApp, FakeAgent]]:
    """The page served for an agent whose human speaks Spanish, then English."""
    from matching.published import published_text

    published_text("warm up")  # loads the language tables once (seconds on a loaded machine), not mid-test
    agent = FakeAgent(lang=request.param)
    server = ServedApp(create_app(agent, TOKEN))
    try:
        yield server, agent
    finally:
        server.close()


def _wait_until(predicate: Any, what: str, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_web_page_intent_match_approve_agreement(browser: Any, served: tuple[ServedApp, FakeAgent]) -> None:
    from playwright.sync_api import expect

    server, agent = served
    lang = agent.lang
    s = notify.page_strings(lang)[1]  # the labels the page must show, in the human's language
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 1100}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None
        )
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.goto(f"{server.url}/#token={TOKEN}")

        # the token moved from the URL fragment to sessionStorage; the status loaded; events are live
        expect(page.locator("#identity")).to_have_text(re.compile(r"^12D3KooW"))
        assert "#token" not in page.url
        assert page.evaluate("sessionStorage.getItem('metaspace.token')") == TOKEN
        expect(page.locator("#conn")).to_have_text(s["live"])
        expect(page.locator("#settings")).to_contain_text("ask_big")
        assert page.evaluate("document.documentElement.lang") == lang
        # every label of the page is in the human's language (the same catalogue as the notifications)
        labels = page.evaluate(
            "Array.from(document.querySelectorAll('[data-i18n]')).map(n => [n.dataset.i18n, n.textContent])"
        )
        assert len(labels) >= 40
        for key, text in labels:
            assert text == s[key], (key, text)
        english = notify.page_strings("en")[1]
        if lang == "es":
            same = [k for k, _ in labels if s[k] == english[k] and k not in ("lat", "lon")]
            assert len(same) <= 2, same
            expect(page.locator("#want-h")).to_have_text("¿Qué quieres?")
            expect(page.locator("#understand-btn")).to_have_text("Entender")
        placeholder = page.get_attribute("#intent-text", "placeholder")
        assert placeholder == s["want_placeholder"]
        expect(page.locator("#status")).to_contain_text(s["k_peer_id"])
        _wait_until(lambda: server.run_sync(agent.subscriber_count) >= 1, "the page's event stream")

        # understand -> draft -> confirm -> the intent is listed
        page.fill("#intent-text", "sell my four used 225/65R17 tires, at least $50 each")
        page.click("details.location > summary")
        page.fill("#lat", "19.43")
        page.fill("#lon", "-99.13")
        page.click("#understand-btn")
        expect(page.locator("#draft")).to_be_visible()
        expect(page.locator("#draft-category")).to_have_value("vehicles/tires")
        expect(page.locator("#draft-price")).to_have_value("50")
        expect(page.locator("#draft-missing")).to_contain_text("radius_km")
        page.fill("#draft-radius", "50")
        # first the review: exactly what the peer would publish (the "at least $50" phrase is not in it)
        page.click("#confirm-btn")
        review = page.locator("#draft-preview")
        expect(review).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#preview-published")).to_contain_text("sell my four used 225/65R17 tires")
        expect(page.locator("#preview-published")).not_to_contain_text("at least")
        expect(page.locator("#confirm-btn")).to_have_text(s["publish_exactly"])
        assert not [c for c in agent.calls if c[0] == "publish"], "nothing is published before the review"
        page.fill("#draft-quantity", "3")  # a change hides the review: it must be seen again
        expect(review).to_be_hidden()
        page.fill("#draft-quantity", "4")
        page.click("#confirm-btn")
        expect(review).to_be_visible()
        page.click("#confirm-btn")
        intent = page.locator(f"[data-testid=intent-{INTENT_ID}]")
        expect(intent).to_contain_text(s["cat_vehicles/tires"])
        expect(page.locator("#draft")).to_be_hidden()
        published = [p for name, p in agent.calls if name == "publish"]
        assert len(published) == 1
        assert published[0]["price"] == {"amount_minor": 5000, "currency": "USD", "per_unit": True}
        assert (published[0]["lat"], published[0]["lon"], published[0]["radius_km"]) == (
            19.43,
            -99.13,
            50,
        )
        assert published[0]["attributes"] == {"size": "225/65R17", "condition": "used"}
        expect(page.locator("#notifications")).to_contain_text(
            notify.title({"kind": "intent_published"}, lang)
        )

        # a match arrives through the event stream only (no reload, no polling while live)
        server.run_sync(agent.add_match)
        match = page.locator(f"[data-testid=match-{MATCH_ID}]")
        expect(match).to_contain_text("24,6 km" if lang == "es" else "24.6 km")
        expect(match).to_contain_text(re.compile(r"87\s?%"))
        expect(match).to_contain_text("same size 225/65R17")
        expect(page.locator("#notifications")).to_contain_text("24,6 km" if lang == "es" else "24.6 km")
        expect(page.locator("#status [data-key=intents]")).to_have_text("1")

        # negotiate -> a deal needing approval -> approve -> the agreement
        page.click(f"[data-testid=negotiate-{MATCH_ID}]")
        approve = page.locator(f"[data-testid=approve-{DEAL_ID}]")
        expect(approve).to_be_visible()
        expect(page.locator(f"[data-testid=deal-{DEAL_ID}] [data-testid=rounds] li")).to_have_count(2)
        expect(page.locator("#notifications")).to_contain_text(
            notify.title({"kind": "approval_needed"}, lang)
        )
        approve.click()
        agreement = page.locator(f"#agreements [data-testid=agreement-{DEAL_ID}]")
        expect(agreement).to_contain_text(s["state_agreed"])
        expect(page.locator(f"[data-testid=approve-{DEAL_ID}]")).to_have_count(0)
        expect(page.locator("#notifications")).to_contain_text(notify.title({"kind": "deal_closed"}, lang))
        expect(page.locator("#notifications")).to_contain_text(
            "260,00\u00a0US$" if lang == "es" else "$260.00"
        )
        assert ("approve", DEAL_ID) in agent.calls

        # the meeting: the other side proposed; the human confirms it; the calendar file; safety tips
        meeting = page.locator(f"[data-testid=meeting-{DEAL_ID}]")
        expect(meeting).to_contain_text(s["meeting_their_proposal"].split("(")[0].strip())
        expect(meeting.locator("[data-testid=meeting-pay]")).to_contain_text(s["pay_venmo"])
        expect(meeting.locator("[data-testid=meeting-where]")).to_contain_text("41.770")
        page.click(f"[data-testid=meeting-confirm-{DEAL_ID}]")
        expect(meeting).to_have_attribute("data-state", "confirmed")
        expect(meeting).to_contain_text(s["state_meeting_confirmed"])
        expect(meeting.locator("[data-testid=tips] li")).to_have_count(3)
        expect(meeting.locator("[data-testid=tips]")).to_contain_text(notify.safety_tips(lang)[0])
        expect(page.locator("#notifications")).to_contain_text(
            notify.title({"kind": "handover_confirmed"}, lang)
        )
        assert ("confirm_handover", (DEAL_ID, None)) in agent.calls
        with page.expect_download() as download:
            page.click(f"[data-testid=ics-{DEAL_ID}]")
        assert download.value.suggested_filename.endswith(".ics")
        assert ("handover_ics", DEAL_ID) in agent.calls

        # rate the other side, then block and unblock it
        page.select_option(f"[data-testid=rate-score-{DEAL_ID}]", "4")
        page.fill(f"[data-testid=rate-comment-{DEAL_ID}]", "todo bien")
        page.click(f"[data-testid=rate-{DEAL_ID}]")
        expect(page.locator(f"[data-testid=rated-{DEAL_ID}]")).to_contain_text("4/5")
        assert ("rate", (DEAL_ID, 4, True, "todo bien")) in agent.calls
        expect(page.locator("#profile")).to_contain_text("@ana/agent")
        page.click(f"#agreements [data-testid=block-{OTHER}]")
        expect(page.locator(f"[data-testid=blocked-{OTHER}]")).to_contain_text(s["reason_manual"])
        expect(agreement).to_contain_text(s["blocked"])
        page.click(f"[data-testid=unblock-{OTHER}]")
        expect(page.locator(f"[data-testid=blocked-{OTHER}]")).to_have_count(0)
        assert ("block", OTHER) in agent.calls and ("unblock", OTHER) in agent.calls

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"web_page_{lang}.png"), full_page=True)

        # withdraw the intent
        page.click(f"[data-testid=withdraw-{INTENT_ID}]")
        expect(intent).to_have_class(re.compile("withdrawn"))
        assert ("withdraw", INTENT_ID) in agent.calls
    finally:
        context.close()
    assert problems == []


def test_web_page_without_or_with_a_wrong_token(browser: Any, served: tuple[ServedApp, FakeAgent]) -> None:
    from playwright.sync_api import expect

    server, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 1100}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{server.url}/")
        expect(page.locator("#no-token")).to_be_visible()
        expect(page.locator("#app")).to_be_hidden()
        page.goto(f"{server.url}/#token=not-the-token")
        page.reload()  # a fragment-only navigation doesn't reload the page
        expect(page.locator("#error-banner")).to_contain_text("token was refused")
        expect(page.locator("#conn")).to_have_text("offline")
    finally:
        context.close()
