"""The local control API (metaspace.api.app) against a fake AgentService, through Starlette's TestClient."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from metaspace.api.app import AgentService, create_app
from metaspace.api.contract import MAX_BODY_BYTES, Forbidden, NotFound, PublishParams, SearchParams

TOKEN = "t0k3n-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PUBLISH = {
    "action": "SELL",
    "category": "vehicles/tires",
    "lat": 19.43,
    "lon": -99.13,
    "radius_km": 50,
    "price": {"amount_minor": 8000, "currency": "USD", "per_unit": True},
    "quantity": 4,
    "attributes": {"size": "225/65R17"},
}


class FakeService:
    """Records calls; returns canned data."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def status(self) -> dict[str, Any]:
        self.calls.append(("status", None))
        return {"peer_id": "12D3KooWfake", "connected_peers": 3}

    async def publish(self, req: PublishParams) -> dict[str, Any]:
        params = dataclasses.asdict(req)  # the typed contract, seen as plain data by these checks
        self.calls.append(("publish", params))
        if params["category"] == "home/garden":
            raise Forbidden("category not allowed by your limits")
        return {"id": "ab" * 16, **params}

    async def preview(self, req: PublishParams) -> dict[str, Any]:
        params = dataclasses.asdict(req)
        self.calls.append(("preview", params))
        published = {k: v for k, v in params.items() if k not in ("limit", "lat", "lon")}
        return {"published": published, "private": {"limit": params["limit"]}, "warnings": []}

    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]:
        self.calls.append(("understand", (text, lat, lon)))
        return {"action": "SELL", "category": "vehicles/tires", "confidence": 0.9}

    async def search(self, req: SearchParams) -> list[dict[str, Any]]:
        params = dataclasses.asdict(req)
        self.calls.append(("search", params))
        return [{"id": "cd" * 16, "action": params["action"], "category": params["category"]}]

    async def intents(self) -> list[dict[str, Any]]:
        return [{"id": "ab" * 16, "action": "SELL"}]

    async def withdraw(self, intent_id: str) -> dict[str, Any]:
        self.calls.append(("withdraw", intent_id))
        if intent_id == "missing":
            raise NotFound(f"no intent {intent_id}")
        return {"id": intent_id, "withdrawn": True}

    async def matches(self) -> list[dict[str, Any]]:
        return [{"id": "m1", "score": 0.8}]

    async def deals(self) -> list[dict[str, Any]]:
        return [{"id": "d1", "state": "waiting_approval"}]

    async def approve(self, deal_id: str) -> dict[str, Any]:
        self.calls.append(("approve", deal_id))
        return {"id": deal_id, "state": "approved"}

    async def decline(self, deal_id: str) -> dict[str, Any]:
        self.calls.append(("decline", deal_id))
        return {"id": deal_id, "state": "declined"}

    async def negotiate(self, match_id: str) -> dict[str, Any]:
        self.calls.append(("negotiate", match_id))
        return {"id": "d2", "match_id": match_id, "state": "negotiating"}

    async def settings(self) -> dict[str, Any]:
        if self.calls and self.calls[-1][0] == "boom":
            raise RuntimeError("a bug in the agent")
        return {"autonomy": "always_ask"}

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        yield {"event": "match", "id": "m1"}
        yield {"event": "bad\nname", "id": "x"}
        yield {"id": "plain"}


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def client(service: FakeService) -> TestClient:
    svc: AgentService = service  # the fake satisfies the Protocol (checked by mypy)
    return TestClient(create_app(svc, TOKEN), raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/intents"),
        ("POST", "/api/v1/intents"),
        ("DELETE", "/api/v1/intents/abc"),
        ("GET", "/api/v1/deals"),
        ("POST", "/api/v1/deals/d1/approve"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/nonexistent"),
    ],
)
def test_requests_without_token_are_refused(client: TestClient, service: FakeService, method: str, path: str):
    r = client.request(method, path)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    for bad in ("Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "):
        r = client.request(method, path, headers={"Authorization": bad})
        assert r.status_code == 401, bad
    assert service.calls == []  # nothing reached the service


