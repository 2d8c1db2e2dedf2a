"""When the agent is unsure of the category, ``metaspace sell/buy`` asks the human (top three, keyboard) or
refuses without a terminal; ``--category`` decides; nothing low-confidence is published silently."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli_client import CANNED, Server, _env, home, run, server  # noqa: F401 - fixtures

UNSURE = {
    "action": "SELL",
    "category": "kids/strollers",
    "needs_choice": True,
    "categories": [
        {"code": "kids/strollers", "label": "Strollers and car seats", "probability": 0.41},
        {"code": "home/furniture", "label": "Furniture", "probability": 0.38},
        {"code": "kids/toys", "label": "Toys", "probability": 0.09},
    ],
    "quantity": 1,
    "price": {"amount_minor": 30000, "currency": "USD", "per_unit": True},
    "missing": ["category"],
}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def unsure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CANNED, ("POST", "/api/v1/intents/understand"), (200, UNSURE))


def _published(server: Server) -> list[dict[str, Any]]:
    return [r["body"] for r in server.requests if r["method"] == "POST" and r["path"] == "/api/v1/intents"]


def test_unsure_without_a_terminal_refuses_and_names_the_candidates(
    home: Path, server: Server, capsys: pytest.CaptureFixture[str], unsure: None
) -> None:
    code, _out, err = run(capsys, home, "sell", "leather sofa", "--yes")
    assert code == 2 and "--category" in err
    assert "kids/strollers" in err and "home/furniture" in err
    assert _published(server) == []


def test_unsure_on_a_terminal_the_human_picks_by_number(
    home: Path,
    server: Server,
    capsys: pytest.CaptureFixture[str],
    unsure: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", Tty("2\ny\n"))
    code, out, err = run(capsys, home, "sell", "leather sofa")
    assert code == 0, err
    assert "1) kids/strollers" in out and "2) home/furniture" in out and "3) kids/toys" in out
    body = _published(server)[-1]
    assert body["category"] == "home/furniture" and body["action"] == "SELL"


def test_category_flag_decides_and_services_flip_the_action(
    home: Path, server: Server, capsys: pytest.CaptureFixture[str], unsure: None
) -> None:
    argv = ["buy", "someone to move my sofa", "--yes", "--category", "services/moving"]
    code, _out, err = run(capsys, home, *argv)
    assert code == 0, err
    body = _published(server)[-1]
    assert body["category"] == "services/moving" and body["action"] == "SEEK_SERVICE"
    code, _out, err = run(capsys, home, "sell", "leather sofa", "--yes", "--category", "furniture")
    assert code == 2 and "home/furniture" in err  # not a code: close matches are named
