"""The meeting after a deal in agent peers (metaspace.peer.handovers), in process over memory hosts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from icalendar import Calendar

from metaspace.api.contract import BadRequest
from metaspace.peer import notify
from negotiation.handover_table import HState
from tests.agent_helpers import AgentPeer, agents, buy_tires, sell_tires, usd
from wire.geo import cell_at, resolution


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn)


async def _poll(cond: Callable[[], object], what: str, timeout: float = 60.0) -> Any:
    with trio.fail_after(timeout):
        while not (value := cond()):
            await trio.sleep(0.05)
        return value


def _agreed(p: AgentPeer) -> str | None:
    found = [d.id for d in p.agent.db.deals() if d.state == "AGREED" and p.agent.db.agreement(d.id)]
    return found[0] if found else None


async def _deal(seller: AgentPeer, buyer: AgentPeer) -> str:
    await seller.agent.publish(sell_tires(limit=usd(5500)))
    await buyer.agent.publish(buy_tires(limit=usd(7000)))
    await buyer.agent.watch_once()
    await seller.agent.watch_once()
    deal_id: str = await _poll(lambda: _agreed(buyer) and _agreed(seller), "the agreement on both sides")
    return deal_id


def _kinds(p: AgentPeer) -> list[str]:
    return [str(e.get("kind")) for e in p.agent.bus.history]


def test_the_agents_arrange_the_meeting_within_their_autonomy(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 2, dealers=True, handovers=True,
                          configs={1: {"payment_methods": ["zelle", "cash"]}}) as peers:  # fmt: skip
            seller, buyer = peers
            deal = await _deal(seller, buyer)
            views = [await p.agent.handover(deal) for p in (seller, buyer)]
            await _poll(
                lambda: all(p.agent.handovers.core(deal).state is HState.CONFIRMED for p in peers), "plans"
            )
            views = [await p.agent.handover(deal) for p in (seller, buyer)]
            assert views[0]["plan"] == {**views[1]["plan"], "proposed_by": "me"}
            plan = views[0]["plan"]
            assert plan["payment"] == "cash"  # the seller offers cash only; the buyer accepts it
            assert resolution(plan["cell"]) == 7 and plan["start"] > seller.agent.now()
            assert views[1]["plan"]["proposed_by"] == "them" and views[0]["can"] == ["cancel", "ics"]
            for p in peers:
                assert "handover_confirmed" in _kinds(p)
                ics = (tmp_path / f"calendar{peers.index(p)}" / f"{deal}.ics").read_bytes()
                event = Calendar.from_ical(ics).walk("VEVENT")[0]
                assert int(event["dtstart"].dt.timestamp()) == plan["start"]
                assert str(event["uid"]).startswith(deal)
                assert event["geo"].latitude == pytest.approx(plan["center"]["lat"], abs=1e-3)
                served = Calendar.from_ical(await p.agent.handover_ics(deal)).walk("VEVENT")[0]
                assert served["uid"] == event["uid"] and served["dtend"].dt == event["dtend"].dt
            # either side may cancel; both end CANCELLED and are told
            await seller.agent.decline_handover(deal, "cancelled")
            await _poll(
                lambda: buyer.agent.handovers.core(deal).state is HState.CANCELLED, "the cancellation"
            )
            ended = [e for e in buyer.agent.bus.history if e.get("kind") == "handover_ended"]
            assert ended and ended[-1]["reason"] == "cancelled_by_them"

    run(main)


def test_the_humans_confirm_when_the_deal_was_beyond_autonomy(tmp_path: Path) -> None:
    async def main() -> None:
        ask = {"autonomy": "always_ask", "spend_limit_minor": 100}
        async with agents(tmp_path, 2, dealers=True, handovers=True, configs={0: ask, 1: ask}) as peers:
            seller, buyer = peers
            await seller.agent.publish(sell_tires(limit=usd(5500)))
            await buyer.agent.publish(buy_tires(limit=usd(7000)))
            await buyer.agent.watch_once()
            await seller.agent.watch_once()
            for p in peers:  # nothing starts alone: the buyer's human opens, both approve
                await _poll(lambda p=p: p.agent.db.matches(), "a match")
            match = buyer.agent.db.matches()[0]
            await buyer.agent.negotiate(match.id)
            for p in peers:
                row = await _poll(lambda p=p: [d for d in p.agent.db.deals() if d.data.get("needs_approval")],
                                  "an approval")  # fmt: skip
                await p.agent.approve(row[0].id)
            deal = await _poll(lambda: _agreed(buyer) and _agreed(seller), "the agreement")
            await _poll(lambda: "handover_ready" in _kinds(seller), "the seller's human told to propose")
            assert (await seller.agent.handover(deal))["state"] == "idle"
            # bad proposals are refused with the reason, nothing stored
            now = int(seller.agent.now())
            from metaspace.api.contract import HandoverProposal

            with pytest.raises(BadRequest, match="past"):
                await seller.agent.propose_handover(deal, HandoverProposal(start=now - 3600, end=now - 60))
            assert (await seller.agent.handover(deal))["state"] == "idle"
            view = await seller.agent.propose_handover(deal, HandoverProposal(payment=("cash", "venmo")))
            assert view["state"] == "proposed" and view["pending"]["payment"] == ["cash", "venmo"]
            theirs = await _poll(
                lambda: buyer.agent.handovers.core(deal).state is HState.REVIEWING, "their review"
            )
            assert theirs
            told = [e for e in buyer.agent.bus.history if e.get("kind") == "handover_proposed"]
            assert told and told[-1]["from"] == "them"
            assert "{" not in notify.render(told[-1], "es") and "Confirma" in notify.render(told[-1], "es")
            view = await buyer.agent.confirm_handover(deal, "venmo")
            assert view["state"] == "confirmed" and view["plan"]["payment"] == "venmo"
            await _poll(
                lambda: seller.agent.handovers.core(deal).state is HState.CONFIRMED, "the seller's plan"
            )

    run(main)


def test_a_cell_finer_than_the_other_side_allows_is_refused_there(tmp_path: Path) -> None:
    async def main() -> None:
        coarse = {"autonomy": "always_ask", "location": "city", "max_h3_res": 5,
                  "home_cell": cell_at(41.66, -87.70, 5)}  # fmt: skip
        async with agents(tmp_path, 2, dealers=True, handovers=True,
                          configs={0: {"autonomy": "always_ask"}, 1: coarse}) as peers:  # fmt: skip
            seller, buyer = peers
            await seller.agent.publish(sell_tires(limit=usd(5500)))
            await buyer.agent.publish(buy_tires(limit=usd(7000)))
            await buyer.agent.watch_once()
            match = await _poll(lambda: buyer.agent.db.matches(), "a match")
            await buyer.agent.negotiate(match[0].id)
            for p in peers:
                row = await _poll(lambda p=p: [d for d in p.agent.db.deals() if d.data.get("needs_approval")],
                                  "an approval")  # fmt: skip
                await p.agent.approve(row[0].id)
            deal = await _poll(lambda: _agreed(buyer) and _agreed(seller), "the agreement")
            from metaspace.api.contract import HandoverProposal

            fine = cell_at(41.77, -87.66, 7)  # res 7: allowed by the seller, finer than the buyer's res 5
            await seller.agent.propose_handover(deal, HandoverProposal(cell=fine))
            refused = await _poll(
                lambda: [e for e in seller.agent.bus.history if e.get("kind") == "handover_refused"],
                "the refusal",
            )
            assert "more precise than your location setting" in refused[-1]["detail"]
            assert buyer.agent.handovers.core(deal).state is HState.IDLE  # nothing taken
            assert buyer.agent.handovers.core(deal).theirs is None
            # the agent's own suggestion is never finer than what the buyer disclosed (res 5)
            view = await seller.agent.propose_handover(deal, HandoverProposal())
            assert resolution(view["pending"]["cell"]) == 5
            await _poll(
                lambda: buyer.agent.handovers.core(deal).state is HState.REVIEWING, "the buyer's review"
            )

    run(main)


@pytest.mark.parametrize("lang", notify.SUPPORTED_LANGS)
def test_meeting_notifications_render_in_every_language(lang: str) -> None:
    base = {"deal_id": "ab" * 16, "start": 1_790_100_000, "end": 1_790_107_200, "expires": 1_790_050_000,
            "cell": "852664c3fffffff", "center": {"lat": 41.77, "lon": -87.66}, "size_km": 17.2,
            "payment": ["cash", "venmo"]}  # fmt: skip
    events = [
        {"kind": "handover_ready", "deal_id": "ab" * 16},
        {"kind": "handover_proposed", "from": "them", **base},
        {"kind": "handover_proposed", "from": "me", **base},
        {"kind": "handover_confirmed", **base, "payment": "cash"},
        {"kind": "handover_closed", "mine": True, "reason": "expired"},
        {"kind": "handover_ended", "reason": "cancelled_by_them"},
        {"kind": "handover_refused", "detail": "the meeting time is in the past"},
    ]
    texts = [notify.render(e, lang) for e in events]
    titles = {notify.title(e, lang) for e in events}
    for text in texts:
        assert text and "{" not in text and "}" not in text
    assert len(titles) == 6
    assert notify.safety_tips(lang)[0] in texts[3]
    assert ("efectivo" if lang == "es" else notify.catalog(lang).get("payments", "cash") or "") in texts[1]