def test_page_shell_needs_no_token(client: TestClient):
    r = client.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert r.headers["x-frame-options"] == "DENY"
    assert TOKEN not in r.text


def test_status_and_settings(client: TestClient):
    assert client.get("/api/v1/status", headers=AUTH).json()["peer_id"] == "12D3KooWfake"
    assert client.get("/api/v1/settings", headers=AUTH).json() == {"autonomy": "always_ask"}


def test_publish_validates_and_normalises(client: TestClient, service: FakeService):
    r = client.post("/api/v1/intents", json=PUBLISH, headers=AUTH)
    assert r.status_code == 200, r.text
    params = service.calls[-1][1]
    assert params["quantity"] == 4 and params["cell"] is None and params["expires_in_s"] == 7 * 24 * 3600
    assert r.json()["id"] == "ab" * 16
    r2 = client.post("/api/v1/metaspace/broadcast", json=PUBLISH, headers=AUTH)
    assert r2.status_code == 200 and service.calls[-1][0] == "publish"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"category": "vehicles/tyres"}, "vehicles/tires"),
        ({"action": "STEAL"}, "action"),
        ({"lat": 91.0}, "lat"),
        ({"lon": -181.0}, "lon"),
        ({"lat": None}, "both lat and lon"),
        ({"price": {"amount_minor": 5, "currency": "XYZ"}}, "currency"),
        ({"price": {"amount_minor": -5, "currency": "USD"}}, "amount_minor"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"radius_km": 10_000}, "radius_km"),
        ({"attributes": {"Bad Key": "x"}}, "attribute"),
        ({"surprise": 1}, "unknown field"),
        ({"cell": "8f2830828052d25"}, "not both"),
        ({"expires_in_s": 8 * 24 * 3600}, "expires_in_s"),
    ],
)
def test_publish_rejects_bad_bodies(
    client: TestClient, service: FakeService, change: dict[str, Any], needle: str
):
    body = {**PUBLISH, **change}
    r = client.post("/api/v1/intents", json=body, headers=AUTH)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request"
    assert needle in r.json()["message"]
    assert not any(c[0] == "publish" for c in service.calls)


def test_cell_finer_than_res7_is_refused(client: TestClient):
    body = {k: v for k, v in PUBLISH.items() if k not in ("lat", "lon")}
    body["cell"] = "8f2830828052d25"  # res 15
    r = client.post("/api/v1/intents", json=body, headers=AUTH)
    assert r.status_code == 400 and "res 7" in r.json()["message"]


