"""The control API's rating, reputation, profile and block endpoints, and their validation, against a fake
service (the service itself is tested in test_trust_peer.py and test_firewall.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from metaspace.api.app import create_app
from metaspace.api.contract import Conflict, RatingRequest, validate_block, validate_rating
from metaspace.api.openapi import openapi_document
from tests.test_api_app import AUTH, TOKEN, FakeService
from wire.identity import Identity

PEER = Identity(b"p" * 32).peer_id


class TrustService(FakeService):
    async def rate(self, deal_id: str, score: int, as_agreed: bool, comment: str) -> dict[str, Any]:
        self.calls.append(("rate", (deal_id, score, as_agreed, comment)))
        if deal_id == "again":
            raise Conflict("you already rated deal again (5/5); a deal is rated once by each side")
        return {"deal_id": deal_id, "score": score}

    async def reputation(self, peer: str) -> dict[str, Any]:
        self.calls.append(("reputation", peer))
        return {"peer": peer, "reputation": {"score": 50.0}}

    async def ratings(self) -> list[dict[str, Any]]:
        return [{"deal_id": "d1", "score": 5}]

    async def profile(self) -> dict[str, Any]:
        return {"peer": PEER, "profile": None}

    async def block(self, peer: str) -> dict[str, Any]:
        self.calls.append(("block", peer))
        return {"peer": peer, "blocked": True}

    async def unblock(self, peer: str) -> dict[str, Any]:
        self.calls.append(("unblock", peer))
        return {"peer": peer, "blocked": False}

    async def blocked(self) -> list[dict[str, Any]]:
        return [{"peer": PEER, "reason": "manual", "until": None}]


@pytest.fixture
def api() -> tuple[TestClient, TrustService]:
    service = TrustService()
    return TestClient(create_app(service, TOKEN)), service  # type: ignore[arg-type]


def test_rate_validates_then_calls_the_service(api):
    client, service = api
    ok = client.post("/api/v1/deals/d1/rate", json={"score": 4, "comment": " fine "}, headers=AUTH)
    assert ok.status_code == 200 and service.calls[-1] == ("rate", ("d1", 4, True, "fine"))
    again = client.post("/api/v1/deals/again/rate", json={"score": 5}, headers=AUTH)
    assert again.status_code == 409 and "rated once" in again.json()["message"]
    for body, why in (
        ({}, "score is required"),
        ({"score": 6}, "score"),
        ({"score": True}, "score"),
        ({"score": 3, "as_agreed": "yes"}, "as_agreed"),
        ({"score": 3, "comment": "x" * 281}, "comment"),
        ({"score": 3, "comment": "a\nb"}, "one line"),
        ({"score": 3, "stars": 3}, "unknown field"),
    ):
        bad = client.post("/api/v1/deals/d1/rate", json=body, headers=AUTH)
        assert bad.status_code == 400 and why in bad.json()["message"], body
    assert [c for c in service.calls if c[0] == "rate"] == [("rate", ("d1", 4, True, "fine")),
                                                              ("rate", ("again", 5, True, ""))]  # fmt: skip


def test_reputation_profile_ratings_and_blocks(api):
    client, service = api
    assert client.get(f"/api/v1/reputation/{PEER}", headers=AUTH).json()["peer"] == PEER
    assert client.get("/api/v1/reputation/bad id!", headers=AUTH).status_code in (400, 404)
    assert client.get("/api/v1/ratings", headers=AUTH).json() == {"ratings": [{"deal_id": "d1", "score": 5}]}
    assert client.get("/api/v1/profile", headers=AUTH).json()["peer"] == PEER
    assert client.post("/api/v1/blocks", json={"peer": PEER}, headers=AUTH).json()["blocked"] is True
    assert client.post("/api/v1/blocks", json={"who": PEER}, headers=AUTH).status_code == 400
    assert client.delete(f"/api/v1/blocks/{PEER}", headers=AUTH).json()["blocked"] is False
    assert client.get("/api/v1/blocks", headers=AUTH).json()["blocks"][0]["peer"] == PEER
    assert ("block", PEER) in service.calls and ("unblock", PEER) in service.calls
    assert client.get("/api/v1/blocks").status_code == 401  # the token is needed, as everywhere


def test_validators_and_the_openapi_document():
    assert validate_rating({"score": 1, "as_agreed": False}) == RatingRequest(1, False, "")
    assert validate_block({"peer": PEER}) == PEER
    paths = openapi_document()["paths"]
    for path in ("/api/v1/deals/{id}/rate", "/api/v1/reputation/{peer}", "/api/v1/blocks",
                 "/api/v1/blocks/{peer}", "/api/v1/ratings", "/api/v1/profile",
                 "/api/v1/deals/{id}/handover", "/api/v1/deals/{id}/handover/confirm",
                 "/api/v1/deals/{id}/handover/decline", "/api/v1/deals/{id}/handover.ics",
                 "/api/v1/intents/{id}/export", "/api/v1/i18n"):  # fmt: skip
        assert path in paths
