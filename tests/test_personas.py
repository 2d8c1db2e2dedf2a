"""``share: nothing`` enforced (issue 10, item 1): intents that can't be linked to each other or to the agent.

On main ``share: nothing`` was stored and ignored: every intent was signed by the agent's key (its DHT
node's peer id) and carried the human's free text. Now each intent of such an agent has a persona — a key
derived from the identity and the intent id, and a host of its own named by the intent's ``contact`` —
and no free text. Real agents in one process (``tests.agent_helpers``, memory transports):

* two intents of one agent have two authors, neither the agent's key, and two contacts;
* counterparts still find, match, announce and negotiate: the co-signed agreement names the persona;
* a host answers only for the intents it speaks for: asking the agent's own host (or another persona)
  about a persona's intent gets exactly the answer a random intent id gets.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trio

from metaspace.peer.agent import MATCH_PROTOCOL
from metaspace.peer.personas import persona_identity
from negotiation import verify_agreement
from p2p.framing import rpc
from tests.agent_helpers import AgentPeer, agents, buy_tires, sell_tires, usd
from wire.envelope import open_intent, seal
from wire.identity import pubkey_to_text
from wire.messages import IntentMatch

NOTHING = {"share": "nothing"}


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn)


async def _poll(cond: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    with trio.fail_after(timeout):
        while not cond():
            await trio.sleep(0.05)


def test_each_intent_has_its_own_unlinkable_key_and_host(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 1, configs={0: NOTHING}) as peers:
            a = peers[0].agent
            first = await a.publish(
                sell_tires(text="4 used tires 225/65R17, at least $55 each", limit=usd(5500))
            )
            second = await a.publish(sell_tires(text="winter tires 205/55R16"))
            records = [a.db.intent_record(v["id"]) for v in (first, second)]
            intents = [open_intent(r)[1] for r in records if r is not None]
            authors = {i.author for i in intents}
            assert len(authors) == 2 and a.identity.pubkey not in authors
            assert [i.author for i in intents] == [
                persona_identity(a.identity, i.id).pubkey for i in intents
            ], "derived from the identity: the agent finds its personas again after a restart"
            assert all(i.text is None and i.lang is None for i in intents), "no free text"
            contacts = [tuple(i.contact or ()) for i in intents]
            assert (
                all(contacts)
                and len(set(contacts)) == 2
                and peers[0].transport.listen_addrs()[0] not in {c[0] for c in contacts}
            )
            assert len(a.personas or ()) == 2
            withdrawn = await a.withdraw(first["id"])
            assert withdrawn["withdrawn"] and withdrawn["author"] == pubkey_to_text(intents[0].author)
            stats = await a.housekeeping()
            assert stats["personas_stopped"] == 1 and len(a.personas or ()) == 1

    run(main)


async def _notice(sender: AgentPeer, to: str, your_intent: bytes) -> bytes:
    own = sender.agent.db.intents()[0][1]
    _env, intent = open_intent(own)
    notice = IntentMatch(intent.id, your_intent, own, 900, int(sender.agent.now()))
    data = seal(sender.identity, notice).raw
    return bytes(await rpc(sender.transport, to, MATCH_PROTOCOL, data, timeout=10.0))


def test_only_the_intents_own_host_answers_for_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with agents(tmp_path, 2, configs={0: NOTHING}) as peers:
            a, b = peers
            one = bytes.fromhex((await a.agent.publish(sell_tires()))["id"])
            two = bytes.fromhex((await a.agent.publish(sell_tires(text="more tires 225/65R17")))["id"])
            await b.agent.publish(buy_tires())
            persona_one = persona_identity(a.identity, one).peer_id
            # the agent's own host, and the other persona, answer as for an intent that does not exist
            assert await _notice(b, a.identity.peer_id, one) == b"unknown"
            assert await _notice(b, a.identity.peer_id, os.urandom(16)) == b"unknown"
            assert await _notice(b, persona_one, two) == b"unknown"
            assert a.agent.db.matches() == []
            assert await _notice(b, persona_one, one) == b"ok"
            assert [m.intent_id for m in a.agent.db.matches()] == [one.hex()]

    run(main)


@pytest.mark.parametrize("private_side", ["seller", "both"])
def test_personas_find_each_other_and_close_a_deal(tmp_path: Path, private_side: str) -> None:
    async def main() -> None:
        configs = {0: NOTHING, 1: NOTHING if private_side == "both" else {}}
        async with agents(tmp_path, 2, configs=configs, dealers=True) as peers:
            seller, buyer = peers
            sold = await seller.agent.publish(sell_tires(limit=usd(5500)))
            wanted = await buyer.agent.publish(buy_tires(limit=usd(7000)))
            await buyer.agent.watch_once()
            await seller.agent.watch_once()

            def agreed(p: AgentPeer) -> object:
                return [d for d in p.agent.db.deals() if d.state == "AGREED" and p.agent.db.agreement(d.id)]

            await _poll(lambda: agreed(buyer) and agreed(seller), "the agreement on both sides")
            row = seller.agent.db.agreement(agreed(seller)[0].id)  # type: ignore[index]
            assert row is not None and row.buyer_signature and row.seller_signature
            deal = verify_agreement(row.agreement, row.buyer_signature, row.seller_signature)
            assert deal.seller == persona_identity(seller.identity, bytes.fromhex(sold["id"])).pubkey
            assert deal.seller != seller.identity.pubkey
            if private_side == "both":
                assert deal.buyer == persona_identity(buyer.identity, bytes.fromhex(wanted["id"])).pubkey
            else:
                assert deal.buyer == buyer.identity.pubkey

    run(main)
