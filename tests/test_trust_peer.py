"""Ratings, profiles and reputation lookups in the agent, in process (real databases, sessions, record
store and stream protocol; trio's MockClock).

Two agents negotiate to a co-signed agreement, then rate each other: each rating is stored under the
rated agent's key in the record store, pushed to it (its human is told), and counted when the other side
looks it up; a second rating, a rating of a deal without an agreement, and a rating by a third agent
are refused with a reason and nothing is stored.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from dht.keys import profile_key, reputation_key
from metaspace.api.contract import BadRequest, Conflict, NotFound
from metaspace.config import AgentConfig
from metaspace.peer.db import DealRow
from metaspace.peer.profiles import profile_for
from metaspace.peer.reputations import TRUST_PROTOCOL
from p2p.framing import rpc
from tests.trust_helpers import trading_pair
from wire.envelope import seal
from wire.messages import Autonomy, ReputationShare
from wire.records import open_profile, open_rating, seal_rating


def run(main: Any) -> None:
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def test_two_agents_rate_each_other_and_see_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path)
            seller, buyer, deal = p["seller"], p["buyer"], p["deal"]
            before = await buyer.reputations.reputation(seller.peer_id)
            assert before["reputation"]["score"] == 50.0 and before["ratings"] == []

            made = await buyer.reputations.rate(deal, 5, True, "smooth pickup")
            assert made["published"] and made["delivered"] and made["score"] == 5
            records = p["store"].get(reputation_key(seller.identity.pubkey), buyer.now())[0]
            assert len(records) == 1 and open_rating(records[0])[1].comment == "smooth pickup"
            told = [e for e in seller.bus.history if e["kind"] == "rating_received"]
            assert len(told) == 1 and told[0]["stars"] == 5 and told[0]["peer"] == buyer.peer_id

            await seller.reputations.rate(deal, 4, False, "paid late")
            seen_by_buyer = await buyer.reputations.reputation(seller.peer_id)
            seen_by_seller = await seller.reputations.reputation(buyer.peer_id)
            # the observer's own deal counts fully: one 5-star deal moves a new agent from 50 to ~67
            assert seen_by_buyer["reputation"]["score"] == pytest.approx(66.7, abs=0.2)
            assert seen_by_buyer["reputation"]["ratings"] == 1
            # 4 stars but "did not go as agreed" is worth 0.375: below an unrated agent
            assert seen_by_seller["reputation"]["score"] < 50
            assert seen_by_seller["reputation"]["as_agreed"] == 0
            assert seen_by_seller["ratings"][0]["as_agreed"] is False
            assert seen_by_seller["sources"]["dht"] == 1 and seen_by_seller["sources"]["evidence"] == 1

            # one rating per deal per side, refused with a reason; nothing more stored
            with pytest.raises(Conflict, match="already rated"):
                await buyer.reputations.rate(deal, 1, False, "changed my mind")
            assert len(p["store"].get(reputation_key(seller.identity.pubkey), buyer.now())[0]) == 1
            # both sides list what they made and received
            mine = {(r["mine"], r["score"]) for r in buyer.reputations.my_ratings()}
            assert mine == {(True, 5), (False, 4)}
            # the match and deal views show the counterpart's score once looked up
            info = buyer.reputations.peer_info(seller.peer_id)
            assert info["score"] == seen_by_buyer["reputation"]["score"]
            nursery.cancel_scope.cancel()

    run(main)


def test_only_a_co_signed_deal_can_be_rated(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path)
            buyer, store = p["buyer"], p["store"]
            with pytest.raises(NotFound, match="no deal"):
                await buyer.reputations.rate("ab" * 16, 5, True, "")
            now = buyer.now()
            failed = DealRow("cd" * 16, None, "buyer", p["seller"].peer_id, "FAILED", {}, now, now)
            buyer.db.create_deal(failed)
            with pytest.raises(Conflict, match="no co-signed agreement"):
                await buyer.reputations.rate(failed.id, 5, True, "")
            with pytest.raises(BadRequest, match="control"):
                await buyer.reputations.rate(p["deal"], 5, True, "two\nlines")
            assert store.get(reputation_key(p["seller"].identity.pubkey), buyer.now())[0] == []
            assert buyer.reputations.my_ratings() == []
            nursery.cancel_scope.cancel()

    run(main)


def test_pushed_ratings_are_checked_and_a_third_agent_cannot_rate(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path)
            seller, buyer = p["seller"], p["buyer"]
            await buyer.reputations.rate(p["deal"], 5, True, "")
            genuine = open_rating(buyer.reputations.db.ratings_by(buyer.peer_id)[0].record)[1]
            # the seller pushes a rating of *itself* signed by itself: refused (the stream is reset)
            forged = dataclasses.replace(genuine, comment="I am great")
            env = seal(seller.identity, forged)  # seal_rating would refuse it: it checks like a node
            with pytest.raises(Exception):  # noqa: B017 - the server resets the stream
                await rpc(buyer.host, seller.peer_id, TRUST_PROTOCOL, env.raw)
            with pytest.raises(Exception):  # noqa: B017
                await rpc(seller.host, buyer.peer_id, TRUST_PROTOCOL, env.raw)
            assert len([e for e in seller.bus.history if e["kind"] == "rating_received"]) == 1
            # a renewal (higher seq) of the same rating replaces it, and is no new notification
            renewed = dataclasses.replace(genuine, seq=genuine.seq + 1)
            record = seal_rating(buyer.identity, renewed)
            reply = await rpc(buyer.host, seller.peer_id, TRUST_PROTOCOL, record)
            assert reply == b"ok"
            assert seller.reputations.db.ratings_about(seller.peer_id)[0].seq == 2
            assert len([e for e in seller.bus.history if e["kind"] == "rating_received"]) == 1
            nursery.cancel_scope.cancel()

    run(main)


def test_ratings_are_renewed_before_they_expire(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path)
            buyer, store = p["buyer"], p["store"]
            await buyer.reputations.rate(p["deal"], 5, True, "")
            key = reputation_key(p["seller"].identity.pubkey)
            await trio.sleep(6 * 24 * 3600)  # the renew loop runs hourly; the record lasts 7 days
            records = store.get(key, buyer.now())[0]
            assert len(records) == 1 and open_rating(records[0])[1].seq >= 2
            await trio.sleep(10 * 24 * 3600)
            assert len(store.get(key, buyer.now())[0]) == 1  # still there after the first expiry
            nursery.cancel_scope.cancel()

    run(main)


def test_profiles_say_what_share_allows(tmp_path: Path) -> None:
    base = {"peer_id": "x", "owner": "ana", "language": "es", "autonomy": "ask_big"}
    cats = ["vehicles/tires", "home/furniture"]
    protocols = ["/metaspace/trust/1.0.0"]

    def prof(share: str) -> Any:
        return profile_for(AgentConfig(share=share, **base), cats, protocols, 1_700_000_000, 1)  # type: ignore[arg-type]

    nothing, basic, detailed = prof("nothing"), prof("basic"), prof("detailed")
    assert (nothing.handle, nothing.languages, nothing.categories, nothing.autonomy) == (None, [], [], None)
    assert nothing.protocols == protocols
    assert (basic.handle, basic.languages, basic.categories, basic.autonomy) == (
        "@ana/agent", ["es"], ["home/*", "vehicles/*"], None,
    )  # fmt: skip
    assert detailed.categories == sorted(cats) and detailed.autonomy is Autonomy.ASKS_BIG

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path, share="basic", owner="ana")
            seller, buyer = p["seller"], p["buyer"]
            records = p["store"].get(profile_key(seller.identity.pubkey), seller.now())[0]
            assert len(records) == 1
            env, published = open_profile(records[0])
            assert env.author == seller.identity.pubkey and published.handle == "@ana/agent"
            assert published.categories == ["vehicles/*"]
            assert TRUST_PROTOCOL in published.protocols
            seen = await buyer.reputations.reputation(seller.peer_id)
            assert seen["handle"] == "@ana/agent" and seen["profile"]["languages"] == ["en"]
            nursery.cancel_scope.cancel()

    run(main)


def test_a_rating_record_is_what_every_storing_node_checks(tmp_path: Path) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            p = await trading_pair(nursery, tmp_path)
            buyer = p["buyer"]
            made = await buyer.reputations.rate(p["deal"], 3, True, "ok")
            record = buyer.reputations.db.ratings_by(buyer.peer_id)[0].record
            env, share = open_rating(record)
            assert isinstance(share, ReputationShare) and share.deal.hex() == made["deal_id"] == p["deal"]
            assert env.author == buyer.identity.pubkey and share.subject == p["seller"].identity.pubkey
            nursery.cancel_scope.cancel()

    run(main)


def test_the_profile_is_published_again_until_it_reaches_a_node(tmp_path: Path) -> None:
    from dht import RecordStore
    from metaspace.peer.reputations import RETRY_S, Reputations
    from p2p.host import P2PError
    from tests.deal_helpers import AgentDouble
    from tests.trust_helpers import ProtoNet, StoreDriver

    class Joining(StoreDriver):
        """A peer still joining: its first publishes reach nobody."""

        failures = 2

        async def publish(self, record: bytes) -> Any:
            if self.failures:
                self.failures -= 1
                raise P2PError("no peers yet")
            return await super().publish(record)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            agent = AgentDouble("a", tmp_path / "a.db", ProtoNet(nursery), share="basic", owner="ana")
            store = RecordStore()
            agent.driver = Joining(store, agent.now)  # type: ignore[attr-defined]
            agent.reputations = Reputations(agent, agent.firewall.db, ())  # type: ignore[arg-type]
            await nursery.start(agent.reputations.run)
            key = profile_key(agent.identity.pubkey)
            assert store.get(key, agent.now())[0] == []
            await trio.sleep(2 * RETRY_S + 1)
            assert len(store.get(key, agent.now())[0]) == 1  # not an hour later: within two retries
            nursery.cancel_scope.cancel()

    run(main)