def test_body_limits_and_media_type(client: TestClient):
    big = json.dumps({**PUBLISH, "text": "x" * (MAX_BODY_BYTES + 10)})
    r = client.post("/api/v1/intents", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.post(
        "/api/v1/intents", content=json.dumps(PUBLISH), headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    r = client.post(
        "/api/v1/intents", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "malformed" in r.json()["message"]
    r = client.post(
        "/api/v1/intents", content=b"[1, 2]", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "JSON object" in r.json()["message"]


def test_service_errors_map_to_status(client: TestClient, service: FakeService):
    r = client.post("/api/v1/intents", json={**PUBLISH, "category": "home/garden"}, headers=AUTH)
    assert r.status_code == 403 and r.json() == {
        "error": "forbidden",
        "message": "category not allowed by your limits",
    }
    r = client.delete("/api/v1/intents/missing", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    service.calls.append(("boom", None))
    r = client.get("/api/v1/settings", headers=AUTH)
    assert r.status_code == 500 and r.json()["error"] == "internal"
    assert "a bug" not in r.text  # internals are logged, not sent


def test_unknown_route_and_method_are_json(client: TestClient):
    r = client.get("/api/v1/nope", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.put("/api/v1/intents", headers=AUTH)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_understand(client: TestClient, service: FakeService):
    r = client.post(
        "/api/v1/intents/understand", json={"text": "vendo llantas", "lat": 19.4, "lon": -99.1}, headers=AUTH
    )
    assert r.status_code == 200 and r.json()["category"] == "vehicles/tires"
    assert service.calls[-1] == ("understand", ("vendo llantas", 19.4, -99.1))
    assert client.post("/api/v1/intents/understand", json={"text": "  "}, headers=AUTH).status_code == 400
    assert (
        client.post("/api/v1/intents/understand", json={"text": "x" * 601}, headers=AUTH).status_code == 400
    )


def test_search_query_parsing(client: TestClient, service: FakeService):
    q = "action=buy&category=vehicles/tires&lat=19.4&lon=-99.1&radius_km=30&limit=5"
    r = client.get(f"/api/v1/metaspace/search?{q}", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["action"] == "BUY"
    params = service.calls[-1][1]
    assert params["radius_km"] == 30 and params["limit"] == 5 and params["lat"] == 19.4
    for bad in (
        "action=buy&category=vehicles/tires&lat=abc&lon=1",
        "action=buy&category=nope",
        "action=buy&category=vehicles/tires&limit=-1",
        "action=buy&action=sell&category=vehicles/tires",
    ):
        assert client.get(f"/api/v1/metaspace/search?{bad}", headers=AUTH).status_code == 400, bad


def test_lists_ids_and_actions(client: TestClient, service: FakeService):
    assert client.get("/api/v1/intents", headers=AUTH).json()["intents"][0]["action"] == "SELL"
    assert client.get("/api/v1/matches", headers=AUTH).json()["matches"][0]["id"] == "m1"
    assert client.get("/api/v1/deals", headers=AUTH).json()["deals"][0]["id"] == "d1"
    assert client.post("/api/v1/deals/d1/approve", headers=AUTH).json()["state"] == "approved"
    assert client.post("/api/v1/deals/d1/decline", headers=AUTH).json()["state"] == "declined"
    assert client.delete("/api/v1/intents/" + "ab" * 16, headers=AUTH).json()["withdrawn"] is True
    r = client.post("/api/v1/negotiate/start", json={"match_id": "m1"}, headers=AUTH)
    assert r.json()["match_id"] == "m1"
    assert client.post("/api/v1/negotiate/start", json={"match": "m1"}, headers=AUTH).status_code == 400
    assert client.post("/api/v1/negotiate/start", json={"match_id": "m 1"}, headers=AUTH).status_code == 400
    assert client.post("/api/v1/deals/" + "x" * 200 + "/approve", headers=AUTH).status_code == 400


def test_events_stream(client: TestClient):
    with client.stream("GET", "/api/v1/events", headers=AUTH) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    frames = [f for f in text.split("\n\n") if f and not f.startswith(":")]
    assert frames[0] == 'event: match\ndata: {"event":"match","id":"m1"}'
    assert frames[1].startswith("data: ")  # an unsafe event name is dropped, never injected
    assert json.loads(frames[2][len("data: ") :]) == {"id": "plain"}
    # EventSource can't send headers: the token may come as a query parameter, on this endpoint only.
    with client.stream("GET", f"/api/v1/events?access_token={TOKEN}") as r:
        assert r.status_code == 200
    assert client.get(f"/api/v1/status?access_token={TOKEN}").status_code == 401


def test_openapi_document(client: TestClient):
    doc = client.get("/api/v1/openapi.json", headers=AUTH).json()
    assert doc["openapi"].startswith("3.1")
    assert {
        "/api/v1/intents",
        "/api/v1/metaspace/search",
        "/api/v1/events",
        "/api/v1/deals/{id}/approve",
    } <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_empty_token_is_refused():
    with pytest.raises(ValueError):
        TestClient(create_app(FakeService(), "")).get("/")
