"""Agent hygiene (issue 10, item 5): what other agents send can't crash, flood or poison the agent.

Real agents in one process (``tests.agent_helpers``: the production ``Agent`` over real DHT drivers on
memory transports). Each test is a regression test of one finding:

* a match whose record was pushed out of the 50k FIFO raised ``LocalProtocolError`` out of the watcher
  (and ``Agent.run``: the daemon exited) — now the record travels with the match, the cache is
  bounded and a full cache never stops the watcher;
* INTENT_MATCH notices were neither rate-limited nor checked before their record was kept — now a
  token bucket per peer (and for all peers) comes first, replayed, forged, mis-addressed or
  non-inverse notices are refused, and a notice that does not match by our own judgement leaves
  nothing behind;
* the local index was keyed by intent id alone: an author copying another's id with a higher seq
  replaced the honest intent (and its match id collided) — now each author's intent has its own index
  id and match id;
* the matches and deals tables grew forever — now they are bounded and pruned.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import trio

from metaspace.api.contract import validate_publish
from metaspace.peer.agent import MATCH_PROTOCOL
from metaspace.peer.db import AgentDB, AgreementRow, DealRow, MatchRow
from metaspace.peer.notices import NOTICE_BURST_PER_PEER, NOTICE_MAX_AGE_S
from metaspace.peer.remote import RemoteIntents
from p2p.framing import rpc
from p2p.host import P2PError
from tests.agent_helpers import AgentPeer, agents, buy_tires, sell_tires
from wire.envelope import open_intent, seal, seal_intent
from wire.identity import Identity
from wire.intent import Action
from wire.messages import IntentMatch

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn)


async def _notice(sender: AgentPeer, receiver_intent: bytes, *, record: bytes | None = None,
                  sent: float | None = None, signer: Identity | None = None) -> bytes:  # fmt: skip
    """Send one INTENT_MATCH from ``sender`` naming its first intent and ``receiver_intent``; the reply."""
    own = record if record is not None else sender.agent.db.intents()[0][1]
    _env, intent = open_intent(own)
    notice = IntentMatch(
        my_intent=intent.id, your_intent=receiver_intent, record=own, score_milli=1000,
        sent=int(sent if sent is not None else sender.agent.now()),
    )  # fmt: skip
    data = seal(signer or sender.identity, notice).raw
    return bytes(await rpc(sender.transport, _target(sender), MATCH_PROTOCOL, data, timeout=10.0))


_TARGETS: dict[str, str] = {}


def _target(sender: AgentPeer) -> str:
    return _TARGETS[sender.identity.peer_id]


def test_a_full_remote_cache_never_stops_the_watcher(tmp_path: Path) -> None:
    """On main a match whose record left the FIFO raised LocalProtocolError out of ``watch_once``."""

    async def main() -> None:
        async with agents(tmp_path, 4, remote={3: RemoteIntents(max_intents=1)}) as peers:
            for seller in peers[:3]:
                await seller.agent.publish(sell_tires())
            buyer = peers[3].agent
            await buyer.publish(buy_tires())
            for _ in range(3):
                await buyer.watch_once()
            assert buyer.stats["match_errors"] == 0 and buyer.stats["watch_errors"] == 0
            assert len(buyer.remote) == 1 and len(buyer.index) == 1, "the index holds what the cache holds"
            assert len(buyer.db.matches()) >= 1

    run(main)


def test_intent_match_is_rate_limited_per_peer(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 3) as peers:
            seller, buyer, other = peers
            mine = await seller.agent.publish(sell_tires())
            await buyer.agent.publish(buy_tires())
            await other.agent.publish(buy_tires())
            _TARGETS[buyer.identity.peer_id] = _TARGETS[other.identity.peer_id] = seller.identity.peer_id
            burst = int(NOTICE_BURST_PER_PEER)
            replies = [await _notice(buyer, bytes.fromhex(mine["id"])) for _ in range(burst + 5)]
            assert replies[0] == b"ok"
            assert replies[-5:] == [b"rate_limited"] * 5
            assert seller.agent.stats["notices_rate_limited"] == 5
            assert await _notice(other, bytes.fromhex(mine["id"])) == b"ok", "other peers are still served"
            assert len(seller.agent.db.matches()) == 2

    run(main)


def test_intent_match_is_verified_before_anything_is_kept(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 3) as peers:
            seller, buyer, bike_buyer = peers
            mine = bytes.fromhex((await seller.agent.publish(sell_tires()))["id"])
            await buyer.agent.publish(buy_tires())
            await bike_buyer.agent.publish(
                validate_publish({"action": "BUY", "category": "vehicles/bicycles", "lat": 41.66,
                                  "lon": -87.7, "radius_km": 50, "text": "looking for a mountain bike"})
            )  # fmt: skip
            for p in (buyer, bike_buyer):
                _TARGETS[p.identity.peer_id] = seller.identity.peer_id
            s = seller.agent
            now = buyer.agent.now()

            async def refused(**kw: object) -> None:
                with pytest.raises(P2PError):  # the handler refused it: the stream is reset
                    await _notice(buyer, mine, **kw)  # type: ignore[arg-type]

            await refused(sent=now - NOTICE_MAX_AGE_S - 60)  # a replayed notice
            await refused(sent=now + NOTICE_MAX_AGE_S + 60)
            await refused(signer=Identity(os.urandom(32)))  # signed by someone else than the stream's peer
            await refused(record=seller.agent.db.intents()[0][1])  # not the sender's own intent
            _env, theirs = open_intent(buyer.agent.db.intents()[0][1])
            future = replace(theirs, id=os.urandom(16), created=int(now) + 3600, expires=int(now) + 7200)
            await refused(record=seal_intent(buyer.identity, future))  # created in the future
            same_side = replace(theirs, id=os.urandom(16), action=Action.SELL)
            await refused(record=seal_intent(buyer.identity, same_side))  # not the inverse of ours
            assert await _notice(buyer, os.urandom(16)) == b"unknown"  # names none of our intents
            assert s.stats["notices_refused"] == 6
            # valid and signed, but a bicycle: our own ranking says no, and nothing of it is kept
            assert await _notice(bike_buyer, mine) in (b"no-match", b"unknown")
            assert len(s.remote) == 0 and len(s.index) == 0 and s.db.matches() == []
            assert await _notice(buyer, mine) == b"ok"
            assert len(s.remote) == 1 and [m.other_author for m in s.db.matches()] == [buyer.identity.peer_id]

    run(main)


def test_an_author_copying_another_intent_id_cannot_shadow_it(tmp_path: Path) -> None:
    """On main the index was keyed by intent id: a copied id with a higher seq replaced the honest intent."""

    async def main() -> None:
        async with agents(tmp_path, 3) as peers:
            honest, mallory, buyer = peers
            view = await honest.agent.publish(sell_tires())
            _env, real = open_intent(honest.agent.db.intents()[0][1])
            fake = replace(real, author=mallory.identity.pubkey, seq=2**40)
            await mallory.driver.publish(seal_intent(mallory.identity, fake))
            await buyer.agent.publish(buy_tires())
            await buyer.agent.watch_once()
            authors = sorted(m.other_author for m in buyer.agent.db.matches())
            assert authors == sorted([honest.identity.peer_id, mallory.identity.peer_id])
            assert buyer.agent.known_record(real.author, real.id) == honest.agent.db.intent_record(view["id"])
            assert len(buyer.agent.index) == 2

    run(main)


# ------------------------------------------------------------------------------------ bounded tables


def _match(i: int, intent: str, score: float, *, state: str = "new", other_expires: float = 2e9) -> MatchRow:
    return MatchRow(f"m{i}", intent, b"rec", "peer", score, 1.0, {}, state, False, 1.0, other_expires)


def test_matches_per_intent_are_bounded_keeping_the_best(tmp_path: Path) -> None:
    db = AgentDB(tmp_path / "a.sqlite")
    for i, score in enumerate((0.5, 0.6, 0.7)):
        assert db.save_match(_match(i, "i1", score), max_per_intent=3)
    assert not db.save_match(_match(3, "i1", 0.4), max_per_intent=3), "weaker than all: not stored"
    assert db.save_match(_match(4, "i1", 0.9), max_per_intent=3), "stronger: replaces the weakest new one"
    assert sorted(m.id for m in db.matches("i1")) == ["m1", "m2", "m4"]
    db.update_match("m1", state="negotiating")
    db.update_match("m2", state="agreed")
    db.update_match("m4", state="negotiating")
    assert not db.save_match(_match(5, "i1", 0.99), max_per_intent=3), "matches with deals are kept"
    assert db.save_match(_match(6, "i2", 0.1), max_per_intent=3), "per intent"
    assert not db.save_match(_match(6, "i2", 0.1), max_per_intent=3), "known id"
    db.close()


def test_old_matches_and_failed_deals_are_pruned_agreements_never(tmp_path: Path) -> None:
    db = AgentDB(tmp_path / "a.sqlite")
    now = 2_000_000_000.0
    day = 86400.0
    db.save_match(_match(1, "i1", 0.5, other_expires=now - 40 * day))
    db.save_match(_match(2, "i1", 0.5, other_expires=now - 40 * day, state="agreed"))
    db.save_match(_match(3, "i1", 0.5, other_expires=now - 1 * day))
    for i, (state, age) in enumerate(
        [("FAILED", 40), ("FAILED", 1), ("FAILED", 2), ("FAILED", 3), ("AGREED", 400), ("IN_DOUBT", 400)]
    ):
        updated = now - age * day
        db.create_deal(DealRow(f"d{i}", None, "buyer", "p", state, {}, updated, updated))
    db.add_agreement(AgreementRow("d4", b"agreement", b"b", b"s", now))
    pruned = db.prune(now, max_failed=2)
    assert pruned == {"matches_pruned": 1, "deals_pruned": 2}
    assert sorted(m.id for m in db.matches()) == ["m2", "m3"]
    assert sorted(d.id for d in db.deals()) == ["d1", "d2", "d4", "d5"]
    assert db.agreement("d4") is not None
    db.close()


def test_remote_intents_are_bounded_expire_and_keep_authors_apart() -> None:
    from tests.net_helpers.raw import make_intent

    a, b = Identity(b"\x01" * 32), Identity(b"\x02" * 32)
    now = 1_800_000_000.0
    cache = RemoteIntents(max_intents=2)
    x = make_intent(a, now)
    y = replace(x, author=b.pubkey)  # same id, another author
    hx, _ = cache.put(x, seal_intent(a, x), now)
    hy, _ = cache.put(y, seal_intent(b, y), now)
    assert hx is not None and hy is not None and hx.index_id != hy.index_id and len(cache) == 2
    z = replace(x, id=os.urandom(16))
    _hz, dropped = cache.put(z, seal_intent(a, z), now)
    assert dropped == [hx.index_id] and cache.get(a.pubkey, x.id) is None, "oldest out first"
    newer = replace(y, seq=y.seq + 1)
    held, dropped = cache.put(newer, seal_intent(b, newer), now)
    assert held is not None and held.intent.seq == y.seq + 1 and dropped == []
    assert cache.put(y, seal_intent(b, y), now)[0] is held, "an older seq changes nothing"
    gone = replace(newer, seq=newer.seq + 1, withdrawn=True)
    assert cache.put(gone, seal_intent(b, gone), now) == (None, [hy.index_id])
    assert cache.expire(x.expires + 1) == [_hz.index_id] and len(cache) == 0  # type: ignore[union-attr]


def test_an_error_in_one_match_is_counted_and_the_others_go_on(tmp_path: Path) -> None:
    """On main any error while recording a match (here the database refusing one write) left
    ``watch_once`` — and ``Agent.run``: the daemon."""

    async def main() -> None:
        async with agents(tmp_path, 3) as peers:
            for seller in peers[:2]:
                await seller.agent.publish(sell_tires())
            buyer = peers[2].agent
            await buyer.publish(buy_tires())
            real_save = buyer.db.save_match
            calls = []

            def flaky(row: MatchRow, *args: object, **kw: object) -> bool:
                calls.append(row.id)
                if len(calls) == 1:
                    raise sqlite3.OperationalError("database is locked")
                return real_save(row)

            buyer.db.save_match = flaky  # type: ignore[method-assign]
            assert await buyer.watch_once() == 1
            assert buyer.stats["match_errors"] == 1 and len(buyer.db.matches()) == 1
            assert await buyer.watch_once() == 1, "the failed one is found again next time"
            assert len(buyer.db.matches()) == 2

    run(main)


def test_expired_remote_intents_leave_the_index(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 2) as peers:
            await peers[0].agent.publish(sell_tires(expires_in_s=3600))
            buyer = peers[1].agent
            await buyer.publish(buy_tires())
            await buyer.watch_once()
            assert len(buyer.remote) == 1 and len(buyer.index) == 1
            assert await buyer.matcher.expire(buyer.now() + 3601) == 1
            assert len(buyer.remote) == 0 and len(buyer.index) == 0
            report = await buyer.housekeeping()
            assert report["remote_expired"] == 0 and "matches_pruned" in report

    run(main)
