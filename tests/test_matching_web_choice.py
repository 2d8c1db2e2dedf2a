"""The web page's confirm step when the agent is unsure of the category: the best three are offered, the
category field starts empty, publishing is refused until the human picks (mouse or keys 1-3)."""

from __future__ import annotations

from typing import Any

import pytest

from metaspace.api.app import create_app
from tests.test_web_page import TIMEOUT_MS, TOKEN, browser  # noqa: F401 - the module-scoped browser fixture
from tests.web_helpers.fake_agent import FakeAgent
from tests.web_helpers.server import ServedApp

CANDIDATES = [
    {"code": "kids/strollers", "label": "Strollers and car seats", "probability": 0.41},
    {"code": "home/furniture", "label": "Furniture", "probability": 0.38},
    {"code": "kids/toys", "label": "Toys", "probability": 0.09},
]


class UnsureAgent(FakeAgent):
    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]:
        draft = await super().understand(text, lat, lon)
        draft.update(category="kids/strollers", categories=CANDIDATES, needs_choice=True, attributes={})
        draft["missing"] = ["category"]
        return draft


@pytest.fixture
def served() -> Any:
    agent = UnsureAgent(lang="en")
    server = ServedApp(create_app(agent, TOKEN))
    try:
        yield server, agent
    finally:
        server.close()


def test_unsure_category_must_be_picked(browser: Any, served: Any) -> None:
    from playwright.sync_api import expect

    server, agent = served
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{server.url}/#token={TOKEN}")
        page.fill("#intent-text", "selling a leather sofa, $300")
        page.click("#understand-btn")
        expect(page.locator("#draft")).to_be_visible()
        choices = page.locator("#draft-choices")
        expect(choices).to_be_visible()
        expect(choices).to_contain_text("1 · Strollers and car seats")
        expect(choices).to_contain_text("2 · Furniture")
        expect(page.locator("#draft-category")).to_have_value("")
        page.fill("#draft-radius", "50")
        page.click("#confirm-btn")  # not picked yet: refused, nothing published
        expect(page.locator("#draft-error")).to_contain_text("Pick a category")
        assert not [c for c in agent.calls if c[0] == "publish"]
        page.locator("#draft h3").click()  # focus outside the inputs, then the keyboard
        page.keyboard.press("2")
        expect(page.locator("#draft-category")).to_have_value("home/furniture")
        page.click("#confirm-btn")  # the review of what will be published (issue 10), then publish
        expect(page.locator("#confirm-btn")).to_have_text("Publish exactly this")
        page.click("#confirm-btn")
        expect(page.locator("#draft")).to_be_hidden()
        published = [p for name, p in agent.calls if name == "publish"]
        assert len(published) == 1 and published[0]["category"] == "home/furniture"
    finally:
        context.close()
