"""A fake AgentService for the web page tests: canned intents, matches and deals, plus live events.

Every state change emits an event (as the real peer will): ``{"event": <kind>, "kind": <kind>, ...,
"title": ..., "text": ...}`` with the title and text rendered by :mod:`metaspace.peer.notify` in the fake
human's language. Methods run in the server's trio thread; the test thread calls ``add_match``
through ``ServedApp.run_sync``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import trio

from metaspace.api.contract import NotFound, PublishParams, SearchParams
from metaspace.peer import notify

PEER_ID = "12D3KooWFakeAgentPeerForWebPageTests000000000001"
OTHER = "12D3KooWOtherBuyer"
#: The meeting the other side proposes once the deal is agreed (a res-5 cell between Chicago and its south).
MEETING = {"cell": "852664c3fffffff", "center": {"lat": 41.77, "lon": -87.66}, "size_km": 17.2,
           "start": 1_790_100_000, "end": 1_790_107_200, "expires": 1_790_090_000,
           "payment": ["cash", "venmo"], "number": 0}  # fmt: skip
INTENT_ID = "ab" * 16
MATCH_ID = "m1"
DEAL_ID = "d1"
EVENT_BUFFER = 64


class FakeAgent:
    """Canned agent state; ``calls`` records what the page asked for."""

    def __init__(self, lang: str = "es") -> None:
        self.lang = lang
        self.calls: list[tuple[str, Any]] = []
        self._intents: dict[str, dict[str, Any]] = {}
        self._matches: dict[str, dict[str, Any]] = {}
        self._deals: dict[str, dict[str, Any]] = {}
        self._subscribers: list[trio.MemorySendChannel[dict[str, Any]]] = []
        self._meeting: dict[str, Any] = {}
        self._ratings: list[dict[str, Any]] = []
        self._blocks: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ events

    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def emit(self, event: dict[str, Any]) -> None:
        """Send ``event`` (with its rendered title/text) to every open event stream."""
        full = {"event": event["kind"], **notify.annotate(event, self.lang)}
        for ch in list(self._subscribers):
            try:
                ch.send_nowait(full)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                self._subscribers.remove(ch)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        send, recv = trio.open_memory_channel[dict[str, Any]](EVENT_BUFFER)
        self._subscribers.append(send)
        try:
            async with recv:
                async for event in recv:
                    yield event
        finally:
            if send in self._subscribers:
                self._subscribers.remove(send)

    # ------------------------------------------------------------------ AgentService

    async def status(self) -> dict[str, Any]:
        return {
            "peer_id": PEER_ID,
            "connected_peers": 7,
            "intents": sum(1 for i in self._intents.values() if not i["withdrawn"]),
            "lang": self.lang,
        }

    async def settings(self) -> dict[str, Any]:
        return {
            "autonomy": "ask_big",
            "spend_limit": {"amount_minor": 5000, "currency": "USD"},
            "location_precision": 6,
        }

    async def understand(self, text: str, lat: float | None, lon: float | None) -> dict[str, Any]:
        self.calls.append(("understand", (text, lat, lon)))
        return {
            "action": "SELL",
            "category": "vehicles/tires",
            "attributes": {"size": "225/65R17", "condition": "used"},
            "price": {"amount_minor": 5000, "currency": "USD", "per_unit": True},
            "quantity": 4,
            "text": text,
            "lang": "en",
            "confidence": 0.92,
            "missing": ["radius_km"],
        }

    async def preview(self, req: PublishParams) -> dict[str, Any]:
        """As the real agent: the published text without its private limit phrase, the limit apart."""
        params = dataclasses.asdict(req)
        self.calls.append(("preview", params))
        published = self._intent(params)
        text = params.get("text")
        if text:
            from matching.published import published_text

            published["text"] = published_text(text)[0]
        limit = params.get("limit")
        private = {}
        if limit:
            private = {"limit": limit, "limit_text": f"{limit['amount_minor'] / 100:.2f} {limit['currency']}"}
        return {"published": published, "private": private, "warnings": []}

    def _intent(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": INTENT_ID,
            "author": PEER_ID,
            "action": params["action"],
            "category": params["category"],
            "attributes": params["attributes"],
            "price": params["price"],
            "quantity": params["quantity"],
            "cell": "8749a8a9effffff" if params["lat"] is not None else None,
            "radius_km": params["radius_km"],
            "created": 1_790_000_000,
            "expires": 1_790_000_000 + params["expires_in_s"],
            "text": params["text"],
            "lang": params["lang"],
            "withdrawn": False,
        }

    async def publish(self, req: PublishParams) -> dict[str, Any]:
        params = dataclasses.asdict(req)
        self.calls.append(("publish", params))
        intent = self._intent(params)
        self._intents[INTENT_ID] = intent
        self.emit(
            {
                "kind": "intent_published",
                "action": intent["action"],
                "category": intent["category"],
                "attributes": intent["attributes"],
                "replicas": 5,
                "intent_id": INTENT_ID,
            }
        )
        return intent

    async def search(self, req: SearchParams) -> list[dict[str, Any]]:
        return []

    async def intents(self) -> list[dict[str, Any]]:
        return list(self._intents.values())

    async def withdraw(self, intent_id: str) -> dict[str, Any]:
        self.calls.append(("withdraw", intent_id))
        if intent_id not in self._intents:
            raise NotFound(f"no intent {intent_id}")
        self._intents[intent_id]["withdrawn"] = True
        intent = self._intents[intent_id]
        self.emit({"kind": "intent_withdrawn", "action": intent["action"], "category": intent["category"]})
        return intent

    def add_match(self) -> None:
        """A buyer 24.6 km away appears (called from the test through ``ServedApp.run_sync``)."""
        other = {
            "id": "cd" * 16,
            "author": "12D3KooWOtherBuyer",
            "action": "BUY",
            "category": "vehicles/tires",
            "attributes": {"size": "225/65R17"},
            "price": {"amount_minor": 7000, "currency": "USD", "per_unit": True},
            "quantity": 4,
            "text": "necesito llantas 225/65R17",
            "lang": "es",
        }
        self._matches[MATCH_ID] = {
            "id": MATCH_ID,
            "intent_id": INTENT_ID,
            "other": other,
            "score": 0.87,
            "distance_km": 24.6,
            "state": "new",
            "explanation": "same size 225/65R17; their price is above your minimum",
        }
        self.emit(
            {
                "kind": "match",
                "category": "vehicles/tires",
                "other_action": "BUY",
                "distance_km": 24.6,
                "price": other["price"],
                "quantity": 4,
                "score": 0.87,
                "attributes": other["attributes"],
                "match_id": MATCH_ID,
            }
        )

    async def matches(self) -> list[dict[str, Any]]:
        return list(self._matches.values())

    async def negotiate(self, match_id: str) -> dict[str, Any]:
        self.calls.append(("negotiate", match_id))
        if match_id not in self._matches:
            raise NotFound(f"no match {match_id}")
        self._matches[match_id]["state"] = "negotiating"
        price = {"amount_minor": 6500, "currency": "USD", "per_unit": True}
        deal = {
            "id": DEAL_ID,
            "match_id": match_id,
            "state": "waiting_approval",
            "price": price,
            "quantity": 4,
            "counterparty": OTHER,
            "peer": {"id": OTHER, "handle": "@bea/agent", "score": 62.0, "blocked": False},
            "needs_approval": True,
            "reason": "over_limit",
            "rounds": [
                {
                    "round": 1,
                    "from": "me",
                    "price": {"amount_minor": 8000, "currency": "USD", "per_unit": True},
                    "quantity": 4,
                },
                {"round": 2, "from": "them", "price": price, "quantity": 4},
            ],
        }
        self._deals[DEAL_ID] = deal
        self.emit(
            {
                "kind": "approval_needed",
                "role": "seller",
                "price": price,
                "quantity": 4,
                "limit": {"amount_minor": 5000, "currency": "USD"},
                "deal_id": DEAL_ID,
            }
        )
        return deal

    async def deals(self) -> list[dict[str, Any]]:
        return list(self._deals.values())

    async def approve(self, deal_id: str) -> dict[str, Any]:
        self.calls.append(("approve", deal_id))
        if deal_id not in self._deals:
            raise NotFound(f"no deal {deal_id}")
        deal = self._deals[deal_id]
        deal.update(state="agreed", needs_approval=False, reason=None)
        self._matches[deal["match_id"]]["state"] = "agreed"
        self._meeting[deal_id] = {"deal_id": deal_id, "state": "reviewing", "role": "seller", "reason": None,
                                  "pending": {"from": "them", "deal_id": deal_id, **MEETING}, "plan": None,
                                  "can": ["confirm", "decline", "propose"], "undelivered": 0,
                                  "payment_methods": ["cash"]}  # fmt: skip
        self.emit(
            {
                "kind": "deal_closed",
                "role": "seller",
                "price": deal["price"],
                "quantity": deal["quantity"],
                "total": {"amount_minor": 26000, "currency": "USD"},
                "rounds": len(deal["rounds"]),
                "deal_id": deal_id,
            }
        )
        return deal

    async def decline(self, deal_id: str) -> dict[str, Any]:
        self.calls.append(("decline", deal_id))
        if deal_id not in self._deals:
            raise NotFound(f"no deal {deal_id}")
        self._deals[deal_id].update(state="declined", needs_approval=False, reason="declined")
        self.emit({"kind": "deal_failed", "reason": "declined", "rounds": 2, "deal_id": deal_id})
        return self._deals[deal_id]

    # ------------------------------------------------------------------ the page's language

    async def page_strings(self, lang: str | None) -> dict[str, Any]:
        base, strings = notify.page_strings(lang or self.lang)
        return {"lang": base, "strings": strings, "tips": notify.safety_tips(base)}

    # ------------------------------------------------------------------ the meeting after the deal

    async def handover(self, deal_id: str) -> dict[str, Any]:
        if deal_id not in self._meeting:
            raise NotFound(f"no agreed deal {deal_id}")
        return self._meeting[deal_id]

    async def propose_handover(self, deal_id: str, proposal: Any) -> dict[str, Any]:
        self.calls.append(("propose_handover", deal_id))
        return await self.handover(deal_id)

    async def confirm_handover(self, deal_id: str, payment: str | None) -> dict[str, Any]:
        self.calls.append(("confirm_handover", (deal_id, payment)))
        m = await self.handover(deal_id)
        plan = {**m["pending"], "payment": payment or "cash", "proposed_by": "them"}
        m.update(state="confirmed", pending=None, plan=plan, can=["cancel", "ics"])
        self.emit({"kind": "handover_confirmed", **plan})
        return m

    async def decline_handover(self, deal_id: str, reason: str) -> dict[str, Any]:
        self.calls.append(("decline_handover", (deal_id, reason)))
        m = await self.handover(deal_id)
        m.update(state="cancelled" if m["state"] == "confirmed" else "idle", pending=None, can=[])
        return m

    async def handover_ics(self, deal_id: str) -> bytes:
        self.calls.append(("handover_ics", deal_id))
        return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fake//EN\r\nEND:VCALENDAR\r\n"

    # ------------------------------------------------------------------ trust

    async def profile(self) -> dict[str, Any]:
        profile = {"handle": "@ana/agent", "languages": [self.lang], "categories": ["vehicles/*"]}
        return {"peer": PEER_ID, "share": "basic", "profile": profile}

    async def ratings(self) -> list[dict[str, Any]]:
        return list(self._ratings)

    async def rate(self, deal_id: str, score: int, as_agreed: bool, comment: str) -> dict[str, Any]:
        self.calls.append(("rate", (deal_id, score, as_agreed, comment)))
        row = {"deal_id": deal_id, "score": score, "as_agreed": as_agreed, "comment": comment, "mine": True}
        self._ratings.append(row)
        return row

    async def blocked(self) -> list[dict[str, Any]]:
        return list(self._blocks.values())

    async def block(self, peer: str) -> dict[str, Any]:
        self.calls.append(("block", peer))
        self._blocks[peer] = {"peer": peer, "reason": "manual", "until": None}
        for d in self._deals.values():
            d["peer"] = {**d.get("peer", {}), "blocked": True}
        return self._blocks[peer]

    async def unblock(self, peer: str) -> dict[str, Any]:
        self.calls.append(("unblock", peer))
        self._blocks.pop(peer, None)
        for d in self._deals.values():
            d["peer"] = {**d.get("peer", {}), "blocked": False}
        return {"peer": peer, "blocked": False}
